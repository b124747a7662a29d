"""Sampling-time measurements for finite-sample linear denoisers (theory.md §5.3–5.4).

- `fixation(denoiser, U, ...)`: the noise level at which each mode is fixed, measured along real EDM Heun
  trajectories of the PF-ODE: the running clean estimate x̂₀ = D(x; σ_i) is recorded at every level, its
  RMS along each basis vector u_k (over the sampled trajectories) is compared with its value at the last
  level, and the first σ² (from σ_T down) where the ratio reaches r is located by interpolation in ln σ².
  Works for any denoiser callable D(x, σ) (x [..., n, d]); the theory is `theory.spiked.chains.fixation_noise`.
- `learned_chains(W_of, U, S2, T)`: the three reverse chains of §5.4 built from per-level LEARNED matrices
  W(s) (finite-sample Wiener filters, least-squares denoisers, a trained run's weights): R1 uses the
  one-step MMSE written through the denoiser, (Σ + s²_{t−1})(Σ + s_t²)⁻¹ = I − (1 − s²_{t−1}/s_t²)(I − W_t),
  exact for Wiener filters; R2 is Π W_t; the PF-ODE is Heun on the same levels. Products are formed by
  `measure.ordered_product` with normalisation (log scale carried), so T can be long; R2's per-mode
  log G_i = Σ_t log u_iᵀ W_t u_i is summed per step (exact in a basis that diagonalises the W_t, such
  as Ŝ's eigenvectors for its Wiener filters), its collapse measured on the matrix product itself.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from numerics import budget
from numerics.measure import edm_schedule, heun, ordered_product
from theory import validate as V
from theory.errors import SpecbiasError
from theory.spiked import chains as CH


def wiener_denoiser(S: np.ndarray, dtype=torch.float64, device="cpu"):
    """D(x, σ) = x Wᵀ with W = S(S + σ²I)⁻¹ (the empirical Wiener filter of a covariance S)."""
    St = torch.as_tensor(np.asarray(S, dtype=float), dtype=dtype, device=device)
    eye = torch.eye(St.shape[0], dtype=dtype, device=device)

    def D(x, sigma):
        W = torch.linalg.solve(St + sigma**2 * eye, St)  # (S + σ²)⁻¹S = Wᵀ
        return x @ W
    return D


#: the widest σ² bracket (hi/lo) around a fixation crossing that counts as resolved: at the default 256
#: Heun steps (ρ = 7, σ 80 → 0.002) consecutive levels differ by ≤ 1.2× in σ²
RESOLVE_FACTOR = 2.0


@dataclass
class Fixation:
    """Measured fixation noise variance per basis vector, with the levels and the recorded ratios."""

    s2_fix: np.ndarray  # [k]
    sigmas: np.ndarray  # [levels]
    ratio: np.ndarray  # [levels, k] RMS x̂₀ along u_k relative to the last level
    r: float
    #: [2, k] σ² of the two levels that bracket each crossing (lo, hi): (σ_T², inf) where the ratio had
    #: reached r at the first level already, NaN where it never does
    bracket: np.ndarray = None
    #: [k] True where r was reached at σ_T² already: s2_fix = σ_T² is a clamp, the level is ≥ σ_T²
    clamped: np.ndarray = None

    def resolved(self, factor: float = RESOLVE_FACTOR) -> np.ndarray:
        """[k] True where the crossing is measured: not clamped, and its bracketing levels within
        `factor` in σ² (too few Heun steps leave levels so far apart that the interpolated s2_fix is
        not a measurement: 1 step brackets every mode by σ_T² and σ_0²)."""
        lo, hi = self.bracket
        with np.errstate(invalid="ignore", divide="ignore"):
            return ~self.clamped & np.isfinite(hi) & (hi / lo <= factor)


def fixation(denoiser, U, *, r: float = CH.FIX_FRACTION, steps: int = 256, n_samples: int = 256,
             sigma0: float = 0.002, sigmaT: float = 80.0, seed: int = 0, dtype=torch.float64) -> Fixation:
    """Fixation noise σ_k² of each column u_k of U along Heun trajectories (see the module docstring)."""
    if not callable(denoiser):
        raise SpecbiasError(f"denoiser must be a callable D(x, sigma), got {type(denoiser).__name__}")
    r = V.scalar("fixation fraction r", r, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    steps, n_samples = V.count("steps", steps, hi=10**6), V.count("n_samples", n_samples, hi=10**8)
    sigma0, sigmaT, seed = *V.sampling_range(sigma0, sigmaT), V.seed(seed)
    if not isinstance(dtype, torch.dtype) or dtype not in (torch.float32, torch.float64):
        raise SpecbiasError(f"dtype must be torch.float32 or torch.float64 (got {dtype!r})")
    U = V.as_array("basis (U)", U)
    if U.ndim != 2:
        raise SpecbiasError(f"basis (U) must be a (d, k) matrix of column vectors, got shape {U.shape}")
    budget.check_memory(f"fixation on {n_samples:,} samples of dimension {U.shape[0]:,}",
                        8.0 * 4 * n_samples * U.shape[0], hint="use fewer n_samples")
    U = torch.as_tensor(U, dtype=dtype)
    try:  # one probe sample: a denoiser of another dimension is the caller's error, named here
        denoiser(torch.zeros(1, U.shape[0], dtype=dtype), float(sigmaT)) @ U
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise SpecbiasError(f"the denoiser does not map samples of dimension d = {U.shape[0]} (the rows of "
                            f"U) to d: {' '.join(str(exc).split())[:80]}") from None
    d = U.shape[0]
    sched = edm_schedule(steps, sigma0, sigmaT)
    gen = torch.Generator().manual_seed(int(seed))
    x = sigmaT * torch.randn(n_samples, d, generator=gen, dtype=dtype)
    rms = []
    for i, s in enumerate(sched):
        if i:
            x = heun(denoiser, x, [sched[i - 1], s])
        x0 = denoiser(x, float(s)) @ U
        rms.append(x0.pow(2).mean(0).sqrt())
    ratio = (torch.stack(rms) / rms[-1]).numpy()
    s2, bracket = _first_crossing(np.log(sched**2), ratio, r)
    return Fixation(s2, sched, ratio, r, bracket, bracket[1] == np.inf)


def _first_crossing(log_s2: np.ndarray, ratio: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column, σ² at the first level (from the top) where ratio ≥ r, interpolated linearly in ln σ²
    between the bracketing levels (NaN if never reached; the top level σ_T² if reached there), and the
    bracket [2, k] (lo, hi) of level σ² around it ((σ_T², inf) at the top, NaN if never)."""
    out = np.full(ratio.shape[1], np.nan)
    bracket = np.full((2, ratio.shape[1]), np.nan)
    for k in range(ratio.shape[1]):
        hit = np.nonzero(ratio[:, k] >= r)[0]
        if hit.size == 0:
            continue
        j = hit[0]
        if j == 0:
            out[k] = np.exp(log_s2[0])
            bracket[:, k] = out[k], np.inf
            continue
        a, b = ratio[j - 1, k], ratio[j, k]
        w = (r - a) / (b - a)
        out[k] = np.exp(log_s2[j - 1] + w * (log_s2[j] - log_s2[j - 1]))
        bracket[:, k] = np.exp(log_s2[j]), np.exp(log_s2[j - 1])
    return out, bracket


@dataclass
class LearnedChains:
    """Per-mode log factors (rows: T values, columns: basis vectors) and collapse measurements."""

    T: np.ndarray
    S2: float
    log_r1: np.ndarray
    log_r2: np.ndarray
    log_pf: np.ndarray
    overlap_r2: np.ndarray  # |⟨P x, u_0⟩|/‖P x‖ for a random start, per T
    overlap_pf: np.ndarray

    @property
    def log_r2_ratio(self) -> np.ndarray:
        return self.log_r2 - self.log_r2[:, :1]


def _log_modes(P, log_scale, U):
    return (torch.log(torch.diagonal(U.T @ P @ U).abs()) + log_scale).numpy()


def learned_chains(W_of, U, S2: float, Ts, *, seed: int = 0, pf: bool = True) -> LearnedChains:
    """R1, R2 and the PF-ODE from learned matrices `W_of(s2) -> [d, d]` (numpy or torch), measured along
    the columns of U (u_0 first) for each chain length in Ts; see the module docstring."""
    if not (np.isfinite(S2) and S2 > 0):
        raise SpecbiasError(f"S2 must be finite and > 0 (got {S2!r})")
    U = torch.as_tensor(np.array(U, dtype=float))
    d = U.shape[0]
    eye = torch.eye(d, dtype=U.dtype)
    x = torch.randn(d, generator=torch.Generator().manual_seed(int(seed)), dtype=U.dtype)
    rows = {k: [] for k in ("r1", "r2", "pf", "ov2", "ovpf")}
    Ts = np.array([CH._steps(T) for T in np.atleast_1d(Ts)])  # checked before any cast: 2.5 is refused
    for T in Ts:
        s2 = S2 * np.arange(T + 1) / T
        W = torch.stack([torch.as_tensor(np.array(W_of(float(v)), dtype=float)) for v in s2[1:]])
        r1 = eye - torch.as_tensor(1 - s2[:-1] / s2[1:])[:, None, None] * (eye - W)
        P1, l1 = ordered_product(r1, normalise=True)
        P2, _ = ordered_product(W, normalise=True)
        rows["r1"].append(_log_modes(P1, l1, U))
        # per-step factors summed in logs: in the product the modes with G_i/G_0 < 1e−16 drown in the
        # rounding of the leading one (exact where U diagonalises every W_t, e.g. Ŝ's eigenbasis)
        rows["r2"].append(torch.log(torch.diagonal(U.T @ W @ U, dim1=-2, dim2=-1).abs()).sum(0).numpy())
        rows["ov2"].append(_overlap(P2, x, U))
        if pf:
            Pp = _pf_matrix(W, s2, eye)
            rows["pf"].append(_log_modes(Pp, torch.zeros(()), U))
            rows["ovpf"].append(_overlap(Pp, x, U))
    nan = np.full((Ts.size, d), np.nan)
    return LearnedChains(Ts, float(S2), np.array(rows["r1"]), np.array(rows["r2"]),
                         np.array(rows["pf"]) if pf else nan, np.array(rows["ov2"]),
                         np.array(rows["ovpf"]) if pf else np.full(Ts.size, np.nan))


def _overlap(P, x, U) -> float:
    y = P @ x
    return float((y @ U[:, 0]).abs() / torch.linalg.vector_norm(y))


def _pf_matrix(W, s2, eye):
    """The PF-ODE map by Heun on the levels s_T..s_1 with W linear in between, then x ← W_1 x (as in
    a denoiser's PF-ODE sampler); rows propagated: returns Pᵀ of the row map, transposed back."""
    levels = np.sqrt(s2[1:])
    lookup = {float(s): W[i] for i, s in enumerate(levels)}

    def D(xr, sigma):
        return xr @ lookup[float(sigma)].T

    return heun(D, eye, levels[::-1].tolist(), final_denoise=True).T
