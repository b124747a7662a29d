"""Closed-form generated variance and emergence times of a registered architecture along any
orthonormal measurement basis (see theory.basis for the weights).

    w = basis.fourier_weights(U, shape)          # shift-invariant models: lam = the Fourier spectrum
    w = basis.eigen_weights(U, U_data)           # eigenbasis models: lam = the data eigenvalues
    lt = variance_along(arch, lam, tau, w)       # (T, m) = Σ_f w[f, m] λ̃_f(τ), exact
    ts = emergence_along(arch, lam, w, target)   # τ* per basis vector: first crossing of the
                                                 # threshold between v₀ and the target (theory.md §4.1)

Because every model starts from the same v₀ on every mode (aligned init) and the weights of a unit
vector sum to 1, the variance along any u also starts at v₀; the threshold uses the *data* variance
along u (the target the paper measures against), e.g. λ_k for the k-th data PC.
"""
from __future__ import annotations

import numpy as np

from . import validate as V
from .emergence import _scan_options, first_passage, threshold
from .errors import SpecbiasError
from .registry import get


def _check(arch, lam, weights):
    lam = V.variances(lam)
    w = V.as_array("basis weights", weights, nonneg=True)
    if lam.ndim != 1 or w.ndim != 2 or w.shape[0] != lam.size:
        raise SpecbiasError(f"{arch.name}: basis weights must be (n_modes = {lam.size}, m), got {w.shape}")
    return lam, w


def variance_along(arch, lam, tau, weights, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0, **params):
    """Σ_f w[f, m] λ̃_f(τ) for times `tau` (T,) → (T, m): the generated variance along each basis vector."""
    arch = get(arch)
    lam, w = _check(arch, lam, weights)
    tau = np.atleast_1d(V.times(tau))
    lt = arch.generated_variance(lam[None, :], tau[:, None], Q=Q, eta=eta, sigma0=sigma0, sigmaT=sigmaT,
                                 **params)
    return lt @ w


def emergence_along(arch, lam, weights, target, criterion: str = "geometric", Q=0.1, eta=1.0,
                    sigma0=0.002, sigmaT=80.0, tau_range=(1e-8, 1e12), grid: int = 400, bisections: int = 56,
                    **params):
    """τ* along each basis vector (m,): first crossing of the threshold between v₀ and `target` (the
    data variance along that vector) by Σ_f w[f, m] λ̃_f(τ); NaN where it never crosses. `bisections`
    as in theory.emergence.first_passage (fewer: cheaper, ln τ* to within 0.115 · 2^−bisections)."""
    arch = get(arch)
    lam, w = _check(arch, lam, weights)
    threshold(1.0, 2.0, criterion)  # refuses an unknown criterion before any work
    tau_range, grid = _scan_options(arch, tau_range, grid)
    Q = V.scalar("initial gain (Q)", Q)  # one v₀ for every basis vector
    target = V.variances(target)
    if target.shape != (w.shape[1],):
        raise SpecbiasError(f"target must hold one variance per basis vector ({w.shape[1]}), got {target.shape}")
    v0 = float(arch.initial_variance(Q, sigma0, sigmaT))
    sign = np.where(v0 < target, 1.0, -1.0)[:, None]
    log_thr = np.log(threshold(v0, target, criterion))[:, None]
    kw = dict(Q=Q, eta=eta, sigma0=sigma0, sigmaT=sigmaT, **params)

    def g(tau):  # (m, T) → (m, T)
        if np.all(tau == tau[:1]):  # the scan: one set of times for every basis vector
            lt = arch.generated_variance(lam[None, :], tau[0][:, None], **kw) @ w  # (T, m)
            return sign * (np.log(lt.T) - log_thr)
        lt = arch.generated_variance(lam[None, :], tau[:, 0][:, None], **kw)  # (m, n_f): one τ per row
        return sign * (np.log(np.sum(lt * w.T, axis=-1))[:, None] - log_thr)

    return first_passage(g, (w.shape[1],), tau_range, grid, bisections)
