"""KL divergences between the generated Gaussian p̃ and the data Gaussian p, both diagonal in U (§3.4)."""
from __future__ import annotations

import numpy as np

from . import validate as V
from .errors import SpecbiasError

DIRECTIONS = ("generated||data", "data||generated")


def kl(lam, lam_tilde, direction: str = "both", delta_mean=None):
    """KL(p̃‖p) = ½ Σ_k (r_k − 1 − ln r_k) + ½ Σ_k Δ_k²/λ_k  ("generated||data"),
    KL(p‖p̃) = ½ Σ_k (1/r_k − 1 + ln r_k) + ½ Σ_k Δ_k²/λ̃_k  ("data||generated"),
    with r_k = λ̃_k/λ_k and Δ = μ̃ − μ in the eigenbasis; sums run over the last axis.
    direction="both" returns a dict keyed by those two names."""
    lam, lt = V.variances(lam), V.as_array("generated variances", lam_tilde, positive=True)
    lam, lt = V.broadcast(lam=lam, lam_tilde=lt)
    delta = np.zeros_like(lam) if delta_mean is None else np.broadcast_to(
        V.as_array("mean difference", delta_mean), lam.shape)
    r = lt / lam
    values = {
        "generated||data": 0.5 * np.sum(r - 1 - np.log(r) + delta**2 / lam, axis=-1),
        "data||generated": 0.5 * np.sum(1 / r - 1 + np.log(r) + delta**2 / lt, axis=-1),
    }
    if direction == "both":
        return values
    if direction not in values:
        raise SpecbiasError(f"unknown KL direction {direction!r}; valid: both, " + ", ".join(DIRECTIONS))
    return values[direction]
