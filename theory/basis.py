"""Generated variance along an arbitrary orthonormal basis (the paper measures along the data's
principal components and along patch PCs, Figs. 4, 12, 17–20).

- Shift-invariant models (circulant, patch and 2-D convolutions) generate a covariance C̃ that is
  diagonal in the unitary DFT with variances λ̃_f, so along a unit vector u
      uᵀ C̃ u = Σ_f |û(f)|² λ̃_f,     û = F* u (per channel for images),
  exact, with weights |û(f)|² that depend on neither σ nor τ [derived: C̃ = F diag(λ̃) F*].
- Models diagonal in the data eigenbasis (linear with aligned init): uᵀ C̃ u = Σ_k (u·u_k)² λ̃_k.
- Any model given as a covariance (an exact propagator, trained weights): diag(Uᵀ C̃ U).
- Patch PCs (size p, stride s): the principal components of the p × p patches cut from the images at
  stride s; the variance of the generated patches along them is the position average of
  (Π_i v)ᵀ C̃ (Π_i v) over the same patch positions i, with Π_i v the patch vector placed at i (for a
  shift-invariant C̃ every position gives Σ_f |Π̂_i v(f)|² λ̃_f, the same number).
"""
from __future__ import annotations

import numpy as np

from . import validate as V
from .errors import SpecbiasError

ORTHONORMAL_ATOL = 1e-8  # |UᵀU − I| allowed: float64 rounding of an eigh/QR basis is ~1e−13


def check_orthonormal(U, name: str = "basis (U)") -> np.ndarray:
    """U (d, m) with orthonormal columns, or one clear SpecbiasError."""
    U = V.as_array(name, U)
    if U.ndim != 2 or U.shape[1] > U.shape[0]:
        raise SpecbiasError(f"{name} must be a (d, m) matrix of m ≤ d column vectors, got shape {U.shape}")
    err = float(np.max(np.abs(U.T @ U - np.eye(U.shape[1]))))
    if err > ORTHONORMAL_ATOL:
        raise SpecbiasError(f"{name} is not orthonormal: max |UᵀU − I| = {err:.3g} > {ORTHONORMAL_ATOL:g}")
    return U


def _grid(shape) -> tuple[int, int, int]:
    """(C, H, W) of a signal shape (N,) or (C, H, W) of positive integers."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise SpecbiasError(f"signal shape must be (N,) or (C, H, W), got {V._short(shape)}")
    shape = tuple(V.count("signal shape entry", s) for s in shape)
    if len(shape) == 1:
        return 1, 1, shape[0]
    if len(shape) == 3:
        return shape
    raise SpecbiasError(f"signal shape must be (N,) or (C, H, W), got {shape}")


def fourier_weights(U, shape) -> np.ndarray:
    """|û(f)|² (n_f, m) for the columns of U: the unitary DFT per channel, modes in DFT order
    (channel-major, then f_h, f_w), the order of the shift-invariant theories' spectra."""
    C, H, W = _grid(shape)
    U = check_orthonormal(U)
    if U.shape[0] != C * H * W:
        raise SpecbiasError(f"basis vectors have {U.shape[0]} entries, the signal shape {shape} holds {C * H * W}")
    hat = np.fft.fft2(U.T.reshape(-1, C, H, W), norm="ortho")
    return (np.abs(hat) ** 2).reshape(U.shape[1], -1).T


def along(lam_tilde, weights) -> np.ndarray:
    """Σ_f weights[f, m] λ̃_f for λ̃ (…, n_f): the variance along each basis vector (…, m)."""
    lam_tilde = V.as_array("generated variances (lam_tilde)", lam_tilde, nonneg=True)
    weights = V.as_array("basis weights", weights, nonneg=True)
    if weights.ndim != 2:
        raise SpecbiasError(f"basis weights must be (n_modes, m), got shape {weights.shape}")
    V.contractible("lam_tilde", lam_tilde, "weights", weights, what="one variance per row of the weights")
    return lam_tilde @ weights


def eigen_weights(U, U_data) -> np.ndarray:
    """(u·u_k)² (n_k, m): weights of the data eigenmodes in each column of U."""
    U, U_data = check_orthonormal(U), check_orthonormal(U_data, "data eigenvectors")
    V.contractible("data eigenvectors", U_data, "basis (U)", U, 0, 0, "vectors of one dimension d")
    return (U_data.T @ U) ** 2


def covariance_along(cov, U) -> np.ndarray:
    """diag(Uᵀ C̃ U) (…, m) for covariances C̃ (…, d, d)."""
    U = check_orthonormal(U)
    cov = V.as_array("covariance (cov)", cov)
    if cov.ndim < 2 or cov.shape[-2:] != (U.shape[0],) * 2:
        raise SpecbiasError(f"covariance must be (…, {U.shape[0]}, {U.shape[0]}) for basis vectors of "
                            f"{U.shape[0]} entries, got shape {cov.shape}")
    return np.einsum("dm,...de,em->...m", U, cov, U)


# ---- patch PCs (paper Figs. 17–20) ---------------------------------------------------------------
def patch_positions(shape, p: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners of the p × p patches at stride s that fit inside an H × W image (no wrap)."""
    C, H, W = _grid(shape)
    p, stride = V.count("patch size p", p), V.count("stride", stride)
    if p > min(H, W):
        raise SpecbiasError(f"patch size p = {p} exceeds the image {H}×{W}")
    return [(i, j) for i in range(0, H - p + 1, stride) for j in range(0, W - p + 1, stride)]


def embed(V_patch, shape, p: int, corner) -> np.ndarray:
    """Patch vectors (C·p², m) placed at `corner` of the (C, H, W) image, zero elsewhere: (d, m)."""
    C, H, W = _grid(shape)
    p = V.count("patch size p", p)
    V_patch = V.as_array("patch vectors (V_patch)", V_patch)
    if V_patch.ndim != 2 or V_patch.shape[0] != C * p * p:
        raise SpecbiasError(f"patch vectors must be (C·p² = {C * p * p}, m), got shape {V_patch.shape}")
    m = V_patch.shape[1]
    out = np.zeros((C, H, W, m))
    out[:, corner[0]:corner[0] + p, corner[1]:corner[1] + p, :] = V_patch.reshape(C, p, p, m)
    return out.reshape(C * H * W, m)


def patch_pcs(cov, shape, p: int, stride: int):
    """(variances, V): principal components of the p × p patches (all channels) cut at stride s from
    images with covariance `cov` (d, d): eigenpairs of the position-averaged patch covariance
    (1/|I|) Σ_i Σ[S_i, S_i]; variances descending, V (C·p², C·p²) orthonormal columns."""
    C, H, W = _grid(shape)
    p = V.count("patch size p", p)
    cov = V.as_array("covariance (cov)", cov)
    if cov.shape != (C * H * W,) * 2:
        raise SpecbiasError(f"covariance must be {C * H * W}×{C * H * W} for shape {shape}, got {cov.shape}")
    idx = np.arange(C * H * W).reshape(C, H, W)
    blocks = [idx[:, i:i + p, j:j + p].reshape(-1) for i, j in patch_positions(shape, p, stride)]
    mean = np.mean([cov[np.ix_(b, b)] for b in blocks], axis=0)
    lam, vec = np.linalg.eigh(mean)
    return lam[::-1].copy(), vec[:, ::-1].copy()


def patch_weights(V_patch, shape, p: int, stride: int) -> np.ndarray:
    """Fourier weights of the patch PCs for a shift-invariant C̃ (n_f, m): position-averaged, though
    every position gives the same weights for a circulant C̃."""
    pos = patch_positions(shape, p, stride)
    return np.mean([fourier_weights(embed(V_patch, shape, p, c), shape) for c in pos], axis=0)


def patch_covariance_along(cov, V_patch, shape, p: int, stride: int) -> np.ndarray:
    """Position average of (Π_i v)ᵀ C̃ (Π_i v) over the patch positions (…, m): any C̃ (…, d, d)."""
    pos = patch_positions(shape, p, stride)
    return np.mean([covariance_along(cov, embed(V_patch, shape, p, c)) for c in pos], axis=0)


def real_fourier_basis(shape) -> np.ndarray:
    """A real orthonormal Fourier basis (d, d) of (N,) or (C, H, W) signals: for every pair f, −f the
    columns √2·Re and √2·Im of the unitary DFT mode, and Re alone where f = −f; each column carries
    Fourier weight ½ on f and ½ on −f (all of it where f = −f)."""
    C, H, W = _grid(shape)
    fh, fw = np.divmod(np.arange(H * W), W)
    partner = ((-fh) % H) * W + (-fw) % W
    cols = []
    ph = 2 * np.pi * (np.outer(np.arange(H), np.arange(H))[:, None, :, None] / H
                      + np.outer(np.arange(W), np.arange(W))[None, :, None, :] / W)  # (h, w, fh, fw)
    modes = (np.exp(1j * ph) / np.sqrt(H * W)).reshape(H * W, H * W)  # pixel × frequency
    for c in range(C):
        for f in range(H * W):
            if partner[f] < f:
                continue
            e = np.zeros((C, H * W), complex)
            e[c] = modes[:, f]
            e = e.reshape(-1)
            if partner[f] == f:
                cols.append(e.real)
            else:
                cols.extend([np.sqrt(2) * e.real, np.sqrt(2) * e.imag])
    return np.stack(cols, 1)
