"""Input validation shared by every architecture: one clear error per bad input."""
from __future__ import annotations

import numpy as np

from .errors import SpecbiasError


def as_array(name: str, value, *, positive: bool = False, nonneg: bool = False) -> np.ndarray:
    """Return `value` as a float64 array after checking it is finite (and its sign)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SpecbiasError(f"{name} must be numeric, got {value!r}") from exc
    if arr.size == 0:
        raise SpecbiasError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise SpecbiasError(f"{name} contains NaN or infinite values")
    if positive and np.any(arr <= 0):
        raise SpecbiasError(f"{name} must be > 0 (smallest given: {arr.min():g})")
    if nonneg and np.any(arr < 0):
        raise SpecbiasError(f"{name} must be >= 0 (smallest given: {arr.min():g})")
    return arr


def variances(lam) -> np.ndarray:
    """Data variances λ_k: finite and strictly positive."""
    return as_array("variances (lam)", lam, positive=True)


def times(tau) -> np.ndarray:
    """Gradient-flow times τ ≥ 0."""
    return as_array("training time (tau)", tau, nonneg=True)


def noise(sigma) -> np.ndarray:
    """Noise levels σ > 0."""
    return as_array("noise level (sigma)", sigma, positive=True)


def rate(eta) -> float:
    """Learning rate η > 0 (a scalar)."""
    arr = as_array("learning rate (eta)", eta, positive=True)
    if arr.size != 1:
        raise SpecbiasError("learning rate (eta) must be a single number")
    return float(arr.reshape(()))


def sampling_range(sigma0, sigmaT) -> tuple[float, float]:
    """End and start of sampling, 0 < σ_0 < σ_T."""
    s0 = float(as_array("sigma0", sigma0, positive=True).reshape(()))
    sT = float(as_array("sigmaT", sigmaT, positive=True).reshape(()))
    if s0 >= sT:
        raise SpecbiasError(f"sigma0 must be smaller than sigmaT (got sigma0={s0:g}, sigmaT={sT:g})")
    return s0, sT


def broadcast(**arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast named arrays together, or say which shapes do not fit."""
    try:
        return tuple(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in arrays.items())
        raise SpecbiasError(f"shapes do not broadcast together: {shapes}") from None
