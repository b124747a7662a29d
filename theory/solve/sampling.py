"""The sampling antiderivative ∫(1 − ψ)/σ dσ (Lemma 4.1) or ∫w dt (flows, theory.md §2.7), term by term.

The integrand is expanded and its terms grouped by their x-dependent exponential e^{−A h(x)}
(x = σ or t; A free of x). Each group r(x)e^{−A h(x)} is integrated by the first method that works:
- no exponential: sympy's rational integration (logarithms), e.g. ∫σ/(λ + σ²) dσ = ½ ln(λ + σ²);
- the substitution v = h(x) when r/h' is rational in v: partial fractions, and each simple pole p
  gives the recognised exponential integral ∫e^{−Av}/(v − p) dv = e^{−Ap} Ei(−A(v − p)) (the
  reduction behind Prop. 4.2); polynomial parts are elementary;
- h quadratic and r constant: completing the square gives erf (theory.md §2.7);
- otherwise sympy's integrate (risch, meijerg) under a time limit.
The Ei terms are kept as structured pieces so the float64 code can evaluate their differences
stably (theory.special.e1_span). The result is only a candidate: derive checks d/dx of it against
the integrand and its τ → 0, τ → ∞ limits (theory.checks.sampling_checks).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sympy as sp

from .. import symbols as S
from .limits import attempt

INTEGRATE_SECONDS = 15.0


@dataclass
class EiPiece:
    """coeff · Ei(−A·u(x)), with A ≥ 0 free of x and u(x) > 0 on the sampling range."""

    coeff: sp.Expr
    A: sp.Expr
    u: sp.Expr

    @property
    def expr(self) -> sp.Expr:
        return self.coeff * sp.Ei(-self.A * self.u)


@dataclass
class Antiderivative:
    expr: sp.Expr | None  # the antiderivative, or None (quadrature)
    ei: list = field(default_factory=list)  # EiPiece terms of expr
    rest: sp.Expr = sp.S.Zero  # expr − Σ ei
    methods: list = field(default_factory=list)  # how each group was integrated
    note: str = ""


def _groups(integrand: sp.Expr, x: sp.Symbol) -> dict:
    """integrand = Σ r_j(x) e^{E_j(x)}: {E_j: r_j}, each x-dependent exponential replaced by a placeholder
    while expanding (sympy's expand would otherwise move e^{−E} into denominators as 1/e^{E})."""
    expr = sp.powsimp(sp.expand_power_exp(integrand))
    holders = {}

    def hold(arg):
        arg = sp.expand(arg)
        xfree, xdep = arg.as_independent(x, as_Add=True)
        if xdep == 0:
            return sp.exp(arg)
        key = holders.setdefault(xdep, sp.Dummy("E"))
        return sp.exp(xfree) * key

    expr = expr.replace(sp.exp, hold)
    back = {d: e for e, d in holders.items()}
    groups = defaultdict(lambda: sp.Integer(0))
    for mono, coeff in sp.collect(sp.expand(expr), list(back), evaluate=False).items():
        expo = sp.Integer(0)
        for f, k in sp.Mul(mono).as_powers_dict().items():
            if f in back:
                expo += k * back[f]
            elif f != 1:
                coeff *= f**k
        groups[sp.expand(expo)] += coeff
    return groups


def _rate(expo: sp.Expr, x: sp.Symbol):
    """exponent = −A·h(x) with A free of x, h monic-ish in x: (A, h)."""
    expo = sp.factor_terms(expo)
    A, h = expo.as_independent(x, as_Add=False)
    return -A, sp.expand(h)


def _by_substitution(r, A, h, x):
    """∫ r e^{−A h} dx through v = h(x): (antiderivative, [EiPiece]) or None."""
    v = sp.Dummy("v", positive=True)
    R = sp.cancel(r / sp.diff(h, x))
    roots, _ = attempt(lambda: sp.solve(sp.Eq(h, v), x), INTEGRATE_SECONDS)
    Rv = None
    for root in roots or []:
        cand = sp.cancel(sp.simplify(R.subs(x, root)))
        if not cand.has(x):
            Rv = cand
            break
    if Rv is None or not Rv.is_rational_function(v):
        return None
    consts = {e: sp.Dummy("c", positive=True) for e in Rv.atoms(sp.exp)}  # x-free exponentials
    scale, core = sp.factor(Rv.subs(consts)).as_independent(v, as_Add=False)
    parts = sp.Add.make_args(sp.expand(scale * sp.apart(core, v)))
    parts = [part.subs({d: e for e, d in consts.items()}) for part in parts]
    total, pieces = sp.Integer(0), []
    for part in parts:
        num, den = sp.fraction(sp.together(part))
        if not den.has(v):
            total += sp.integrate(part * sp.exp(-A * v), v)
            continue
        dpoly = sp.Poly(den, v)
        if dpoly.degree() != 1 or num.has(v):
            return None
        lead, const = dpoly.coeff_monomial(v), dpoly.coeff_monomial(1)
        c, pole = sp.factor(num / lead), sp.factor(-const / lead)  # part = c/(v − pole)
        u = sp.expand(h - pole)
        if A == 0:
            total += c * sp.log(v - pole)
            continue
        pieces.append(EiPiece(sp.powsimp(c * sp.exp(-A * pole)), A, u))
    return total.subs(v, h), pieces


def _gaussian(r, A, h, x):
    """∫ c e^{−A h} dx for h = α(x − x₀)² + β: c e^{−Aβ} √π/(2√(Aα)) erf(√(Aα)(x − x₀))."""
    if r.has(x):
        return None
    poly = sp.Poly(h, x)
    if poly.degree() != 2:
        return None
    al, b1, b0 = poly.all_coeffs()
    x0, beta = -b1 / (2 * al), sp.simplify(b0 - b1**2 / (4 * al))
    k = sp.sqrt(A * al)
    return r * sp.exp(-A * beta) * sp.sqrt(sp.pi) / (2 * k) * sp.erf(k * (x - x0))


def _one(r, A, h, x):
    """∫ r e^{−A h} dx by substitution or erf: (expr, pieces, method) or None."""
    if not h.is_polynomial(x):
        return None
    sub = _by_substitution(r, A, h, x)
    if sub is not None:
        return sub[0], sub[1], f"substitution v = {sp.sstr(h)}, partial fractions → Ei"
    gauss = _gaussian(r, A, h, x)
    if gauss is not None:
        return gauss, [], "completed square → erf"
    return None


def _exponential_group(r, A, h, x):
    """∫ r e^{−A h} dx: the whole group, else term by term, else sympy's integrate (time-limited)."""
    whole = _one(r, A, h, x)
    if whole is not None:
        return whole
    split, _ = attempt(lambda: sp.apart(r, x), INTEGRATE_SECONDS)
    parts = [_one(t, A, h, x) for t in sp.Add.make_args(split if split is not None else sp.expand(r))]
    if all(p is not None for p in parts) and len(parts) > 1:
        return (sum((p[0] for p in parts), sp.Integer(0)), [q for p in parts for q in p[1]],
                "; ".join(dict.fromkeys(p[2] for p in parts)))
    term = r * sp.exp(-A * h)
    got, why = attempt(lambda: sp.integrate(term, x), INTEGRATE_SECONDS)
    if got is None or got.has(sp.Integral):
        return why or "sympy left an integral"
    return got, [], "sympy integrate"


def _rational_group(r, x):
    """∫ r dx with no exponential in x: logarithms by partial fractions in σ², else sympy."""
    if x == S.sigma:
        sub = _by_substitution(r, sp.Integer(0), x**2, x)
        if sub is not None:
            return sub[0], [], "substitution v = σ², partial fractions → logarithms"
    got, why = attempt(lambda: sp.integrate(r, x), INTEGRATE_SECONDS)
    if got is None or got.has(sp.Integral):
        return why or "sympy left an integral"
    return got, [], "rational (sympy integrate)"


def antiderivative(integrand: sp.Expr, x: sp.Symbol) -> Antiderivative:
    """A closed-form antiderivative of `integrand` in x, or None with the reason (see module doc).
    Exponentials free of x are held as symbols while integrating, so that partial fractions never
    turn a decaying e^{−cτ} into a growing 1/e^{cτ}."""
    out = Antiderivative(None)
    rest, pieces = sp.Integer(0), []
    for expo, r in _groups(integrand, x).items():
        consts = {e: sp.Dummy("c", positive=True) for e in r.atoms(sp.exp)}
        back = {d: e for e, d in consts.items()}
        r = sp.together(r.subs(consts))
        if expo == 0:
            got = _rational_group(r, x)
        else:
            A, h = _rate(expo, x)
            got = _exponential_group(r, A, h, x)
        if isinstance(got, str):
            term = (r * sp.exp(expo)).subs(back)
            out.note = (f"no closed form found for ∫ {sp.sstr(term)} d{x} (partial fractions, Ei, erf and "
                        f"sympy's integrate: {got}); the sampling integral is computed by quadrature")
            return out
        rest += got[0].subs(back)
        pieces += [EiPiece(*(sp.factor(e.subs(back)) for e in (p.coeff, p.A, p.u))) for p in got[1]]
        out.methods.append(got[2])
    for p in pieces:  # Ei(−A u) with A ≥ 0 and u > 0: flip both signs where A < 0
        if p.A.is_negative or (-p.A).is_positive:
            p.A, p.u = -p.A, sp.expand(-p.u)
    merged = {}
    for p in pieces:  # one piece per Ei(−A u): coefficients of equal arguments add
        key = (p.A, p.u)
        merged[key] = EiPiece(sp.factor(merged[key].coeff + p.coeff), p.A, p.u) if key in merged else p
    pieces = list(merged.values())
    rest = sp.powsimp(rest).replace(sp.exp, lambda a: sp.exp(sp.factor(a)))  # e^{−a}e^{b} → e^{b−a}
    out.rest, out.ei = rest, pieces
    out.expr = rest + sum((p.expr for p in pieces), sp.Integer(0))
    return out


def integrand(spec_sampling: str, psi: sp.Expr) -> sp.Expr:
    """(1 − ψ)/σ for denoisers (Lemma 4.1), w for flows (§2.7)."""
    return psi if spec_sampling == "flow" else (1 - psi) / S.sigma
