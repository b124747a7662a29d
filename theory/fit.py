"""Fit of the emergence law τ* = a λ^{−α} (THEORY §4.1): least squares of ln τ* on ln λ, per direction."""
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


def fit_exponent(lam, tau_star, v0=None, gray_zone=GRAY_ZONE, confidence: float = 0.95) -> dict:
    """Fit α separately for increasing (v₀ < λ) and decreasing modes, excluding NaN τ* and the gray
    zone v₀/λ ∈ gray_zone. Returns {"increasing": Fit, "decreasing": Fit} (or {"all": Fit} without v₀)."""
    lam = np.asarray(lam, dtype=float)
    tau = np.asarray(tau_star, dtype=float)
    V.same_shape(lam=lam, tau_star=tau)
    lam, tau = lam.reshape(-1), tau.reshape(-1)
    ok = np.isfinite(tau) & (tau > 0)
    if v0 is None:
        return {"all": _fit(lam[ok], tau[ok], confidence)}
    ratio = V.broadcast(v0=np.asarray(v0, dtype=float), lam=lam)[0] / lam
    outside = (ratio <= gray_zone[0]) | (ratio >= gray_zone[1])
    return {name: _fit(lam[ok & outside & sel], tau[ok & outside & sel], confidence)
            for name, sel in (("increasing", ratio < 1), ("decreasing", ratio > 1))}
