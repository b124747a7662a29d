"""The one table of tolerances: keyed by what is compared and the dtype, each with its reason.

Tests, `specbias verify` and the reports read tolerances only from here.
"""
from __future__ import annotations

from dataclasses import dataclass

from theory.errors import SpecbiasError


@dataclass(frozen=True)
class Tol:
    rel: float
    abs: float
    reason: str

    def ok(self, err_rel: float, err_abs: float = float("inf")) -> bool:
        return err_rel <= self.rel or err_abs <= self.abs


TABLE: dict[tuple[str, str], Tol] = {
    ("known-answer", "float64"): Tol(5e-5, 0.0, "THEORY §4.3 quotes 4–5 significant digits"),
    ("float64-vs-mpmath", "float64"): Tol(
        1e-9, 0.0, "same formula, float64 vs 50-digit mpmath; 1e−9 leaves room for the conditioning of "
        "exp(2 ln H) where ln λ̃ is O(30)"),
    ("closed-form-vs-quadrature", "float64"): Tol(
        1e-7, 0.0, "scipy.integrate.quad at epsrel 1e−12 over ln σ; the integrand has Gumbel-shaped "
        "transitions that quad resolves to ~1e−9 in ln λ̃"),
    ("symbolic-numeric-zero", "mpmath"): Tol(0.0, 1e-25, "40-digit evaluation of an identically "
                                              "zero residual"),
    ("ode-solver", "float64"): Tol(1e-8, 1e-12, "solve_ivp (DOP853, rtol 1e−11) against an "
                                   "independent evaluation of the same ODE"),
    ("weights-vs-discrete-gd", "float64"): Tol(1e-10, 1e-12, "discrete GD of the one-layer model is "
                                               "exact; only rounding over ≤ 1e4 steps remains"),
    ("weights-vs-discrete-gd", "float32"): Tol(1e-4, 1e-6, "float32 rounding accumulated over "
                                               "≤ 1e4 steps"),
    ("weights-vs-gradient-flow", "float64"): Tol(2e-2, 1e-4, "discrete GD vs gradient flow: O(h) gap, "
                                                 "h·(σ²+λ) ≤ 0.02 in our step-size choice"),
    ("weights-vs-gradient-flow", "float32"): Tol(2e-2, 1e-4, "as float64: the O(h) gap dominates"),
    ("log-variance-sigma-grid", "float64"): Tol(5e-2, 5e-2, "64 log-spaced σ levels interpolated "
                                                "in ln σ: O(Δ²) error in ln λ̃"),
    ("log-variance-sigma-grid", "float32"): Tol(5e-2, 5e-2, "σ-grid error dominates float32 rounding"),
    ("monte-carlo-variance", "float64"): Tol(0.0, 5.0, "in units of the standard error of a sample "
                                             "variance: 5σ bound, false alarm < 1e−6"),
    ("monte-carlo-variance", "float32"): Tol(0.0, 5.0, "as float64"),
}


def tol(what: str, dtype: str = "float64") -> Tol:
    """The tolerance for comparing `what` in `dtype`."""
    try:
        return TABLE[(what, dtype)]
    except KeyError:
        raise SpecbiasError(f"no tolerance for {what!r} in {dtype}; known: "
                            + ", ".join(sorted({k for k, _ in TABLE}))) from None
