"""Run the generic derivation checks of theory.derive for one architecture."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import derive as D
from . import symbols as S


@dataclass(frozen=True)
class Companion:
    """A parameter left in the gain ODE by `reduce` (e.g. the bias b that a data mean couples to the
    weight), with its claimed trajectory θ(τ), its initial value and its optimum."""

    symbol: sp.Symbol
    trajectory: sp.Expr
    initial: sp.Expr
    optimum: sp.Expr


def positive(k: sp.Expr) -> bool:
    """k > 0 proved symbolically: by sympy's assumptions, or for k = a + b√D with a > 0 > b (one square
    root) by a² − b²D > 0; False when undecided."""
    if k.is_positive is not None:
        return bool(k.is_positive)
    k = sp.expand(k)
    roots = {r for r in k.atoms(sp.Pow) if r.exp == sp.Rational(1, 2)}
    if len(roots) != 1:
        return False
    root = roots.pop()
    a, b = k.coeff(root, 0), k.coeff(root, 1)
    if a.has(root) or b.has(root) or not (a.is_positive and b.is_negative):
        return False
    return bool(sp.expand(a**2 - b**2 * root.base).is_positive)


def _to_minus_infinity(f: sp.Expr, var: sp.Symbol) -> bool:
    """f → −∞ as var → ∞: f linear in var with a provably negative slope, else sympy's limit."""
    slope = sp.diff(f, var)
    if not slope.has(var):
        return positive(-slope)
    try:
        return sp.limit(f, var, sp.oo) == -sp.oo
    except (NotImplementedError, ValueError):
        return False


def decayed(expr: sp.Expr, var: sp.Symbol):
    """expr at var → ∞ when var enters only through exponentials exp(f) with f → −∞ (set to 0), so
    that no limit algorithm is needed; None when var remains or the value is not finite."""
    gone = {e: 0 for e in expr.atoms(sp.exp) if e.has(var) and _to_minus_infinity(e.args[0], var)}
    value = expr.subs(gone)
    if value.has(var) or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return value


def check_fixed_point(name: str, expr: sp.Expr, expected: sp.Expr, what: str) -> D.Check:
    """lim τ→∞ expr = expected: decaying exponentials set to 0 where that decides it, else a limit."""
    value = decayed(expr, S.tau)
    if value is not None:
        return D.check_zero(name, value - expected, what + " (decaying exponentials → 0)")
    return D.check_limit(name, expr, S.tau, sp.oo, expected, what)


def _not_claimed(arch, name: str, what: str, instead: str) -> D.Check:
    """A check with nothing to check because the architecture makes no closed-form claim: a legitimate
    choice (the number comes from `instead`), reported as such; a declared expected failure wins."""
    reason = arch.expected_failures.get(name)
    if reason:
        return D.Check(name, "expected-failure", f"{what}: {reason}")
    return D.Check(name, "not-claimed", f"{what}: none claimed; {instead}")


def reduce_check(arch, ode, p) -> list:
    """The derived gain ODE must be in ψ alone (plus declared companions): a parametrisation θ left in
    it means `reduce()` is missing, and every later residual would be meaningless."""
    theta = [t for t in arch.theta(**p) if t != S.psi]
    stray = sorted(ode.free_symbols & set(theta) - {c.symbol for c in arch.companions(**p)}, key=str)
    if not stray:
        return []
    hint = ""
    if len(theta) == 1:
        roots = sp.solve(sp.Eq(S.psi, arch.gain(**p)), theta[0])
        if len(roots) == 1:
            hint = f", here {{{theta[0]}: {sp.sstr(roots[0])}}}"
    names = ", ".join(map(str, stray))
    return [D.Check("ode-in-gain", "failed", f"the derived gain ODE still holds {names}: declare reduce() "
                    f"returning each parameter as a function of ψ{hint} (docs/extending.md, §2)")]


def solution_checks(arch, ode, sol, p) -> list:
    """The claimed ψ(τ) solves the derived ODE (with any companions on their claimed trajectories),
    starts at Q and tends to the optimum."""
    if sol is None:
        return [_not_claimed(arch, "solution", "closed-form ψ(τ)", "the float64 ψ is checked against "
                             "the derived ODE (numeric-path)")]
    return [
        D.check_zero("solution-ode", sp.diff(sol, S.tau) - ode.subs(on_path(arch, sol, p)),
                     "dψ/dτ − f(ψ) for the claimed solution"),
        D.check_zero("initial-value", sol.subs(S.tau, 0) - arch.initial_gain(**p), "ψ(τ=0) − Q"),
        check_fixed_point("fixed-point", sol, arch.fixed_point(**p), "lim τ→∞ ψ − optimum"),
    ]


def on_path(arch, sol, p) -> dict:
    """ψ and every companion parameter on its claimed trajectory."""
    return {S.psi: sol, **{c.symbol: c.trajectory for c in arch.companions(**p)}}


def companion_checks(arch, loss, sol, p) -> list:
    """Each companion's claimed trajectory obeys its own gradient flow dθ/dτ = −η ∂L/∂θ (evaluated on
    the claimed trajectories of ψ and every companion), starts at its initial value and tends to its
    optimum."""
    comps = arch.companions(**p)
    if sol is None or not comps:
        return []
    out = []
    for c in comps:
        flow = (-S.eta * sp.diff(loss, c.symbol)).subs(arch.reduce(**p)).subs(on_path(arch, sol, p))
        out += [D.check_zero(f"{c.symbol}-ode", sp.diff(c.trajectory, S.tau) - flow,
                             f"d{c.symbol}/dτ + η ∂L/∂{c.symbol} on the claimed trajectories"),
                D.check_zero(f"{c.symbol}-initial-value", c.trajectory.subs(S.tau, 0) - c.initial,
                             f"{c.symbol}(τ=0) − its initial value"),
                check_fixed_point(f"{c.symbol}-fixed-point", c.trajectory, c.optimum,
                                  f"lim τ→∞ {c.symbol} − its optimum")]
    return out


def sampling_checks(arch, sol, lnH, p) -> list:
    """The claimed antiderivative differentiates to the sampling integrand; its τ limits."""
    if lnH is None or sol is None:
        return [_not_claimed(arch, "sampling-integral", "closed-form sampling integral", "quadrature of the "
                             "sampling integral (checked against scipy quad by `specbias verify`)")]
    smp = arch.sampling
    gen = smp.log_variance_expr(lnH)
    return [
        D.check_zero("sampling-integral", sp.diff(lnH, smp.variable) - smp.integrand(sol),
                     f"d(ln H)/d{smp.variable} − integrand"),
        D.check_limit("sampling-tau0", gen, S.tau, 0,
                      smp.initial_log_variance(S.Q, S.sigma0, S.sigmaT, log=sp.log),
                      "lim τ→0 ln λ̃ − ln v₀"),
        D.check_limit("sampling-tau-inf", gen, S.tau, sp.oo,
                      arch.optimum_log_variance(S.lam, S.sigma0, S.sigmaT, **p),
                      "lim τ→∞ ln λ̃ − ln λ̃(optimum)"),
    ]


def exact(p: dict) -> dict:
    """Numeric parameters as exact sympy rationals (0.01 → 1/100), so residuals can vanish exactly."""
    return {k: sp.Rational(str(v)) if isinstance(v, float) else v for k, v in p.items()}


def run_derivation(arch, p: dict) -> D.Derivation:
    """Derive the gain ODE from the loss, then run the generic and the architecture's own checks, and
    evaluate the float64 path once (theory.numeric_check)."""
    from .numeric_check import numeric_path_check

    numeric, p = p, exact(p)
    loss = arch.loss(**p)
    ode = D.gain_ode(arch.theta(**p), arch.gain(**p), loss, arch.reduce(**p))
    sol, lnH = arch.solution(**p), arch.log_H(**p)
    optimum = {S.psi: arch.fixed_point(**p), **{c.symbol: c.optimum for c in arch.companions(**p)}}
    checks = reduce_check(arch, ode, p)
    checks += [D.check_zero("ode-fixed-point", ode.subs(optimum),
                            "the derived ODE vanishes at the declared optimum")]
    checks += solution_checks(arch, ode, sol, p)
    checks += companion_checks(arch, loss, sol, p)
    checks += sampling_checks(arch, sol, lnH, p)
    checks += arch.extra_checks(ode, **p)
    checks.append(numeric_path_check(arch, ode, sol, numeric))
    generated = arch.sampling.log_variance_expr(lnH) if lnH is not None else None
    return D.Derivation(arch.name, loss, ode, sol, lnH, generated, checks)
