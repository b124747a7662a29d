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
    direction="both" returns a dict keyed by those two names.

    Each term x − ln(1 + x) ≥ 0 (x = r − 1 = (λ̃ − λ)/λ, resp. 1/r − 1) is computed as x − log1p(x),
    or for |x| < 0.01 by its series Σ_{n≥2} (−x)ⁿ/n (10 terms), which keeps full relative accuracy
    where x − log1p(x) would cancel (r − 1 − ln r, as first written, was negative for λ̃ ≈ λ); each
    term is then clipped at 0, so rounding can never make a divergence negative."""
    if direction != "both" and direction not in DIRECTIONS:
        raise SpecbiasError(f"unknown KL direction {direction!r}; valid: both, " + ", ".join(DIRECTIONS))
    lam, lt = V.variances(lam), V.as_array("generated variances (lam_tilde)", lam_tilde, positive=True)
    if delta_mean is None:
        lam, lt = V.broadcast(lam=lam, lam_tilde=lt)
        delta = np.zeros_like(lam)
    else:
        lam, lt, delta = V.broadcast(lam=lam, lam_tilde=lt,
                                     delta_mean=V.as_array("mean difference (delta_mean)", delta_mean))

    def gap(x):  # x − ln(1 + x) ≥ 0, clipped where rounding makes it negative
        series = np.zeros_like(x)
        for n in range(11, 1, -1):  # Horner for Σ_{n=2}^{11} (−1)ⁿ xⁿ/n; error |x|^{12}/12 < 1e−25 x²
            series = x * (series + (-1) ** n / n)
        series *= x
        return np.maximum(np.where(np.abs(x) < 0.01, series, x - np.log1p(x)), 0.0)

    values = {
        "generated||data": 0.5 * np.sum(gap((lt - lam) / lam) + delta**2 / lam, axis=-1),
        "data||generated": 0.5 * np.sum(gap((lam - lt) / lt) + delta**2 / lt, axis=-1),
    }
    return values if direction == "both" else values[direction]
