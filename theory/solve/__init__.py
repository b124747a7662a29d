"""`derive --solve`: from a per-mode loss and parametrisation to verified closed forms (issue 19).

    from theory.solve import Spec, solve, solved
    spec = Spec("ridge", loss=S.denoiser_loss(S.psi) + rho * S.psi**2, params={"rho": 0.01})
    arch = solve(spec)       # an Architecture: derive(), weight(), generated_variance(), verify
    arch = solved(spec)      # the same, registered (what an example module calls)

Steps (each its own module): the gain ODE is derived and solved (ode), the sampling integral is
integrated (sampling), float64 and mpmath evaluators are generated (codegen; numeric where no explicit
gain exists), and the result is wrapped as an Architecture (arch) and printed for pasting (latex).
"""
from __future__ import annotations

import time

from ..registry import register
from .arch import SolvedArchitecture
from .ode import derive_ode, solve_gain
from .sampling import Antiderivative, antiderivative, integrand
from .spec import SOLVED_DOMAIN, Spec


def solve(spec: Spec) -> SolvedArchitecture:
    """Derive, classify and solve the gain ODE, integrate the sampling integral, generate evaluators."""
    start = time.perf_counter()
    gain = solve_gain(derive_ode(spec), spec.initial, theta=spec.theta)
    if gain.solution is None:
        anti = Antiderivative(None, note="no closed-form gain: the sampling integral is computed by quadrature")
    else:
        anti = antiderivative(integrand(spec.sampling, gain.solution), spec.variable)
    return SolvedArchitecture(spec, gain, anti, time.perf_counter() - start)


def solved(spec: Spec) -> SolvedArchitecture:
    """`solve` and register (an example module's last line: `ARCH = solved(SPEC)`)."""
    return register(solve(spec))


__all__ = ["SOLVED_DOMAIN", "SolvedArchitecture", "Spec", "solve", "solved"]
