"""What a researcher declares for `derive --solve`: the per-mode parametrisation and loss, nothing else.

A `Spec` holds θ, the gain ψ(θ), the loss L(θ), the initial gain and optionally `reduce` (θ in terms
of ψ); extra parameters are sympy symbols named in `params` with their default values. Everything
else — the gain ODE, its solution, the sampling antiderivative, the float64 and mpmath evaluators — is
derived by theory.solve.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .. import symbols as S
from ..domain import Domain
from ..errors import SpecbiasError

#: The domain a solved architecture declares unless its Spec says otherwise: the range the
#: verifier's finiteness property sweeps (λ ∈ [1e−4, 1e3]), τ up to the emergence scan's 1e12, σ and η around.
SOLVED_DOMAIN = Domain(lam=(1e-4, 1e3), sigma=(1e-3, 1e2), tau=(0.0, 1e12), eta=(1e-2, 1e2),
                       reason="the generated float64 evaluator is measured against mpmath over this range "
                              "(theory.solve.codegen.scan); outside it nothing was measured")


@dataclass
class Spec:
    """A per-mode learning problem: gradient flow dθ/dτ = −η ∂(lr·L)/∂θ, gain ψ(θ), sampling family."""

    name: str
    loss: sp.Expr
    theta: tuple = (S.psi,)
    gain: sp.Expr = S.psi
    initial: sp.Expr = S.Q
    reduce: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # name → default value
    lr: sp.Expr = sp.S.One  # per-level learning-rate multiplier η(σ)/η
    sampling: str = "denoiser"  # "denoiser" (Lemma 4.1, σ) or "flow" (theory.md §2.7, t)
    title: str = ""
    source: str = "derived by theory.solve"
    conditions: tuple = ()  # human-readable conditions under which the closed forms hold
    q_range: tuple = (0.0, 1.0)
    domain: Domain = SOLVED_DOMAIN
    model: str = ""  # "module:Class" of the torch model (numerics), as Architecture.model

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SpecbiasError(f"a Spec needs a name that is a Python identifier (got {self.name!r})")
        if self.sampling not in ("denoiser", "flow"):
            raise SpecbiasError(f"{self.name}: sampling must be 'denoiser' or 'flow' (got {self.sampling!r})")
        self.theta = tuple(self.theta)
        for what in ("loss", "gain", "initial", "lr"):
            setattr(self, what, sp.sympify(getattr(self, what)))
        known = {str(s): s for e in (self.loss, self.gain, self.lr) for s in e.free_symbols}
        missing = [n for n in self.params if n not in known]
        if missing:
            raise SpecbiasError(f"{self.name}: parameter(s) {missing} do not appear in the loss, gain or lr")

    def symbol(self, name: str) -> sp.Symbol:
        """The sympy symbol of an extra parameter."""
        for e in (self.loss, self.gain, self.lr):
            for s in e.free_symbols:
                if str(s) == name:
                    return s
        raise SpecbiasError(f"{self.name}: no parameter {name!r}")

    def at(self, expr: sp.Expr, values: dict) -> sp.Expr:
        """expr with the extra parameters set to `values` (names → numbers); missing ones stay symbols."""
        return expr.subs({self.symbol(k): v for k, v in values.items() if k in self.params})

    @property
    def variable(self) -> sp.Symbol:
        return S.t if self.sampling == "flow" else S.sigma
