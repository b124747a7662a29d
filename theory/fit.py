"""Fit of the emergence law τ* = a λ^{−α} (theory.md §4.1): least squares of ln τ* on ln λ, per direction."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from . import validate as V

GRAY_ZONE = (0.5, 2.0)


@dataclass
class Fit:
    """α with its 95% confidence interval, R², the number of modes N, and the prefactor a."""

    alpha: float
    ci: tuple
    r2: float
    n: int
    a: float

    def as_dict(self) -> dict:
        return asdict(self)


def _fit(lam: np.ndarray, tau: np.ndarray, confidence: float) -> Fit:
    n = lam.size
    if n < 2 or np.ptp(lam) == 0:  # one mode, or all variances equal: the slope is undefined
        return Fit(np.nan, (np.nan, np.nan), np.nan, int(n), np.nan)
    x, y = np.log(lam), np.log(tau)
    res = stats.linregress(x, y)
    alpha = -res.slope
    if n > 2:
        half = stats.t.ppf(0.5 + confidence / 2, n - 2) * res.stderr
    else:
        half = np.nan
    return Fit(float(alpha), (float(alpha - half), float(alpha + half)), float(res.rvalue**2), int(n),
               float(np.exp(res.intercept)))


def _check_options(gray_zone, confidence) -> tuple:
    confidence = V.scalar("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    zone = V.interval("gray_zone", gray_zone)
    return zone, confidence


def in_gray_zone(v0, lam, gray_zone=GRAY_ZONE) -> np.ndarray:
    """v₀/λ strictly inside gray_zone: modes too close to their start for a meaningful τ* (protocols.md §3),
    excluded from every exponent fit."""
    lo, hi = V.interval("gray_zone", gray_zone)
    v0, lam = V.as_array("initial variance (v0)", v0, positive=True), V.variances(lam)
    ratio = V.broadcast(v0=v0, lam=lam)[0] / lam
    return (ratio > lo) & (ratio < hi)


def fit_exponent(lam, tau_star, v0=None, gray_zone=GRAY_ZONE, confidence: float = 0.95) -> dict:
    """Fit α separately for increasing (v₀ < λ) and decreasing modes, excluding NaN τ* and the gray
    zone v₀/λ ∈ gray_zone. Returns {"increasing": Fit, "decreasing": Fit} (or {"all": Fit} without v₀).

    λ and v₀ must be finite and positive, τ* positive or NaN (never crossed), with lam and tau_star
    of the same shape (v₀ broadcasts to it), 0 < confidence < 1; anything else raises SpecbiasError."""
    gray_zone, confidence = _check_options(gray_zone, confidence)
    lam = V.variances(lam)
    tau = V.as_array("emergence times (tau_star)", tau_star, positive=True, allow_nan=True)
    V.same_shape(lam=lam, tau_star=tau)
    if v0 is not None:
        v0 = V.broadcast_to("v0", V.as_array("initial variance (v0)", v0, positive=True), lam.shape)
    lam, tau = lam.reshape(-1), tau.reshape(-1)
    ok = np.isfinite(tau)
    if v0 is None:
        return {"all": _fit(lam[ok], tau[ok], confidence)}
    ratio = v0.reshape(-1) / lam
    outside = ~in_gray_zone(v0.reshape(-1), lam, gray_zone)
    return {name: _fit(lam[ok & outside & sel], tau[ok & outside & sel], confidence)
            for name, sel in (("increasing", ratio < 1), ("decreasing", ratio > 1))}
