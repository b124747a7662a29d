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


def _criterion(criterion) -> str:
    if not isinstance(criterion, str) or criterion not in ALL_CRITERIA:
        raise SpecbiasError(f"unknown emergence criterion {V._short(criterion)}; valid: {', '.join(ALL_CRITERIA)}")
    return criterion


def _pair(v0, lam) -> tuple[np.ndarray, np.ndarray]:
    """v₀ and λ: variances > 0 that broadcast together."""
    v0 = V.as_array("initial variance (v0)", v0, positive=True)
    lam = V.variances(lam)
    V.broadcast(v0=v0, lam=lam)
    return v0, lam


def threshold(v0, lam, criterion: str = "geometric"):
    """The crossing level for `criterion`: between v₀ and λ (geometric, harmonic, arithmetic), or the
    near edge of the band λ(1 ± BAND) ("band": λ(1 − BAND) if v₀ < λ, else λ(1 + BAND))."""
    _criterion(criterion)
    v0, lam = _pair(v0, lam)
    if criterion == "geometric":
        return np.sqrt(v0 * lam)
    if criterion == "harmonic":
        return 2.0 / (1.0 / v0 + 1.0 / lam)
    if criterion == "arithmetic":
        return 0.5 * (v0 + lam)
    return lam * np.where(v0 < lam, 1.0 - BAND, 1.0 + BAND)  # "band"


def starts_inside(v0, lam, criterion: str = "geometric") -> np.ndarray:
    """True where the crossing level is already passed at τ = 0 (only possible for "band": v₀ inside
    the band): such a mode never gets a τ* (NaN for good), unlike a mode that has not crossed yet.
    The band is closed, λ(1 − BAND) ≤ v₀ ≤ λ(1 + BAND), with the same products as `threshold`: a v₀
    exactly on the near edge has reached it (|v₀/λ − 1| ≤ BAND never meets the edge in float64)."""
    _criterion(criterion)
    v0, lam = _pair(v0, lam)
    if criterion != "band":
        return np.zeros(np.broadcast(v0, lam).shape, bool)
    return (lam * (1.0 - BAND) <= v0) & (v0 <= lam * (1.0 + BAND))


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


#: elements of the (times, spectrum) grid a coupled architecture without `times_per_mode` evaluates
#: at once while the search reads each mode off at its own times (memory ≈ a few × 8 B × this)
READ_OFF_CHUNK = 1 << 22


def _log_var_rows(arch, lam_rows, q_rows, tau_rows, eta, sigma0, sigmaT, params) -> np.ndarray:
    """ln λ̃ for rows of modes, mode j of row r at each time tau_rows[r, j, t] → (rows, n, times).

    Uncoupled modes are evaluated elementwise; a coupled architecture sees each row's whole spectrum,
    with every mode at its own times in one call (`times_per_mode`: memory linear in n·times) or,
    otherwise, at all n·times requested times, mode j read off at its own times (`_read_off`)."""
    if not arch.coupled:
        return arch.log_generated_variance(lam_rows[..., None], tau_rows, q_rows[..., None], eta,
                                           sigma0, sigmaT, **params)
    if not arch.times_per_mode:
        return _read_off(arch, lam_rows, q_rows, tau_rows, eta, sigma0, sigmaT, params)
    out = np.empty(tau_rows.shape)
    for r in range(tau_rows.shape[0]):  # tau_rows[r].T: (times, n), element [t, j] the time of mode j
        out[r] = arch.log_generated_variance(lam_rows[r][None, :], tau_rows[r].T, q_rows[r][None, :], eta,
                                             sigma0, sigmaT, **params).T
    return out


def _read_off(arch, lam_rows, q_rows, tau_rows, eta, sigma0, sigmaT, params, chunk=None) -> np.ndarray:
    """`_log_var_rows` for a coupled architecture whose τ is one time for the whole spectrum: each
    row's spectrum at the n·times requested times, at most `chunk` (default READ_OFF_CHUNK) grid
    elements per call, and mode j read off at its own times. Memory ≈ chunk, time ∝ n²·times."""
    rows, n, T = tau_rows.shape
    per_call = max(1, (chunk or READ_OFF_CHUNK) // n)
    out = np.empty(tau_rows.shape)
    mode = np.repeat(np.arange(n), T)
    for r in range(rows):
        times, flat = tau_rows[r].reshape(-1, 1), out[r].reshape(-1)
        for a in range(0, n * T, per_call):
            b = min(a + per_call, n * T)
            full = arch.log_generated_variance(lam_rows[r][None, :], times[a:b], q_rows[r][None, :], eta,
                                               sigma0, sigmaT, **params)
            flat[a:b] = full[np.arange(b - a), mode[a:b]]
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


def first_passage(g, shape, tau_range=(1e-8, 1e12), grid: int = 400, bisections: int = 56) -> np.ndarray:
    """First τ with g(τ) ≥ 0 for an array of trajectories: `g` maps times (*shape, T) to signed
    distances (*shape, T); a log-τ scan then `bisections` halvings in ln τ (56: to float64 resolution;
    each halves the bracket of one scan step, ln(τ_range ratio)/grid wide); NaN where there is no crossing."""
    taus = np.geomspace(*tau_range, grid)
    first, found = _first_crossing(g(np.broadcast_to(taus, tuple(shape) + (grid,))))
    hi = np.log(taus[first])
    lo = np.where(first > 0, np.log(taus[np.maximum(first - 1, 0)]), np.log(tau_range[0]) - 40.0)
    for _ in range(int(bisections)):
        mid = 0.5 * (lo + hi)
        up = g(np.exp(mid)[..., None])[..., 0] >= 0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return np.where(found, np.exp(hi), np.nan)


def emergence_from_checkpoints(tau, lam_tilde, v0, lam, criterion: str = "geometric") -> np.ndarray:
    """τ* from sampled checkpoints (last axis of `lam_tilde` ↔ increasing `tau` > 0), by log–log
    interpolation between the two checkpoints that bracket the first crossing; NaN if none. A mode
    already past its threshold at the first checkpoint gets τ* = tau[0], an upper bound: see
    `checkpoint_crossings` for which modes those are.

    τ strictly increasing and 1-D, one column of `lam_tilde` per checkpoint, variances (λ̃, v₀, λ)
    finite and > 0, v₀ broadcasting to λ and λ to λ̃'s modes: anything else is a SpecbiasError (a
    negative variance was read as "never crossed", decreasing τ gave a τ* outside the checkpoints)."""
    return checkpoint_crossings(tau, lam_tilde, v0, lam, criterion)[0]


def checkpoint_crossings(tau, lam_tilde, v0, lam, criterion: str = "geometric") -> tuple:
    """(τ*, censored): `emergence_from_checkpoints`' τ*, and True where the crossing happened before the
    first checkpoint (v₀ short of the threshold, tau[0] already past it). There the crossing lies in
    (0, tau[0]] and τ* = tau[0] is an upper bound, not a measurement: fits must leave such modes out
    (fitted as exact, a run whose modes all cross before the first checkpoint gave α ≈ 0)."""
    tau = V.increasing("checkpoint times (tau)", tau)
    lt = V.as_array("checkpoint variances (lam_tilde)", lam_tilde, positive=True)
    lam = V.variances(lam)
    v0 = V.broadcast_to("v0", V.as_array("initial variance (v0)", v0, positive=True), lam.shape)
    if lt.ndim == 0 or lt.shape[-1] != tau.size:
        raise SpecbiasError(f"lam_tilde must hold one column per checkpoint: its last axis has "
                            f"{lt.shape[-1] if lt.ndim else 0} entries, tau has {tau.size}")
    V.broadcast_to("lam", lam, lt.shape[:-1], "lam_tilde's modes")
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
    return np.where(found, np.exp(t_lo + frac * (t_hi - t_lo)), np.nan), found & (first == 0)
