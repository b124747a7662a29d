"""Run the generic derivation checks of theory.derive for one architecture."""
from __future__ import annotations

import sympy as sp

from . import derive as D
from . import symbols as S


def _missing(arch, name: str, what: str) -> D.Check:
    """A check that cannot run because the architecture claims nothing: expected only if declared."""
    reason = arch.expected_failures.get(name)
    if reason:
        return D.Check(name, "expected-failure", f"{what}: {reason}")
    return D.Check(name, "failed", f"{what}: no claim given and no expected failure declared")


def solution_checks(arch, ode, sol, p) -> list:
    """The claimed ψ(τ) solves the derived ODE, starts at Q and tends to the optimum."""
    if sol is None:
        return [_missing(arch, n, w) for n, w in (("solution-ode", "solution solves the ODE"),
                                                  ("initial-value", "ψ(τ=0) = Q"),
                                                  ("fixed-point", "ψ(τ→∞) = optimum"))]
    return [
        D.check_zero("solution-ode", sp.diff(sol, S.tau) - ode.subs(S.psi, sol),
                     "dψ/dτ − f(ψ) for the claimed solution"),
        D.check_zero("initial-value", sol.subs(S.tau, 0) - arch.initial_gain(**p), "ψ(τ=0) − Q"),
        D.check_limit("fixed-point", sol, S.tau, sp.oo, arch.fixed_point(**p), "lim τ→∞ ψ − optimum"),
    ]


def sampling_checks(arch, sol, lnH, p) -> list:
    """The claimed antiderivative differentiates to the sampling integrand; its τ limits."""
    if lnH is None or sol is None:
        return [_missing(arch, "sampling-integral", "closed-form sampling integral")]
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
    """Derive the gain ODE from the loss, then run the generic and the architecture's own checks."""
    p = exact(p)
    loss = arch.loss(**p)
    ode = D.gain_ode(arch.theta(**p), arch.gain(**p), loss, arch.reduce(**p))
    sol, lnH = arch.solution(**p), arch.log_H(**p)
    checks = [D.check_zero("ode-fixed-point", ode.subs(S.psi, arch.fixed_point(**p)),
                           "the derived ODE vanishes at the declared optimum")]
    checks += solution_checks(arch, ode, sol, p)
    checks += sampling_checks(arch, sol, lnH, p)
    checks += arch.extra_checks(ode, **p)
    generated = arch.sampling.log_variance_expr(lnH) if lnH is not None else None
    return D.Derivation(arch.name, loss, ode, sol, lnH, generated, checks)
