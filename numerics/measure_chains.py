"""Reverse chains and power iteration (theory.md §5.4): three reverse processes built from the Wiener
denoiser W_s = Σ(Σ + s²I)⁻¹ of a data covariance Σ on the levels s_t² = tS²/T, t = T..0.

| rule | step t (t = T first) | per-mode product over t = 1..T (theory.md §5.4) |
|---|---|---|
| R1 one-step MMSE | (Σ + s²_{t−1}I)(Σ + s_t²I)⁻¹ | telescopes to λ_i/(λ_i + S²) |
| R2 repeated full Wiener | W_{s_t} | G_i = Π_t λ_i/(λ_i + s_t²) → 0, G_i/G_0 → 0 (power iteration) |
| PF-ODE | `measure.heun` on s_T..s_1, then x ← D(x; s_1) | → √(λ_i/(λ_i + S²)) as T → ∞ |

R2: log G_i = −Tφ(S²/λ_i) − ½ log(1 + S²/λ_i) + O(1/T), φ(x) = ((1 + x)ln(1 + x) − x)/x, so the chain
applied to any start converges in direction to the leading eigenvector u_0. The PF-ODE is the EDM
discretisation (Heun, then the closing Euler step to σ = 0, which is x ← D(x; s_1)).

Every chain is a product of d×d matrices computed without the eigenbasis; the eigenbasis of Σ (from
eigh, λ descending) is used only to read off the per-mode factors u_iᵀ P u_i.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from theory.errors import SpecbiasError

from .measure import as_tensor, heun, ordered_product, resolve_device


@dataclass
class ChainProducts:
    """Per-mode products of the three chains (numpy, axis "mode", λ descending).

    r1, pf_ode: u_iᵀ P u_i of the matrix products; log_r2: log G_i = Σ_t log u_iᵀ W_{s_t} u_i, the
    per-step factors multiplied in log space (G underflows for long chains, and in the matrix product
    P₂ the modes with G_i/G_0 below ~1e−16 drown in the rounding of the leading one: that collapse is
    the power iteration itself); log_r2_ratio: log(G_i/G_0); overlap_r2, overlap_pf: |⟨P x, u_0⟩|/‖P x‖
    for a seeded random start x (power iteration: → 1 for R2; for the PF-ODE it stays a random overlap)."""

    lam: np.ndarray
    S2: float
    T: int
    r1: np.ndarray
    log_r2: np.ndarray
    pf_ode: np.ndarray
    overlap_r2: float
    overlap_pf: float

    @property
    def log_r2_ratio(self) -> np.ndarray:
        return self.log_r2 - self.log_r2[0]


def wiener(Sigma: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """W_s = Σ(Σ + s²I)⁻¹ for each s² in s2 [n]: [n, d, d] (theory.md §1.3, W* at noise s)."""
    eye = torch.eye(Sigma.shape[-1], dtype=Sigma.dtype, device=Sigma.device)
    return torch.linalg.solve(Sigma + s2[:, None, None] * eye, Sigma.expand(s2.numel(), *Sigma.shape),
                              left=False)


def reverse_chains(Sigma, S2: float, T: int, *, seed: int = 0, dtype=torch.float64,
                   device="auto") -> ChainProducts:
    """Run R1, R2 and the PF-ODE for T steps from s² = S² down to 0 (theory.md §5.4; see module docstring)."""
    dev = resolve_device(device)
    Sig = as_tensor("Sigma", Sigma, dtype, dev)
    if Sig.ndim != 2 or Sig.shape[0] != Sig.shape[1]:
        raise SpecbiasError(f"Sigma must be a square matrix, got shape {tuple(Sig.shape)}")
    if not (S2 > 0 and int(T) >= 1):
        raise SpecbiasError(f"need S2 > 0 and T >= 1 (got S2={S2!r}, T={T!r})")
    if int(torch.linalg.cholesky_ex(Sig)[1]) != 0 or not torch.allclose(Sig, Sig.T):
        raise SpecbiasError("Sigma must be symmetric positive definite")
    T = int(T)
    d = Sig.shape[0]
    eye = torch.eye(d, dtype=dtype, device=dev)
    s2 = S2 * torch.arange(T + 1, dtype=dtype, device=dev) / T  # s_t², t = 0..T
    # step matrices for t = 1..T in product order M_1 M_2 ⋯ M_T (M_T acts first)
    shifted = Sig + s2[:, None, None] * eye  # Σ + s_t² I
    r1_steps = torch.linalg.solve(shifted[1:], shifted[:-1], left=False)
    r2_steps = wiener(Sig, s2[1:])
    P1, _ = ordered_product(r1_steps)
    P2, _ = ordered_product(r2_steps, normalise=True)

    def denoiser(x, s):
        return x @ wiener(Sig, torch.tensor([s * s], dtype=dtype, device=dev))[0].T

    # rows of x are propagated: x = I gives Pᵀ
    P_pf = heun(denoiser, eye, torch.sqrt(s2[1:].flip(0)).tolist(), final_denoise=True).T

    lam, U = torch.linalg.eigh(Sig)  # measurement only
    lam, U = lam.flip(-1), U.flip(-1)

    def per_mode(P):
        return torch.diagonal(U.T @ P @ U)

    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed))
    x = torch.randn(d, generator=gen, dtype=dtype, device=dev)

    def overlap(P):
        y = P @ x
        return float((y @ U[:, 0]).abs() / torch.linalg.vector_norm(y))

    log_r2 = torch.log(torch.diagonal(U.T @ r2_steps @ U, dim1=-2, dim2=-1)).sum(0)
    return ChainProducts(lam=lam.cpu().numpy(), S2=float(S2), T=T, r1=per_mode(P1).cpu().numpy(),
                         log_r2=log_r2.cpu().numpy(), pf_ode=per_mode(P_pf).cpu().numpy(),
                         overlap_r2=overlap(P2), overlap_pf=overlap(P_pf))
