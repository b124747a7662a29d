"""The measured generated distribution: variances along the data eigenbasis and the DFT modes,
alignment χ and KL divergences (theory.md §3.4, §4.1), from a covariance and mean or from samples.

Projection on the data eigenbasis happens only here, at measurement; the integrators and samplers
never see it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

import theory
from theory.errors import SpecbiasError

from .grid import as_tensor


@dataclass
class Measurement:
    """A measured generated distribution; every array is numpy, labelled in `axes`.

    covariance C̃ [..., d, d] and mean μ̃ [..., d]; var_eig = u_kᵀ C̃ u_k and mean_eig = u_kᵀ μ̃ along the
    data eigenvectors; var_fourier = [F C̃ F*]_ff along the unitary-DFT modes; chi = the alignment score
    Σ_k [Uᵀ C̃ U]_kk² / Σ_ij [Uᵀ C̃ U]_ij² (theory.md §4.1); kl = theory.kl of the per-mode variances and
    mean offsets, keyed "generated||data" and "data||generated" (theory.md §3.4: exact when chi = 1);
    kl_full = the same two KLs between the full Gaussians N(μ̃, C̃) and N(μ, U Λ Uᵀ), which also count the
    off-diagonal part of Uᵀ C̃ U. var_eig_se: standard error of var_eig (samples only)."""

    method: str
    covariance: np.ndarray
    mean: np.ndarray
    var_eig: np.ndarray | None = None
    mean_eig: np.ndarray | None = None
    var_fourier: np.ndarray | None = None
    chi: np.ndarray | None = None
    kl: dict = field(default_factory=dict)
    kl_full: dict = field(default_factory=dict)
    lam: np.ndarray | None = None
    var_eig_se: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def axes(self) -> dict:
        """Axis labels of every array field ("batch" stands for the leading axes, e.g. checkpoints)."""
        out = {"covariance": ("batch", "row", "col"), "mean": ("batch", "coord"),
               "var_eig": ("batch", "mode"), "mean_eig": ("batch", "mode"), "var_eig_se": ("batch", "mode"),
               "var_fourier": ("batch", "frequency"), "chi": ("batch",), "lam": ("mode",)}
        out.update({f"kl[{k}]": ("batch",) for k in self.kl})
        out.update({f"kl_full[{k}]": ("batch",) for k in self.kl_full})
        return out


def fourier_variances(cov: torch.Tensor, shape=None) -> torch.Tensor:
    """E|x̂_f|² = [F C F*]_ff for the unitary DFT F of the signal `shape` (theory.md §2.5), [..., d], real.

    shape (d,) (default) or (N,): the 1-D DFT; (H, W): the 2-D DFT; (C, H, W): the 2-D DFT per channel.
    Modes are in DFT order, flattened in C order — the order of numerics.data.fourier_matrix."""
    d = cov.shape[-1]
    shape = (d,) if shape is None else tuple(int(n) for n in shape)
    if math.prod(shape) != d or not 1 <= len(shape) <= 3:
        raise SpecbiasError(f"fourier shape {shape} must be (N,), (H, W) or (C, H, W) with d = {d} entries")
    k, n_dft = len(shape), min(len(shape), 2)
    c = cov.reshape(*cov.shape[:-2], *shape, *shape)
    c = c.to(torch.complex128 if cov.dtype == torch.float64 else torch.complex64)
    rows = tuple(range(c.ndim - k - n_dft, c.ndim - k))  # the DFT axes of the row index
    cols = tuple(range(c.ndim - n_dft, c.ndim))
    Y = torch.fft.fftn(c, dim=rows, norm="ortho")  # F C
    Z = torch.fft.fftn(Y.conj(), dim=cols, norm="ortho")  # conj(F C F*)
    return torch.diagonal(Z.reshape(*cov.shape[:-2], d, d), dim1=-2, dim2=-1).real


def _basis(U, lam, data_cov, dtype, device):
    """(U, λ) from an explicit eigenbasis or by eigendecomposition of the data covariance (measurement)."""
    if data_cov is not None:
        lam_t, U_t = torch.linalg.eigh(as_tensor("data_cov", data_cov, dtype, device))
        return U_t.flip(-1), lam_t.flip(-1)
    if U is None:
        return None, None
    U_t = as_tensor("U", U, dtype, device)
    lam_t = None if lam is None else as_tensor("lam", lam, dtype, device)
    return U_t, lam_t


def _gaussian_kl(M: torch.Tensor, lam: torch.Tensor, delta: torch.Tensor) -> dict:
    """Both KLs between N(μ̃, C̃) and N(μ, Σ) written in the data eigenbasis, M = Uᵀ C̃ U, Σ → diag(λ),
    Δ = Uᵀ(μ̃ − μ): KL(p̃‖p) = ½[tr(Λ⁻¹M) − d − ln det(Λ⁻¹M) + ΔᵀΛ⁻¹Δ],
    KL(p‖p̃) = ½[tr(M⁻¹Λ) − d + ln det(Λ⁻¹M) + ΔᵀM⁻¹Δ] (theory.md §3.4 without assuming M diagonal)."""
    d = lam.shape[-1]
    sign, logabs = torch.linalg.slogdet(M)
    logdet = torch.where(sign > 0, logabs, torch.nan) - torch.log(lam).sum(-1)  # NaN: C̃ singular
    Minv, _ = torch.linalg.inv_ex(M)
    fwd = 0.5 * ((torch.diagonal(M, dim1=-2, dim2=-1) / lam).sum(-1) - d - logdet + (delta**2 / lam).sum(-1))
    bwd = 0.5 * ((torch.diagonal(Minv, dim1=-2, dim2=-1) * lam).sum(-1) - d + logdet
                 + (delta[..., None, :] @ Minv @ delta[..., :, None])[..., 0, 0])
    return {"generated||data": fwd.cpu().numpy(), "data||generated": bwd.cpu().numpy()}


def measure_gaussian(cov, mean, *, U=None, lam=None, mu=None, data_cov=None, fourier_shape=None,
                     method: str = "exact", var_eig_se=None, info=None) -> Measurement:
    """Metrics of a generated Gaussian N(mean, cov) against the data N(μ, U diag(λ) Uᵀ).

    Give the data basis as U (columns u_k) with lam, or as data_cov (eigendecomposed here, λ descending).
    Without a basis only covariance, mean and var_fourier are filled; without lam no KL."""
    cov_t = torch.as_tensor(cov)
    dtype, dev = (cov_t.dtype if cov_t.is_floating_point() else torch.float64), cov_t.device
    cov_t = as_tensor("covariance", cov_t, dtype, dev)
    mean_t = as_tensor("mean", mean, dtype, dev)
    out = Measurement(method=method, covariance=cov_t.cpu().numpy(), mean=mean_t.cpu().numpy(),
                      var_fourier=fourier_variances(cov_t, fourier_shape).cpu().numpy(),
                      var_eig_se=None if var_eig_se is None else np.asarray(var_eig_se),
                      info=dict(info or {}))
    U_t, lam_t = _basis(U, lam, data_cov, dtype, dev)
    if U_t is None:
        return out
    M = U_t.T @ cov_t @ U_t
    diag = torch.diagonal(M, dim1=-2, dim2=-1)
    mean_eig = mean_t @ U_t
    out.var_eig, out.mean_eig = diag.cpu().numpy(), mean_eig.cpu().numpy()
    out.chi = ((diag**2).sum(-1) / (M**2).sum((-2, -1))).cpu().numpy()
    if lam_t is not None:
        delta = mean_eig - (0.0 if mu is None else as_tensor("mu", mu, dtype, dev) @ U_t)
        out.lam = lam_t.cpu().numpy()
        out.kl = theory.kl(out.lam, out.var_eig, direction="both", delta_mean=delta.cpu().numpy())
        out.kl_full = _gaussian_kl(M, lam_t, delta)
    return out


def measure_samples(x, **kwargs) -> Measurement:
    """`measure_gaussian` of the sample mean and unbiased sample covariance of x [..., n, d]; with a basis
    U, var_eig_se = √((m₄ − v²)/n), the large-n standard error of a sample variance from the fourth
    central moment m₄ of the projections (for a Gaussian: v √(2/n))."""
    x = torch.as_tensor(x)
    n = x.shape[-2]
    if n < 2:
        raise SpecbiasError("need at least 2 samples")
    mean = x.mean(-2)
    xc = x - mean[..., None, :]
    cov = xc.transpose(-1, -2) @ xc / (n - 1)
    se = None
    U = kwargs.get("U")
    if U is None and kwargs.get("data_cov") is not None:
        U, _ = _basis(None, None, kwargs["data_cov"], x.dtype, x.device)
    if U is not None:
        p = xc @ as_tensor("U", U, x.dtype, x.device)
        v, m4 = (p**2).mean(-2), (p**4).mean(-2)
        se = torch.sqrt((m4 - v**2).clamp_min(0) / n).cpu().numpy()
    kwargs.setdefault("method", "samples")
    return measure_gaussian(cov, mean, var_eig_se=se, **kwargs)
