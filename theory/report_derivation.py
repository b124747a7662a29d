"""Human-readable printing of a derivation (`specbias derive`)."""
from __future__ import annotations

import sympy as sp

MARK = {"symbolic": "PASS (symbolic)", "numeric": "PASS (numeric)", "failed": "FAIL",
        "expected-failure": "EXPECTED FAILURE", "not-claimed": "NOT CLAIMED"}


def print_derivation(arch, params: dict) -> bool:
    """Print loss, ODE, solution, sampling formula and each check; return True if all passed."""
    d = arch.derive(**params)
    extra = ", ".join(f"{k}={v}" for k, v in arch.resolve(params).items())
    print(f"== {arch.name}: {arch.title} [{arch.source}]" + (f" ({extra})" if extra else ""))
    print(f"predicted law: {arch.law.kind}, rate {arch.law.rate}")
    print(f"per-mode loss      L = {sp.sstr(d.loss)}")
    print(f"gain ODE (derived) dψ/dτ = {sp.sstr(sp.factor(d.ode))}")
    print(f"claimed solution   ψ = {sp.sstr(d.solution) if d.solution is not None else 'solved numerically'}")
    print(f"sampling integral  ln H = {sp.sstr(d.sampling) if d.sampling is not None else 'quadrature'}")
    if d.generated is not None:
        print(f"generated variance ln λ̃ = {sp.sstr(d.generated)}")
    for c in d.checks:
        print(f"  [{MARK[c.status]:>16}] {c.name}: {c.detail}")
        if c.counterexample:
            pt = ", ".join(f"{k}={v:.6g}" for k, v in c.counterexample.items())
            print(f"      counter-example: {pt}")
    first = d.first_failure()
    if first is not None:
        _explain(arch, d, params)
    print(f"result: {'all checks pass' if first is None else 'FAILED at ' + first.name}")
    return first is None


def _explain(arch, d, params) -> None:
    """On a failure: the derived ODE next to what the claimed solution satisfies, the symbolic residual,
    and the derived rate −∂f/∂ψ next to the law's claimed rate."""
    from . import symbols as S
    from .checks import on_path

    print("  derived vs claimed:")
    print(f"    derived ODE                 dψ/dτ = f(ψ) = {sp.sstr(sp.factor(d.ode))}")
    print(f"    derived rate                −∂f/∂ψ = {sp.sstr(sp.simplify(-sp.diff(d.ode, S.psi)))}"
          f"   (the law claims {arch.law.rate})")
    if d.solution is None:
        return
    try:
        lhs = sp.simplify(sp.diff(d.solution, S.tau))
        rhs = sp.simplify(d.ode.subs(on_path(arch, d.solution, arch.resolve(params))))
        residual = sp.simplify(lhs - rhs)
    except Exception as exc:  # sympy on a researcher's expression: say so, keep the checks printed above
        print(f"    (sympy could not form the residual: {type(exc).__name__})")
        return
    print(f"    claimed solution's          dψ/dτ = {sp.sstr(lhs)}")
    print(f"    f(ψ) along the solution     = {sp.sstr(rhs)}")
    print(f"    symbolic residual           dψ/dτ − f(ψ) = {sp.sstr(residual)}")
