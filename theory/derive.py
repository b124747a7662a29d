"""Generic symbolic derivation and checking, run identically for every architecture.

From an architecture's per-mode parametrisation θ and loss L(θ) this module
1. derives the gradient-flow ODE dθ/dτ = −η ∂L/∂θ and the gain ODE dψ/dτ = Σ ∂ψ/∂θ_i dθ_i/dτ,
2. checks the claimed solution ψ(τ) by substitution, at τ = 0 (initial value) and τ → ∞ (fixed point),
3. checks the claimed sampling antiderivative by differentiation, and its τ → 0, τ → ∞ limits.

A check passes symbolically when sympy reduces the residual to 0. When sympy cannot decide, the
residual is evaluated at random points with mpmath at 40 digits; the check then passes as
"numeric" only if every residual is below 1e-25, and otherwise fails with the worst point as a
counter-example.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import mpmath as mp
import sympy as sp

from . import symbols as S

NUMERIC_DPS = 40
NUMERIC_ZERO = 1e-25


@dataclass
class Check:
    """The outcome of one check: how it was decided and, if it failed, where."""

    name: str
    status: str  # "symbolic", "numeric", "failed", "expected-failure" or "not-claimed"
    detail: str = ""
    residual: float | None = None
    counterexample: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("symbolic", "numeric", "expected-failure", "not-claimed")


@dataclass
class Derivation:
    """Everything `specbias derive` prints: the loss, ODE, solution, sampling formula and checks."""

    arch: str
    loss: sp.Expr
    ode: sp.Expr
    solution: sp.Expr | None
    sampling: sp.Expr | None
    generated: sp.Expr | None
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)


def _sample_point(free: set[sp.Symbol], rng: random.Random) -> dict:
    """A random point with every symbol in a range where the theory applies."""
    point = {}
    for s in sorted(free, key=str):
        if s == S.Q:
            point[s] = mp.mpf(rng.uniform(0.05, 0.95))
        elif s == S.sigma0:
            point[s] = mp.mpf(rng.uniform(0.001, 0.05))
        elif s == S.sigmaT:
            point[s] = mp.mpf(rng.uniform(20, 100))
        else:
            point[s] = mp.mpf(10) ** rng.uniform(-1.5, 1.0)
    return point


def numeric_residual(expr: sp.Expr, n: int = 12, seed: int = 0, domain=None):
    """Largest |expr| over n random points at NUMERIC_DPS digits, and the worst point."""
    rng = random.Random(seed)
    free = expr.free_symbols
    fn = sp.lambdify(sorted(free, key=str), expr, modules="mpmath")
    worst, where = mp.mpf(0), None
    with mp.workdps(NUMERIC_DPS):
        for _ in range(n):
            point = _sample_point(free, rng)
            if domain is not None:
                point.update(domain(point))
            value = abs(mp.mpmathify(fn(*[point[s] for s in sorted(free, key=str)])))
            if value > worst or where is None:
                worst, where = value, point
    return float(worst), {str(k): float(v) for k, v in (where or {}).items()}


def check_zero(name: str, expr: sp.Expr, what: str, domain=None) -> Check:
    """Pass if `expr` is identically zero: symbolically if sympy can show it, else numerically."""
    try:
        simplified = sp.simplify(expr)
    except Exception:  # sympy can raise on hard expressions; fall back to numbers
        simplified = expr
    if simplified == 0:
        return Check(name, "symbolic", f"{what}: residual simplifies to 0", 0.0)
    residual, point = numeric_residual(simplified, domain=domain)
    if residual < NUMERIC_ZERO:
        return Check(name, "numeric", f"{what}: |residual| < {NUMERIC_ZERO:g} at 12 random points "
                     f"({NUMERIC_DPS} digits; sympy could not simplify to 0)", residual)
    text = sp.sstr(simplified)
    text = text if len(text) <= 240 else text[:240] + " …"
    return Check(name, "failed", f"{what}: residual {residual:.3e} ≠ 0; symbolic residual {text}", residual, point)


def check_limit(name: str, expr: sp.Expr, var: sp.Symbol, at, expected: sp.Expr, what: str) -> Check:
    """Pass if lim_{var→at} expr equals `expected` (sympy limit, else high-precision evaluation)."""
    try:
        lim = sp.limit(expr, var, at)
        if lim.has(sp.Limit) or lim.has(sp.nan):
            raise ValueError("undecided")
        return check_zero(name, lim - expected, what)
    except Exception:
        probe = sp.Float(10) ** (-30 if at == 0 else 30)
        near = expr.subs(var, probe)
        check = check_zero(name, near - expected, what + f" (evaluated at {var} = {probe})")
        if check.status == "failed" and check.residual is not None and check.residual < 1e-12:
            check.status, check.detail = "numeric", check.detail + "; residual within the probe's distance"
        return check


def gain_ode(theta, gain, loss, reduce) -> sp.Expr:
    """dψ/dτ from gradient flow dθ_i/dτ = −η ∂L/∂θ_i, expressed in ψ through `reduce`."""
    rhs = sum(sp.diff(gain, t) * (-S.eta * sp.diff(loss, t)) for t in theta)
    return sp.simplify(sp.expand(rhs.subs(reduce)))
