"""Alignment of a denoiser's Jacobian with the data principal components (Weitzner et al., arXiv 2410.14730,
last claim).

For any torch callable D(x, σ) (x [..., n, d] → same shape: the linear models, the noisy-PCA denoiser,
a trained nonlinear network) the Jacobian J(x; σ) = ∂D/∂x is taken with torch.func.jacrev at points x
(vmapped over points), symmetrised (J + Jᵀ)/2 (a denoiser that is the gradient of a potential, e.g.
Tweedie's, has a symmetric Jacobian; for a general network the symmetric part is what acts on quadratic
forms), averaged over points, and eigendecomposed. Reported per noise level:
- overlap2[l, j, i] = ⟨v_j, u_i⟩² between the Jacobian's j-th eigenvector (eigenvalues descending) and
  the i-th data PC;
- aligned[l, i] = ⟨v_i, u_i⟩² for the top `k` modes (the spiked-model α² for the noisy-PCA denoiser);
- chi[l] = Σ_i [Uᵀ J U]_ii² / Σ_ij [Uᵀ J U]_ij² (the alignment score of theory.md §4.1 applied to J).
For a linear denoiser W the Jacobian is W itself at every point.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.func import jacrev, vmap

from theory.errors import SpecbiasError


@dataclass
class JacobianAlignment:
    sigmas: np.ndarray
    eigenvalues: np.ndarray  # [L, d] descending
    overlap2: np.ndarray  # [L, d, k]
    aligned: np.ndarray  # [L, k]
    chi: np.ndarray  # [L]


def jacobian(D, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Mean symmetrised Jacobian of D(·, σ) over the points x [n, d]: [d, d]."""
    def one(v):
        return D(v[None, :], float(sigma))[0]

    with torch.no_grad():  # one plain call first: a callable may build its per-level state lazily
        D(x[:1], float(sigma))
    J = vmap(jacrev(one))(x)
    return (0.5 * (J + J.mT)).mean(0).detach()


def alignment(D, U, sigmas, *, points=None, k: int | None = None, dtype=torch.float64) -> JacobianAlignment:
    """Jacobian–PC alignment of D at each σ (see module docstring). `points`: [n, d] evaluation points
    (default: the origin, exact for affine denoisers); U: data PCs as columns, leading first."""
    U = torch.as_tensor(np.array(U, dtype=float), dtype=dtype)
    d = U.shape[0]
    k = min(d, U.shape[1]) if k is None else int(k)
    if not 1 <= k <= U.shape[1]:
        raise SpecbiasError(f"k must lie in [1, {U.shape[1]}] (got {k})")
    x = torch.zeros(1, d, dtype=dtype) if points is None else torch.as_tensor(points, dtype=dtype)
    out = {"eig": [], "ov": [], "al": [], "chi": []}
    for s in np.atleast_1d(np.asarray(sigmas, dtype=float)):
        J = jacobian(D, x, float(s))
        vals, vecs = torch.linalg.eigh(J)
        vals, vecs = vals.flip(-1), vecs.flip(-1)
        ov = (vecs.T @ U[:, :k]) ** 2  # [j, i]
        B = U.T @ J @ U
        out["eig"].append(vals.numpy())
        out["ov"].append(ov.numpy())
        out["al"].append(torch.diagonal(ov[:k, :k]).numpy())
        out["chi"].append(float((torch.diagonal(B) ** 2).sum() / (B**2).sum()))
    return JacobianAlignment(np.atleast_1d(np.asarray(sigmas, float)), np.array(out["eig"]), np.array(out["ov"]),
                             np.array(out["al"]), np.array(out["chi"]))


def noisy_pca_denoiser(X: np.ndarray, k: int, *, M: int = 1, seed: int = 0, plug_in: bool = True):
    """The PCA-of-noisy-samples denoiser per level, as a torch callable D(x, σ): top-k eigenpairs
    (μ̂_j, û_j) of the noisy second moment of the training set X [n, d] at noise σ (M draws per sample,
    one fresh noise set per σ, seeded), gains h_j = 1 − σ²/μ̂_j (plug-in) and D(x) = Σ_j h_j û_j û_jᵀ x."""
    from numerics.spiked.simulate import noisy_pca

    Xt = torch.as_tensor(np.asarray(X, dtype=float))[None]
    cache = {}

    def D(x, sigma):
        key = float(sigma)
        if key not in cache:
            gen = torch.Generator().manual_seed(int(seed) + hash(round(key, 12)) % 2**31)
            vals, vecs = noisy_pca(Xt, key**2, M, k, gen)
            h = (1 - key**2 / vals[0]) if plug_in else torch.ones(k, dtype=Xt.dtype)
            cache[key] = (vecs[0] * h) @ vecs[0].T
        return x @ cache[key].to(x.dtype)
    return D
