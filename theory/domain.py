"""Supported input ranges of an architecture, and the working precision of the mpmath reference.

`Domain` is what an architecture declares about itself (`Architecture.domain`): the ranges of λ, σ
(also σ_0, σ_T), τ and η over which its float64 evaluation is finite and accurate, with the reason.
Inputs outside are refused with a SpecbiasError naming the range, never answered with a wrong number.

`reference(fn, values)` evaluates an mpmath reference at the caller's `dps` plus guard digits computed
from the magnitudes of the inputs (closed forms cancel, e.g. 1 − e^{−x} at x = mηλτ ≈ 1e−300 needs
300 more digits than the answer), then confirms the result at a higher precision and doubles the
precision until two precisions agree.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import mpmath as mp
import numpy as np

from .errors import SpecbiasError

DPS_MAX = 20000  # the reference refuses to raise its own precision beyond this many digits
_INTEGRAND_GUARD = ContextVar("integrand_guard", default=0)


@dataclass(frozen=True)
class Domain:
    """Inclusive ranges of the inputs where the float64 path is finite and accurate (see module doc).

    `span` bounds λ_max/λ_min along one spectrum (the last axis) for coupled architectures."""

    lam: tuple = (1e-100, 1e100)
    sigma: tuple = (1e-50, 1e50)
    tau: tuple = (0.0, 1e100)
    eta: tuple = (1e-50, 1e50)
    span: float = math.inf
    reason: str = ("products such as 2ητ(σ² + λ) and a·σ_T² stay below 1e300, so no intermediate "
                   "overflows or underflows to a wrong value")

    def check(self, arch: str, **values) -> None:
        """Refuse any named input (lam, sigma, sigma0, sigmaT, tau, eta) outside its range."""
        for name, x in values.items():
            if x is None:
                continue
            lo, hi = getattr(self, "sigma" if name in ("sigma0", "sigmaT") else name)
            x = np.asarray(x, dtype=np.float64)
            if np.any(x < lo) or np.any(x > hi):
                raise SpecbiasError(f"{arch}: {name} must lie in [{lo:g}, {hi:g}] (got {x.min():g}.."
                                    f"{x.max():g}); the supported range of this architecture: "
                                    f"{self.reason}")
        lam = values.get("lam")
        if lam is not None and np.ndim(lam) and math.isfinite(self.span):
            lam = np.asarray(lam, dtype=np.float64)
            ratio = float(np.max(lam.max(axis=-1) / lam.min(axis=-1)))
            if ratio > self.span:
                raise SpecbiasError(f"{arch}: a spectrum may span at most λ_max/λ_min <= {self.span:g} "
                                    f"(got {ratio:.3g}): {self.reason}")


def guard_digits(values) -> int:
    """Extra digits for a reference evaluated at these inputs: 2 Σ |log10 v| over the nonzero ones
    + 10. A closed form built from products of its inputs and their squares (σ², λ + σ²) loses at
    most about that many digits to cancellation (1 − e^{−x}, ln(1 + x), (K − Q) + Q, differences of
    Ei, at x a product of inputs)."""
    arr = np.abs(np.asarray([float(v) for v in values], dtype=np.float64).reshape(-1))
    arr = arr[(arr > 0) & np.isfinite(arr)]
    return int(np.ceil(2.0 * np.sum(np.abs(np.log10(arr))))) + 10


def _agree(a, b, dps: int) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rtol = max(10.0 ** -dps, 4e-16)
    same = (a == b) | (np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b)))
    return bool(np.all(same))


@contextmanager
def integrand_guard(values):
    """Within: `guarded` evaluates at `guard_digits(values)` more digits (for a quadrature whose sum
    needs no extra digits but whose integrand, a closed-form gain, cancels)."""
    token = _INTEGRAND_GUARD.set(guard_digits(values))
    try:
        yield
    finally:
        _INTEGRAND_GUARD.reset(token)


def guarded(fn):
    """fn() at the integrand guard's extra digits, rounded back to the working precision."""
    with mp.extradps(_INTEGRAND_GUARD.get()):
        value = fn()
    return +value


def reference(fn, values, verify: bool = True):
    """fn() (float64 array or number) at the working dps plus `guard_digits(values)`; with `verify`,
    re-evaluated at 1.5× that precision (+10) and the precision doubled until the two agree to
    max(10^−dps, 4e−16) relative; a SpecbiasError beyond DPS_MAX digits."""
    dps = mp.mp.dps
    p = dps + guard_digits(values)
    while p <= DPS_MAX:
        try:
            with mp.workdps(p):
                a = fn()
            if not verify:
                return a
            with mp.workdps(p + p // 2 + 10):
                b = fn()
            if _agree(a, b, dps):
                return b
        except ZeroDivisionError:  # a difference that cancelled to exactly 0 at this precision
            pass
        p *= 2
    raise SpecbiasError(f"the mpmath reference did not settle below {DPS_MAX} digits; the inputs "
                        f"cancel too strongly for a reference (try fewer digits or a milder input)")
