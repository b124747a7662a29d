"""The local-convolution study: which property of a convolutional denoiser makes many modes emerge at
nearly the same time when the generated variance is measured along the data's principal components
(the CNN observation of Wang & Pehlevan, arXiv 2503.03206, Figs. 4, 12, 17–20)?

Models (the registry's 2-D architectures, plus the plain linear and full-width circulant references):
- shift-invariant ones (`conv2d`, full-width `circulant`): closed-form λ̃_f per Fourier mode, projected
  with σ-independent weights |û(f)|² (theory.basis), exact crossings (theory.along);
- `linear`: closed form per data eigenmode, projected with weights (u·u_k)²;
- the locally connected control (`local2d`, not shift-invariant): the exact Magnus propagator of
  theory.local on the data's covariance, sampled on a τ grid.
Bases: the data PCs ("pcs"), a real Fourier basis ("fourier") and patch PCs ("patch", size p, stride s).
The target along each basis vector is the data variance along it.

Mechanism [derived]: for a shift-invariant model λ̃_u(τ) = Σ_f |û(f)|² λ̃_f(τ) with Σ_f |û(f)|² = 1, so
λ̃_u starts at v₀ and tends to uᵀΣ̄u (Σ̄ the shift-averaged data covariance, exactly for the circulant),
not to λ_u = uᵀΣu. On stationary data Σ = Σ̄, the PCs are Fourier modes and τ*_u ∝ 1/λ_u. On
non-stationary data uᵀΣ̄u is compressed compared with λ_u (`compression`), every PC's trajectory is a
mixture of the same high-variance Fourier modes, and a PC with a small λ_u has a *lower* threshold
√(v₀λ_u) on a trajectory that does not know λ_u: it crosses at about the same time, or earlier.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import theory
from theory import basis as B
from theory.along import variance_along
from theory.local import LocalOperator
from verify.departure import CONVERGED_TAU, classify_along, classify_sampled

BASES = ("pcs", "fourier", "patch")
PATCH = (4, 2)  # patch size p and stride s of the patch PCs (8 × 8 digits: 9 patches of 4 × 4)
SAMPLED_TAU = np.geomspace(1e-4, 1e4, 33)  # τ grid for propagator models; the last one stands for τ → ∞
LOCAL_STEPS = 48  # Magnus-4 steps of the propagator (48: error ≤ 4e−9 in ln λ̃ on digits, P = 3)
#: bisections of each exact crossing (theory.along.emergence_along): ln τ* to within 0.115 · 2^−24 ≈ 7e−9,
#: S and α to ~1e−8, at under half the cost of float64 resolution (56)
BISECTIONS = 24


@dataclass
class Measurement:
    basis: str
    U: np.ndarray  # (d, m) orthonormal; for "patch": the patch PCs (C·p², m)
    target: np.ndarray  # data variance along each vector
    patch: tuple | None = None


def measurement(ds, basis: str, patch=PATCH) -> Measurement:
    """The basis vectors and the data variance along them for data set `ds`."""
    if basis == "pcs":
        return Measurement(basis, ds.U, ds.lam)
    if basis == "fourier":
        U = B.real_fourier_basis(ds.shape)
        return Measurement(basis, U, np.maximum(B.covariance_along(ds.cov, U), 1e-12 * ds.lam[0]))
    if basis == "patch":
        lam, V = B.patch_pcs(ds.cov, ds.shape, *patch)
        return Measurement(basis, V, np.maximum(lam, 1e-12 * lam[0]), tuple(patch))
    raise theory.SpecbiasError(f"unknown basis {basis!r}; valid: {', '.join(BASES)}")


def shift_invariant(arch) -> bool:
    return arch.basis == "fourier" and getattr(arch, "shift_invariant", True)


def weights(arch, ds, m: Measurement):
    """(the architecture's own modes, weights (n_modes, m)) for a closed-form architecture."""
    if shift_invariant(arch):
        modes = ds.basis("fourier")[0]
        w = (B.patch_weights(m.U, ds.shape, *m.patch) if m.patch else B.fourier_weights(m.U, ds.shape))
        return modes, w
    if m.patch:
        vecs = [B.embed(m.U, ds.shape, m.patch[0], c) for c in B.patch_positions(ds.shape, *m.patch)]
        return ds.lam, np.mean([B.eigen_weights(v, ds.U) for v in vecs], axis=0)
    return ds.lam, B.eigen_weights(m.U, ds.U)


def params(arch, ds, P: int) -> dict:
    C, H, W = ds.shape
    return {"N": H * W * C} if "N" in arch.params else {"P": P, "C": C} if "P" in arch.params else {}


def closed_form(arch) -> bool:
    return shift_invariant(arch) or arch.basis == "eigen"


_COVARIANCES: dict = {}  # the last few propagator results (each keeps its data alive: ids stay valid)


def sampled(name: str, ds, m: Measurement, P: int, tau=SAMPLED_TAU, Q: float = 0.1) -> np.ndarray:
    """Generated variance (T, m) of a model without a closed form along the basis (exact propagator)."""
    kind = "conv" if shift_invariant(theory.get(name)) else "local"
    key = (kind, id(ds.cov), P, np.asarray(tau, float).tobytes(), float(Q))
    if key not in _COVARIANCES:  # one propagator run per (model, data, τ grid), projected on every basis
        if len(_COVARIANCES) >= 4:
            _COVARIANCES.clear()
        _COVARIANCES[key] = (ds.cov, LocalOperator(kind, ds.cov, ds.shape, P).generated_covariance(
            tau, Q=Q, steps=LOCAL_STEPS))
    cov = _COVARIANCES[key][1]
    return B.patch_covariance_along(cov, m.U, ds.shape, *m.patch) if m.patch else B.covariance_along(cov, m.U)


def trajectory(name: str, ds, m: Measurement, P: int, tau, Q: float = 0.1) -> np.ndarray:
    """λ̃ along the basis (T, m) by the model's exact route."""
    arch = theory.get(name)
    if closed_form(arch):
        modes, w = weights(arch, ds, m)
        return variance_along(arch, modes, tau, w, Q=Q, **params(arch, ds, P))
    return sampled(name, ds, m, P, tau, Q)


def flag(name: str, ds, m: Measurement, P: int, label: str, Q: float = 0.1, criteria=("geometric",)):
    """Departure flag of one (architecture, kernel size, data, basis)."""
    arch = theory.get(name)
    if closed_form(arch):
        modes, w = weights(arch, ds, m)
        return classify_along(name, modes, w, m.target, Q=Q, criteria=criteria, dataset=label,
                              basis=m.basis, bisections=BISECTIONS, **params(arch, ds, P))
    lt = sampled(name, ds, m, P, Q=Q)
    return classify_sampled(name, SAMPLED_TAU, lt, m.target, float(arch.initial_variance(Q)), Q,
                            criteria=criteria, dataset=label, basis=m.basis)


def compression(ds, U=None) -> float:
    """std(ln uᵀΣ̄u) / std(ln uᵀΣu) over the vectors u (default the data PCs) holding ≥ 1e−6 of the
    top variance, with uᵀΣ̄u = Σ_f |û(f)|² Σ̃_f (Σ̄ the shift-averaged covariance, per channel): how
    much shift-averaging squeezes the targets (1 for stationary data)."""
    U = ds.U if U is None else U
    lam = B.covariance_along(ds.cov, U)
    bar = ds.basis("fourier")[0] @ B.fourier_weights(U, ds.shape)
    ok = lam > 1e-6 * lam.max()
    return float(np.std(np.log(bar[ok])) / np.std(np.log(lam[ok])))


def converged_along(name: str, ds, m: Measurement, P: int, Q: float = 0.1) -> np.ndarray:
    return trajectory(name, ds, m, P, np.array([CONVERGED_TAU if closed_form(theory.get(name))
                                                 else SAMPLED_TAU[-1]]), Q)[0]
