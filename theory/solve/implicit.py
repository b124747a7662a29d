"""The implicit solution τ(ψ) of a separable gain ODE that dsolve cannot invert: the separable integral
in closed form, found by scaling and a rational substitution, and checked by differentiation.

With K the fixed point and ψ = Kp, write f(Kp)/K = A·F₀(p) with A free of p. Where F₀ is a function of p
alone (no parameters) whose powers of p have denominators dividing q, the substitution u = p^{1/q}
makes dp/F₀(p) = q u^{q−1} du / F₀(u^q) rational in u with rational coefficients, which sympy
integrates exactly (partial fractions: logarithms and arctangents). Then

    τ(ψ) = (G(u) − G(u₀)) / A,   u = (ψ/K)^{1/q},  u₀ = (Q/K)^{1/q},  G' = q u^{q−1}/F₀(u^q).

For the balanced deep linear denoiser at L = 3 (f = 6ηψ^{4/3}(λ − (λ + σ²)ψ), as derived from its loss by
theory.solve.ode; this depth is derived in this project, not in the papers): A = −6ηλ^{4/3}/(λ + σ²)^{1/3},
F₀ = p^{4/3}(p − 1), q = 3 and G = 3/u + ln|u − 1| − ½ ln(u² + u + 1) + √3 atan((2u + 1)/√3).

Where G has a finite limit as u → ∞ (its y-integrand below is regular at y = 0), G(u) − G(u₀) cancels
for large u (deep3: G → √3π/2 while G(u) − G(u₀) ~ u^{−4}, losing p^{4/3} digits' worth at ψ = pψ*): the
float64 evaluator then integrates that part in y = 1/u, dG = −G'(1/y)/y² dy, a rational function
smooth near y = 0 (−3y³/(1 − y³) for deep3), by Gauss–Legendre (theory.solve.numeric).

Each ln|w(u)| with w(1) = 0 is written ln|p − 1| + ln|w/(u − 1)| − ln(1 + u + … + u^{q−1}), so that
the float64 evaluator takes p − 1 = −(1 − p₀)·expit(−z) from the caller without cancellation near the
fixed point (theory.solve.numeric). ψ(τ) itself is then a bracketed one-dimensional root find.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from .. import derive as D
from .. import symbols as S
from .limits import attempt

INTEGRATE_SECONDS = 15.0
u, w, y = sp.symbols("u w y", positive=True)  # u = p^{1/q}; w = |p − 1|; y = 1/u
_p = sp.Symbol("p", positive=True)


@dataclass
class ImplicitTime:
    """τ(ψ) = (G(u) − G(u₀))/A with u = (ψ/K)^{1/q} (see the module doc); G in u and w = |p − 1|."""

    A: sp.Expr  # f(Kp)/K = A·F₀(p), free of ψ
    F0: sp.Expr  # in p, free of parameters
    q: int
    G: sp.Expr  # antiderivative in u (ln|·| throughout), with ln|p − 1| written ln w
    G_plain: sp.Expr  # sympy's antiderivative as it came (printed with ln|·|)
    check: D.Check  # dG/du = q u^{q−1}/F₀(u^q)
    dG_y: sp.Expr | None = None  # −G'(1/y)/y² in y (the symbol `y`) where regular at y = 0, else None

    def tau_expr(self, fixed_point: sp.Expr) -> sp.Expr:
        """τ as a sympy expression of ψ, Q and the parameters (for printing and the mpmath reference)."""
        G = self.G_plain.replace(sp.log, lambda a: sp.log(sp.Abs(a)))
        at = lambda x: G.subs(u, (x / fixed_point) ** sp.Rational(1, self.q))  # noqa: E731
        return (at(S.psi) - at(S.Q)) / self.A


def _scaled(ode: sp.Expr, K: sp.Expr):
    """(A, F₀) with f(Kp)/K = A·F₀(p) and F₀ free of parameters, or None."""
    F = sp.factor(sp.powsimp(sp.expand_power_base(ode.subs(S.psi, K * _p) / K, force=True), force=True))
    A, F0 = F.as_independent(_p, as_Add=False)
    if F0.free_symbols != {_p}:
        return None
    return A, F0


def _denominator(F0: sp.Expr) -> int | None:
    """q: the least common denominator of the rational powers of p in F₀ (1 if none), or None."""
    qs = []
    for e in F0.atoms(sp.Pow):
        if e.base.has(_p):
            if not e.exp.is_Rational:
                return None
            qs.append(int(e.exp.q))
    return math.lcm(*qs) if qs else 1


def _with_abs(G: sp.Expr, q: int) -> sp.Expr:
    """ln(·) → ln|·|, and ln|W(u)| with W(1) = 0 → ln w + ln|W/(u − 1)| − ln Σ_{j<q} u^j (module doc)."""
    total = sum((u**j for j in range(q)), sp.Integer(0))

    def fix(arg):
        if sp.simplify(arg.subs(u, 1)) == 0:
            rest = sp.cancel(arg / (u - 1))
            return sp.log(w) + sp.log(sp.Abs(rest)) - sp.log(total)
        return sp.log(sp.Abs(arg))

    return G.replace(sp.log, fix)


def implicit_time(ode: sp.Expr, K: sp.Expr | None) -> tuple[ImplicitTime | None, str]:
    """The separable integral in closed form (module doc), or (None, why not)."""
    if K is None:
        return None, "no unique fixed point"
    scaled = _scaled(ode, K)
    if scaled is None:
        return None, "f(Kp)/K is not a parameter-free function of p times a constant"
    A, F0 = scaled
    q = _denominator(F0)
    if q is None:
        return None, "irrational powers of ψ"
    integrand = sp.cancel(q * u ** (q - 1) / F0.subs(_p, u**q))
    if not integrand.is_rational_function(u):
        return None, f"q u^(q−1)/F₀(u^q) = {sp.sstr(integrand)} is not rational in u"
    G, why = attempt(lambda: sp.integrate(integrand, u), INTEGRATE_SECONDS)
    if G is None or G.has(sp.Integral, sp.RootSum):
        return None, why or "sympy left an integral"
    check = D.check_zero("implicit-antiderivative", sp.diff(G, u) - integrand, "dG/du − q u^(q−1)/F₀(u^q)")
    if not check.ok:
        return None, f"the antiderivative failed its check: {check.detail}"
    dG_y = sp.cancel(-integrand.subs(u, 1 / y) / y**2)
    regular = sp.fraction(dG_y)[1].subs(y, 0) != 0
    return ImplicitTime(A, F0, q, _with_abs(G, q), G, check, dG_y if regular else None), ""
