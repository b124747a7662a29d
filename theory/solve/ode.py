"""From the declared loss to the solved gain: derive the gain ODE, classify it, solve it with dsolve.

The gain ODE dψ/dτ = f(ψ) comes from gradient flow on θ (theory.derive.gain_ode, with the per-level
learning-rate multiplier folded into the loss). It is autonomous; its class decides the method:
- linear first-order f = α − βψ: dsolve ('1st_linear'), ψ = α/β + (Q − α/β)e^{−βτ};
- Bernoulli f = aψ + bψ² (the logistic of Prop. 5.1, eq. 8): dsolve ('Bernoulli');
- anything else autonomous is separable: dsolve is tried (under a time limit) and an implicit
  answer, or none, is reported as "no explicit closed form" with the class, and the gain is then
  computed numerically from the separable integral (theory.solve.numeric), in closed form τ(ψ) where
  theory.solve.implicit finds one (the deep linear L = 3 case).
For the linear and Bernoulli classes the solution is written in the papers' form with decaying
exponentials (no e^{+cτ} that overflows in float64) and checked equal to dsolve's answer.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .. import derive as D
from .. import symbols as S
from .implicit import implicit_time
from .limits import attempt

DSOLVE_SECONDS = 8.0
_y = sp.Function("y")


@dataclass
class GainSolution:
    ode: sp.Expr  # f(ψ) = dψ/dτ, in ψ (and companions, if any)
    kind: str  # the ODE class in words
    hints: tuple  # sympy's classify_ode hints
    solution: sp.Expr | None  # ψ(τ), explicit, or None
    fixed_point: sp.Expr | None  # the stable nonzero root of f
    note: str  # how it was solved, or why not
    implicit: object = None  # theory.solve.implicit.ImplicitTime: τ(ψ) in closed form where ψ(τ) is not


def derive_ode(spec) -> sp.Expr:
    """dψ/dτ = Σ ∂ψ/∂θ_i (−η ∂(lr·L)/∂θ_i), written in ψ through `reduce`."""
    return D.gain_ode(spec.theta, spec.gain, spec.lr * spec.loss, spec.reduce)


def classify(ode: sp.Expr) -> str:
    """The class of the autonomous gain ODE dψ/dτ = f(ψ), in words."""
    if not ode.has(S.psi):
        return "trivial (f independent of ψ)"
    try:
        poly = sp.Poly(sp.expand(ode), S.psi)
    except sp.PolynomialError:
        poly = None
    if poly is not None and poly.degree() == 1:
        return "linear first-order, constant coefficients in τ"
    if poly is not None and poly.degree() == 2 and poly.coeff_monomial(1) == 0:
        return "Bernoulli (n = 2: logistic)"
    if poly is not None:
        return f"separable, autonomous (f polynomial of degree {poly.degree()} in ψ)"
    return "separable, autonomous (f not polynomial in ψ: fractional powers)"


def canonical(kind: str, ode: sp.Expr, initial: sp.Expr, fp) -> sp.Expr | None:
    """The solution in the form the papers print, built from f's coefficients (then checked equal to
    dsolve's answer): linear ψ* + (Q − ψ*)e^{−βτ}, β = −∂f/∂ψ (Prop. eq. 7); Bernoulli f = aψ + bψ²
    ψ = aQ/((a + bQ)e^{−aτ} − bQ) (Prop. 5.1, eq. 8, with a = mηλ)."""
    if kind.startswith("linear") and fp is not None:
        beta = sp.factor(-sp.diff(ode, S.psi))
        return fp + (initial - fp) * sp.exp(-beta * S.tau)
    if kind.startswith("Bernoulli"):
        poly = sp.Poly(sp.expand(ode), S.psi)
        a, b = sp.factor(poly.coeff_monomial(S.psi)), sp.factor(poly.coeff_monomial(S.psi**2))
        return a * initial / ((a + b * initial) * sp.exp(-a * S.tau) - b * initial)
    return None


def fixed_point(ode: sp.Expr, initial: sp.Expr) -> sp.Expr | None:
    """The root of f that the flow tends to: the unique root, or the one ≠ 0 (0 is the trivial fixed
    point of product parametrisations)."""
    roots, _ = attempt(lambda: sp.solve(ode, S.psi), DSOLVE_SECONDS)
    if not roots:
        return None
    roots = [sp.simplify(r) for r in roots if r != 0] or roots
    return roots[0] if len(roots) == 1 else None


def solve_gain(ode: sp.Expr, initial: sp.Expr = S.Q, seconds: float = DSOLVE_SECONDS, theta=()) -> GainSolution:
    """Classify and solve dψ/dτ = f(ψ), ψ(0) = initial."""
    stray = sorted((s for s in ode.free_symbols if s not in (S.psi, S.lam, S.sigma, S.t, S.eta, S.tau)
                    and s in theta), key=str)
    if stray:
        kind = f"coupled system: the gain ODE still holds {', '.join(map(str, stray))}"
        return GainSolution(ode, kind, (), None, None, f"no closed form by --solve: {kind} (the scalar "
                            "solver handles dψ/dτ = f(ψ); declare reduce() for every parameter, or write the "
                            "solution by hand)")
    kind = classify(ode)
    eq = sp.Eq(_y(S.tau).diff(S.tau), ode.subs(S.psi, _y(S.tau)))
    hints, _ = attempt(lambda: sp.classify_ode(eq, _y(S.tau)), seconds)
    hints = tuple(h for h in (hints or ()) if not h.endswith("_Integral"))
    fp = fixed_point(ode, initial)
    if kind.startswith(("separable", "trivial")):
        hint = "separable" if "separable" in hints else "default"
        sol, why = attempt(lambda: sp.dsolve(eq, _y(S.tau), hint=hint), seconds)
        explicit = sol is not None and not isinstance(sol, list) and sol.lhs == _y(S.tau) \
            and not sol.rhs.has(_y) and not sol.rhs.has(sp.Integral)
        if not explicit:
            said = why or "dsolve returned only an implicit relation between ψ and τ"
            note = f"no explicit closed form: {kind}; dsolve ('{hint}'): {said}"
            implicit, why_not = implicit_time(ode, fp)
            note += (f"; implicit τ(ψ) in closed form (ψ = ψ*·u^{implicit.q}, partial fractions in u; "
                     f"{implicit.check.status} check of dG/du), ψ(τ) by a bracketed root find"
                     if implicit is not None else f"; no closed-form τ(ψ) either ({why_not}): the separable "
                     "integral by quadrature")
            return GainSolution(ode, kind, hints, None, fp, note, implicit)
    sol, why = attempt(lambda: sp.dsolve(eq, _y(S.tau), ics={_y(0): initial}), seconds)
    form = canonical(kind, ode, initial, fp)
    if sol is None or isinstance(sol, list):
        if form is None:
            return GainSolution(ode, kind, hints, None, fp,
                                f"no closed form: {kind}; dsolve: {why or 'several branches'}")
        return _by_substitution(kind, ode, initial, hints, fp, form, f"dsolve: {why or 'several branches'}")
    psi, said = sol.rhs, f"dsolve solved it ({kind}; hints {', '.join(hints[:3])})"
    if form is not None:
        same = D.check_zero("dsolve-form", form - psi, "canonical form − dsolve's solution")
        if same.ok:
            psi, said = form, said + f"; written as the canonical {kind.split(' ')[0]} form ({same.status} check)"
    return GainSolution(ode, kind, hints, psi, fp, said)


def _by_substitution(kind, ode, initial, hints, fp, form, why) -> GainSolution:
    """The canonical solution of a linear or Bernoulli ODE when dsolve gave none in time (a loaded
    machine): accepted only if it solves the ODE and starts at the initial value (checked here)."""
    checks = [D.check_zero("form-ode", sp.diff(form, S.tau) - ode.subs(S.psi, form), "dψ/dτ − f(ψ)"),
              D.check_zero("form-initial", form.subs(S.tau, 0) - initial, "ψ(0) − Q")]
    if not all(c.ok for c in checks):
        return GainSolution(ode, kind, hints, None, fp, f"no closed form: {kind}; {why}")
    return GainSolution(ode, kind, hints, form, fp, f"{kind}: the canonical {kind.split(' ')[0]} solution, "
                        f"checked by substitution ({why})")
