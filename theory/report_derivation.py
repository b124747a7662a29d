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
    print(f"result: {'all checks pass' if first is None else 'FAILED at ' + first.name}")
    return first is None
