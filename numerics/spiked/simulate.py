"""Monte Carlo of the spiked covariance model and the finite-sample linear denoisers (theory.md §5.1–5.2).

- `spiked_data(d, lam)`: Gaussian data of rank k (x = Σ_i √λ_i g_i u_i, optional isotropic bulk), a Dataset.
- `noisy_pca(...)`: top-k eigenpairs of the noisy sample second moment (1/nM)Σ y yᵀ, y = x + s z, for a
  batch of independent training sets (through the smaller of the d×d and N×N Gram matrices).
- `monte_carlo(d, n, lam, s2)`: squared overlaps, top eigenvalues and the conditional MSE of the
  optimal-limit gain h* and of the plug-in gain h_emp = 1 − s²/μ̂ over many draws, vectorised over draws
  in float64 (torch, any device). Given û the fresh-pair MSE of D(y) = Σ_j h_j û_j û_jᵀ y is exact:
  MSE = Σ_i λ_i − 2Σ_j h_j q_j + Σ_j h_j²(q_j + s²), q_j = û_jᵀ Σ û_j (no second sampling needed).
- `least_squares_denoiser(X, s2, M)`: the linear denoiser fitted (DSM to convergence) on n clean samples
  with M fixed noise draws each, W = (Σ x yᵀ)(Σ y yᵀ)⁺; M = inf gives the Wiener filter Ŝ(Ŝ + s²I)⁻¹ of
  the raw second moment, the limit of `numerics.train.train("linear", ...)` on the training set.

By rotation invariance of the isotropic noise the spikes sit on the first k coordinate axes (u_i = e_i);
overlaps and MSE do not depend on that choice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from numerics import budget
from numerics.data import Dataset, random_rotation
from numerics.measure import resolve_device
from theory.errors import SpecbiasError
from theory.spiked import covariance as SP


def spiked_data(d: int, lam, *, bulk: float = 0.0, rotate: bool = True, seed: int = 0) -> Dataset:
    """Gaussian data N(0, Σ) with Σ = Σ_i λ_i u_i u_iᵀ + bulk·I (λ descending; rank k ≤ d)."""
    lam = np.sort(SP.check_spikes(np.atleast_1d(lam), d))[::-1]
    if bulk < 0:
        raise SpecbiasError(f"bulk variance must be >= 0 (got {bulk!r})")
    full = np.concatenate([lam, np.zeros(d - lam.size)]) + bulk
    U = random_rotation(d, seed) if rotate else np.eye(d)
    cov = (U * full) @ U.T
    return Dataset(f"spiked-rank{lam.size}", np.zeros(d), 0.5 * (cov + cov.T), full, U, (d,),
                   meta={"spikes": lam.tolist(), "bulk": bulk, "rotate": rotate, "seed": seed})


def _top_k(Y: torch.Tensor, k: int):
    """Top-k eigenpairs of Yᵀ Y / N for a batch Y [R, N, d]: (values [R, k] descending, vectors [R, d, k])."""
    N, d = Y.shape[-2:]
    if N >= d:
        vals, vecs = torch.linalg.eigh(Y.mT @ Y / N)
        return vals[:, -k:].flip(-1), vecs[:, :, -k:].flip(-1)
    vals, w = torch.linalg.eigh(Y @ Y.mT / N)
    vals, w = vals[:, -k:].flip(-1), w[:, :, -k:].flip(-1)
    vecs = Y.mT @ w
    return vals, vecs / torch.linalg.vector_norm(vecs, dim=1, keepdim=True)


def clean_samples(R: int, n: int, d: int, lam: torch.Tensor, gen, bulk: float = 0.0) -> torch.Tensor:
    """R training sets of n samples [R, n, d]: spikes on the first k axes, optional isotropic bulk."""
    X = torch.zeros(R, n, d, dtype=lam.dtype, device=lam.device)
    k = lam.numel()
    X[:, :, :k] = torch.randn(R, n, k, generator=gen, dtype=lam.dtype, device=lam.device) * lam.sqrt()
    if bulk > 0:
        X += bulk**0.5 * torch.randn(R, n, d, generator=gen, dtype=lam.dtype, device=lam.device)
    return X


def noisy_pca(X: torch.Tensor, s2: float, M: int, k: int, gen):
    """Top-k eigenpairs of the noisy second moment of X [R, n, d] with M noise draws per sample."""
    Y = X.repeat_interleave(M, dim=1)
    Y = Y + s2**0.5 * torch.randn(Y.shape, generator=gen, dtype=X.dtype, device=X.device)
    return _top_k(Y, k)


@dataclass
class MonteCarlo:
    """Per-level, per-draw, per-spike measurements [L, R, k] and their setting."""

    d: int
    n: int
    M: int
    lam: np.ndarray
    s2: np.ndarray
    overlap2: np.ndarray  # ⟨û_j, u_j⟩²
    top_eigenvalue: np.ndarray  # μ̂_j
    mse_optimal: np.ndarray  # per-mode MSE with the limit gain h*
    mse_plugin: np.ndarray  # per-mode MSE with h_emp = 1 − s²/μ̂_j

    @property
    def gamma(self) -> float:
        return SP.aspect_ratio(self.d, self.n, self.M)

    def mean(self, field: str) -> np.ndarray:
        return getattr(self, field).mean(1)

    def stderr(self, field: str) -> np.ndarray:
        v = getattr(self, field)
        return v.std(1, ddof=1) / np.sqrt(v.shape[1]) if v.shape[1] > 1 else np.full(v.mean(1).shape, np.nan)

    def theory(self) -> SP.Prediction:
        return SP.predict(self.lam[None, :], self.s2[:, None], self.gamma)


def monte_carlo(d: int, n: int, lam, s2, *, M: int = 1, draws: int = 16, seed: int = 0, chunk: int = 8,
                device="auto") -> MonteCarlo:
    """Overlaps, top eigenvalues and MSEs of the noisy-PCA denoiser over `draws` training sets at every s²."""
    gamma = SP.aspect_ratio(d, n, M)
    if M == np.inf:
        raise SpecbiasError("M = inf has no noisy PCA: the basis is the clean sample covariance's (theory.md §5.1)")
    lam_np = np.sort(SP.check_spikes(np.atleast_1d(lam), d))[::-1]
    s2_np = np.atleast_1d(SP.check_noise(s2))
    draws = SP._count("draws", draws)
    dev = resolve_device(device)
    R = min(int(chunk), draws)  # one chunk of training sets at a time: clean, noisy samples and covariances
    budget.check_memory(f"Monte Carlo at d = {int(d):,}, n = {int(n):,}, M = {int(M)}",
                        budget.FLOAT * R * (float(n) * d * (1 + 2 * int(M)) + 3.0 * float(d) * d),
                        device=str(dev), hint="use a smaller d or n")
    lam_t = torch.as_tensor(lam_np.copy(), dtype=torch.float64, device=dev)
    k = lam_np.size
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    out = {f: np.zeros((s2_np.size, draws, k)) for f in ("overlap2", "top_eigenvalue", "mse_optimal", "mse_plugin")}
    h_star = SP.optimal_gain(lam_np[None, :], s2_np[:, None], gamma)
    for start in range(0, draws, chunk):
        R = min(chunk, draws - start)
        X = clean_samples(R, n, d, lam_t, gen)
        for li, s2v in enumerate(s2_np):
            vals, vecs = noisy_pca(X, float(s2v), int(M), k, gen)
            proj = vecs[:, :k, :]  # û_jᵀ u_i = (û_j)_i, [R, i, j]
            q = (lam_t[None, :, None] * proj**2).sum(1)  # û_jᵀ Σ û_j
            ov = torch.diagonal(proj, dim1=1, dim2=2) ** 2
            h_emp = 1 - s2v / vals
            hs = torch.as_tensor(h_star[li], dtype=torch.float64, device=dev)
            sl = slice(start, start + R)
            out["overlap2"][li, sl] = ov.cpu().numpy()
            out["top_eigenvalue"][li, sl] = vals.cpu().numpy()
            out["mse_optimal"][li, sl] = (lam_t - 2 * hs * q + hs**2 * (q + s2v)).cpu().numpy()
            out["mse_plugin"][li, sl] = (lam_t - 2 * h_emp * q + h_emp**2 * (q + s2v)).cpu().numpy()
    return MonteCarlo(int(d), int(n), M, lam_np, s2_np, **out)


def least_squares_denoiser(X, s2: float, M=1, *, seed: int = 0) -> np.ndarray:
    """W minimising Σ_{i,m} ‖W y_im − x_i‖² over n samples X [n, d] with M noise draws each
    (min-norm if Σ y yᵀ is singular); M = inf: the Wiener filter Ŝ(Ŝ + s²I)⁻¹ of Ŝ = XᵀX/n."""
    X = torch.as_tensor(np.asarray(X, dtype=float))
    s2 = float(SP.check_noise(s2).reshape(()))
    n, d = X.shape
    if M == np.inf:
        S = X.T @ X / n
        return torch.linalg.solve(S + s2 * torch.eye(d, dtype=X.dtype), S).T.numpy()  # S(S + s²)⁻¹, symmetric
    M = SP._count("M (noise draws)", M)
    gen = torch.Generator().manual_seed(int(seed))
    Xr = X.repeat_interleave(M, dim=0)
    Y = Xr + s2**0.5 * torch.randn(Xr.shape, generator=gen, dtype=X.dtype)
    return torch.linalg.lstsq(Y, Xr, driver="gelsd").solution.T.numpy()
