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

from numerics.measure import edm_schedule, heun, ordered_product
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


@dataclass
class Fixation:
    """Measured fixation noise variance per basis vector, with the levels and the recorded ratios."""

    s2_fix: np.ndarray  # [k]
    sigmas: np.ndarray  # [levels]
    ratio: np.ndarray  # [levels, k] RMS x̂₀ along u_k relative to the last level
    r: float


def fixation(denoiser, U, *, r: float = CH.FIX_FRACTION, steps: int = 256, n_samples: int = 256,
             sigma0: float = 0.002, sigmaT: float = 80.0, seed: int = 0, dtype=torch.float64) -> Fixation:
    """Fixation noise σ_k² of each column u_k of U along Heun trajectories (see the module docstring)."""
    if not 0 < r < 1:
        raise SpecbiasError(f"fixation fraction r must lie in (0, 1) (got {r!r})")
    U = torch.as_tensor(np.array(U, dtype=float), dtype=dtype)
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
    return Fixation(_first_crossing(np.log(sched**2), ratio, r), sched, ratio, r)


def _first_crossing(log_s2: np.ndarray, ratio: np.ndarray, r: float) -> np.ndarray:
    """Per column, σ² at the first level (from the top) where ratio ≥ r, interpolated linearly in ln σ²
    between the bracketing levels (NaN if never reached)."""
    out = np.full(ratio.shape[1], np.nan)
    for k in range(ratio.shape[1]):
        hit = np.nonzero(ratio[:, k] >= r)[0]
        if hit.size == 0:
            continue
        j = hit[0]
        if j == 0:
            out[k] = np.exp(log_s2[0])
            continue
        a, b = ratio[j - 1, k], ratio[j, k]
        w = (r - a) / (b - a)
        out[k] = np.exp(log_s2[j - 1] + w * (log_s2[j] - log_s2[j - 1]))
    return out


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
