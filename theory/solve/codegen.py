"""Evaluators generated from the solved expressions: vectorised float64 and the mpmath reference.

- ψ: lambdify of the solved gain (numpy/scipy) with e^{x} − 1 as expm1 (the linear and Bernoulli
  classes in their expm1 forms), or the separable integral (theory.solve.numeric).
- ln λ̃: the closed form assembled piece by piece: the elementary part as one lambdified difference
  F(x_a) − F(x_b), and every exponential-integral piece c·Ei(−A u(x)) as the stable difference
  −c·I(A; u_a, u_b), I = theory.special.e1_span (exact ln(u_b/u_a) as A → 0, where the two Ei
  diverge and cancel). τ = 0 gives the exact v₀ (Prop. 4.2).
- Where the float64 closed form is not finite, or its pieces cancel (Σ|pieces| > CANCEL × |ln λ̃|:
  more than 6 of 16 digits lost), those entries are recomputed by Gauss–Legendre quadrature of the
  sampling integral over the float64 ψ, and counted in `fallbacks` (never silently: `scan` reports
  where, and derive --solve prints it).
The mpmath reference is the base class's lambdify of the same sympy expressions (Architecture._build).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import symbols as S
from ..special import e1_span

CANCEL = 1e6
MODULES = ["scipy", "numpy"]


@dataclass
class Fallbacks:
    """How often the float64 closed form handed entries to quadrature, and the last such input."""

    count: int = 0
    entries: int = 0
    last: str = ""


class LogVarianceCode:
    """ln λ̃(λ, τ, Q, η, σ_0, σ_T, params) from a solved antiderivative (see the module doc)."""

    def __init__(self, anti, family, params: tuple):
        x = family.variable
        lo, hi = (S.sigma0, S.sigmaT) if x == S.sigma else (sp.Integer(1), sp.Integer(0))
        self.scale = 2  # ln λ̃ = base + 2[F(x_a) − F(x_b)] for both families
        args = (S.lam, S.tau, S.Q, S.eta, S.sigma0, S.sigmaT, *params)
        self.args = args
        diff = with_expm1(anti.rest.subs(x, lo) - anti.rest.subs(x, hi))
        self.rest = sp.lambdify(args, diff, MODULES)
        self.ei = [(sp.lambdify(args, with_expm1(p.coeff), MODULES), sp.lambdify(args, p.A, MODULES),
                    sp.lambdify(args, p.u.subs(x, lo), MODULES), sp.lambdify(args, p.u.subs(x, hi), MODULES))
                   for p in anti.ei]
        self.base = (lambda sT: np.log(sT**2)) if x == S.sigma else (lambda sT: 0.0)
        self.family = family

    def pieces(self, *vals) -> list:
        with np.errstate(all="ignore"):
            out = [np.asarray(self.rest(*vals), dtype=float)]
            for coeff, A, ua, ub in self.ei:  # c[Ei(−A u_a) − Ei(−A u_b)] = −c·I(A; u_a, u_b)
                out.append(-np.asarray(coeff(*vals), dtype=float) * e1_span(A(*vals), ua(*vals), ub(*vals)))
        return out

    def __call__(self, lam, tau, Q, eta, sigma0, sigmaT, *params):
        """(ln λ̃, mask of entries that need the quadrature fallback)."""
        lam, tau, Q = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lam, tau, Q)))
        vals = (lam, tau, Q, eta, sigma0, sigmaT, *params)
        parts = np.broadcast_arrays(*self.pieces(*vals))
        total = sum(parts)
        with np.errstate(all="ignore"):
            out = self.base(sigmaT) + self.scale * total
            size = self.scale * sum(np.abs(p) for p in parts)
            bad = ~np.isfinite(out) | (size > CANCEL * np.maximum(1.0, np.abs(out)))
        v0 = self.family.initial_log_variance(Q, sigma0, sigmaT)
        out = np.where(tau == 0, v0, out)
        return out, bad & (tau != 0)


def weight_code(solution: sp.Expr, family, params: tuple):
    """Vectorised float64 ψ(λ, x, τ, Q, η, params) from the solved gain."""
    return sp.lambdify((S.lam, family.variable, S.tau, S.Q, S.eta, *params), solution, MODULES)


def stable_gain(gain) -> sp.Expr:
    """The float64 form of the solved gain: for the linear class ψ* + (Q − ψ*)e^{−βτ} is evaluated as
    Q e^{−βτ} − ψ* expm1(−βτ) (no cancellation of ψ* − ψ*e^{−βτ} at small βτ); otherwise as solved."""
    from sympy.codegen.cfunctions import expm1

    if gain.kind.startswith("linear") and gain.fixed_point is not None:
        rate = sp.factor(-sp.diff(gain.ode, S.psi))
        return S.Q * sp.exp(-rate * S.tau) - gain.fixed_point * expm1(-rate * S.tau)
    if gain.kind.startswith("Bernoulli"):  # aQ/((a + bQ)e^{−aτ} − bQ) = aQ/(a e^{−aτ} + bQ expm1(−aτ))
        poly = sp.Poly(sp.expand(gain.ode), S.psi)
        a, b = sp.factor(poly.coeff_monomial(S.psi)), sp.factor(poly.coeff_monomial(S.psi**2))
        return a * S.Q / (a * sp.exp(-a * S.tau) + b * S.Q * expm1(-a * S.tau))
    return with_expm1(gain.solution)


def with_expm1(expr: sp.Expr) -> sp.Expr:
    """Every e^{x} − 1 (or 1 − e^{x}) written as ±expm1(x): no cancellation at small x in float64."""
    from sympy.codegen.cfunctions import expm1

    def match(e):
        if not (e.is_Add and len(e.args) == 2):
            return False
        one = [t for t in e.args if t in (1, -1)]
        ex = [t for t in e.args if isinstance(t, sp.exp) or (isinstance(-t, sp.exp))]
        return len(one) == 1 and len(ex) == 1

    def rewrite(e):
        one = next(t for t in e.args if t in (1, -1))
        ex = next(t for t in e.args if t is not one)
        sign = 1 if isinstance(ex, sp.exp) else -1  # ±e^{x} ∓ 1
        inner = ex if sign == 1 else -ex
        if sign == 1 and one == -1:
            return expm1(inner.args[0])
        if sign == -1 and one == 1:
            return -expm1(inner.args[0])
        return e

    return expr.replace(match, rewrite)
