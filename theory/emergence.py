"""Mode emergence (theory.md §4.1): the first time λ̃_k(τ) crosses a threshold between v₀ and λ_k.

- v₀ is the exact generated variance at τ = 0; the target is the data variance λ_k.
- Thresholds: geometric √(v₀λ) (default), harmonic 2/(1/v₀ + 1/λ), arithmetic (v₀ + λ)/2, and
  "band": entering λ(1 ± 0.2), the first paper's fourth criterion, i.e. the crossing of λ(1 − 0.2) from
  below (increasing modes) or of λ(1 + 0.2) from above (decreasing); a mode whose v₀ already lies in the
  band never enters it (τ* = NaN; it is inside the gray zone v₀/λ ∈ (0.5, 2) anyway).
- Direction: increasing if v₀ < λ, decreasing otherwise.
- Closed forms: exact root finding (a log-τ scan for the first sign change, then bisection in ln τ).
- Sampled checkpoints: log–log interpolation between the two bracketing checkpoints, no smoothing.
"""
from __future__ import annotations

import numpy as np

from . import validate as V
from .errors import SpecbiasError
from .registry import get

CRITERIA = ("geometric", "harmonic", "arithmetic")  # thresholds between v₀ and λ
BAND = 0.2  # half-width of the "band" criterion: entering λ(1 ± BAND)
ALL_CRITERIA = CRITERIA + ("band",)


def threshold(v0, lam, criterion: str = "geometric"):
    """The crossing level for `criterion`: between v₀ and λ (geometric, harmonic, arithmetic), or the
    near edge of the band λ(1 ± BAND) ("band": λ(1 − BAND) if v₀ < λ, else λ(1 + BAND))."""
    v0, lam = np.asarray(v0, dtype=float), np.asarray(lam, dtype=float)
    if criterion == "geometric":
        return np.sqrt(v0 * lam)
    if criterion == "harmonic":
        return 2.0 / (1.0 / v0 + 1.0 / lam)
    if criterion == "arithmetic":
        return 0.5 * (v0 + lam)
    if criterion == "band":
        return lam * np.where(v0 < lam, 1.0 - BAND, 1.0 + BAND)
    raise SpecbiasError(f"unknown emergence criterion {criterion!r}; valid: {', '.join(ALL_CRITERIA)}")


def starts_inside(v0, lam, criterion: str = "geometric") -> np.ndarray:
    """True where the crossing level is already passed at τ = 0 (only possible for "band": v₀ inside
    the band): such a mode never gets a τ* (NaN for good), unlike a mode that has not crossed yet."""
    if criterion != "band":
        return np.zeros(np.broadcast(v0, lam).shape, bool)
    return np.abs(np.asarray(v0, float) / np.asarray(lam, float) - 1.0) <= BAND


def _first_crossing(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first column with g ≥ 0 per row, and whether there is one."""
    hit = g >= 0
    found = hit.any(axis=-1)
    return np.argmax(hit, axis=-1), found


def _scan_options(arch, tau_range, grid) -> tuple:
    """(τ_min, τ_max) with 0 < τ_min < τ_max inside the architecture's τ range, and grid ≥ 2 points."""
    tau_range = V.interval("tau_range", tau_range)
    arch.check_domain(tau=np.array(tau_range))
    return tau_range, V.count("grid", grid, lo=2, hi=100_000)


def _log_var_rows(arch, lam_rows, q_rows, tau_rows, eta, sigma0, sigmaT, params) -> np.ndarray:
    """ln λ̃ for rows of modes, mode j of row r at each time tau_rows[r, j, t] → (rows, n, times).

    Uncoupled modes are evaluated elementwise; a coupled architecture sees each row's whole
    spectrum at all n·times requested times in one call, and mode j is read off at its own times."""
    if not arch.coupled:
        return arch.log_generated_variance(lam_rows[..., None], tau_rows, q_rows[..., None], eta,
                                           sigma0, sigmaT, **params)
    rows, n, T = tau_rows.shape
    out = np.empty(tau_rows.shape)
    mode = np.repeat(np.arange(n), T)
    for r in range(rows):
        full = arch.log_generated_variance(lam_rows[r][None, :], tau_rows[r].reshape(-1, 1),
                                           q_rows[r][None, :], eta, sigma0, sigmaT, **params)
        out[r] = full[np.arange(n * T), mode].reshape(n, T)
    return out


def emergence_time(arch, lam, criterion: str = "geometric", Q=0.1, eta=1.0, sigma0=0.002,
                   sigmaT=80.0, tau_range=(1e-8, 1e12), grid: int = 400, **params) -> np.ndarray:
    """τ*_k: the first exact crossing of the threshold by λ̃_k(τ); NaN where it never crosses.

    The scan uses `grid` log-spaced times over `tau_range`, then 56 bisections in ln τ; a double
    crossing inside one grid cell (a factor (τ_max/τ_min)^(1/grid) ≈ 1.12 wide by default) would be
    missed. For a coupled architecture the last axis of `lam` is one whole spectrum.
    """
    arch = get(arch)
    threshold(1.0, 2.0, criterion)  # refuses an unknown criterion before any work
    tau_range, grid = _scan_options(arch, tau_range, grid)
    lam = np.atleast_1d(V.variances(lam))
    Qb = V.broadcast_to("Q", arch.check_Q(Q), lam.shape)
    v0 = np.broadcast_to(arch.initial_variance(Qb, sigma0, sigmaT), lam.shape)
    width = lam.shape[-1] if arch.coupled else 1
    lam_r, q_r = lam.reshape(-1, width), Qb.reshape(-1, width)
    sign = np.where(v0 < lam, 1.0, -1.0).reshape(lam_r.shape)
    log_thr = np.log(threshold(v0, lam, criterion)).reshape(lam_r.shape)

    def g(tau):  # (rows, width, times) → signed distance past the threshold
        lv = _log_var_rows(arch, lam_r, q_r, tau, eta, sigma0, sigmaT, params)
        return sign[..., None] * (lv - log_thr[..., None])

    out = first_passage(g, lam_r.shape, tau_range, grid).reshape(lam.shape)
    return np.where(starts_inside(v0, lam, criterion), np.nan, out)


def first_passage(g, shape, tau_range=(1e-8, 1e12), grid: int = 400) -> np.ndarray:
    """First τ with g(τ) ≥ 0 for an array of trajectories: `g` maps times (*shape, T) to signed
    distances (*shape, T); a log-τ scan then 56 bisections in ln τ; NaN where there is no crossing."""
    taus = np.geomspace(*tau_range, grid)
    first, found = _first_crossing(g(np.broadcast_to(taus, tuple(shape) + (grid,))))
    hi = np.log(taus[first])
    lo = np.where(first > 0, np.log(taus[np.maximum(first - 1, 0)]), np.log(tau_range[0]) - 40.0)
    for _ in range(56):
        mid = 0.5 * (lo + hi)
        up = g(np.exp(mid)[..., None])[..., 0] >= 0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return np.where(found, np.exp(hi), np.nan)


def emergence_from_checkpoints(tau, lam_tilde, v0, lam, criterion: str = "geometric") -> np.ndarray:
    """τ* from sampled checkpoints (last axis of `lam_tilde` ↔ increasing `tau` > 0), by log–log
    interpolation between the two checkpoints that bracket the first crossing; NaN if none."""
    tau = V.as_array("checkpoint times", tau, positive=True)
    lt = np.asarray(lam_tilde, dtype=float)
    lam = np.asarray(lam, dtype=float)
    v0 = np.broadcast_to(np.asarray(v0, dtype=float), lam.shape)
    sign = np.where(v0 < lam, 1.0, -1.0)[..., None]
    log_thr = np.log(threshold(v0, lam, criterion))
    g = sign * (np.log(lt) - log_thr[..., None])
    first, found = _first_crossing(g)
    g_prev0 = sign[..., 0] * (np.log(v0) - log_thr)
    g_hi = np.take_along_axis(g, first[..., None], -1)[..., 0]
    g_lo = np.where(first > 0, np.take_along_axis(g, np.maximum(first - 1, 0)[..., None], -1)[..., 0],
                    g_prev0)
    t_hi = np.log(tau[first])
    t_lo = np.where(first > 0, np.log(tau[np.maximum(first - 1, 0)]), t_hi)
    frac = np.where(g_hi != g_lo, -g_lo / np.where(g_hi != g_lo, g_hi - g_lo, 1.0), 1.0)
    found = found & ~starts_inside(v0, lam, criterion)
    return np.where(found, np.exp(t_lo + frac * (t_hi - t_lo)), np.nan)
