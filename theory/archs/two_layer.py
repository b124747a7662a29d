"""`two_layer`: untied two-layer linear denoiser D(x; σ) = W₂ W₁ x, balanced aligned init (theory.md §2.4).

Aligned SVD init; per mode the two singular values (a, b) give the gain ψ = ab and the loss
L = (σ² + λ)(ab)² − 2λab + λ. Gradient flow conserves c = a² − b² and gives
    dψ/dτ = −2η √(c² + 4ψ²) ((σ² + λ)ψ − λ);
balanced (c = 0, a = b = √ψ) this is the logistic of Prop. 5.1 at rate 4ηλ, half the tied rate:
    ψ(σ, τ) = K Q / ((K − Q) e^{−4ηλτ} + Q),
with the sampling closed form of §3.3 at 8 → 4. Q = 0 is a fixed point (nothing is learned).
"""
from __future__ import annotations

import sympy as sp

from .. import derive as D
from .. import symbols as S
from ..arch import Law
from ..registry import register
from ._logistic import EXPONENTS, LogisticArchitecture

a_, b_ = sp.symbols("a b", positive=True)  # per-mode singular values of W₁ and W₂ along u_k


def _flow(theta, loss) -> dict:
    """Gradient flow dθ_i/dτ = −η ∂L/∂θ_i for each parameter, unreduced (§1.2)."""
    return {t: -S.eta * sp.diff(loss, t) for t in theta}


class TwoLayer(LogisticArchitecture):
    name = "two_layer"
    title = "untied two-layer denoiser W₂W₁ x, balanced"
    source = "theory.md §2.4 (Prop. 5.1 at rate 4ηλ)"
    model = "numerics.models:TwoLayer"
    rate = 4
    law = Law("inverse-variance", "4ηλ (independent of σ; half the tied rate)",
              EXPONENTS,
              "logistic weights at half the tied rate; harmonic weight crossing τ* = ln 2/(4ηλ)")

    def theta(self, **p):
        return (a_, b_)

    def gain(self, **p):
        return a_ * b_

    def reduce(self, **p):
        return {a_: sp.sqrt(S.psi), b_: sp.sqrt(S.psi)}

    def extra_checks(self, ode, **p):
        flow = _flow(self.theta(), self.loss())
        c = a_**2 - b_**2
        dc = sum(sp.diff(c, t) * rhs for t, rhs in flow.items())
        dw = sum(sp.diff(self.gain(), t) * rhs for t, rhs in flow.items())
        unbalanced = -2 * S.eta * sp.sqrt(sp.factor(c**2 + 4 * (a_ * b_)**2)) * (
            (S.sigma**2 + S.lam) * a_ * b_ - S.lam)
        return [D.check_zero("conserved-c", dc, "d(a² − b²)/dτ under the unreduced gradient flow"),
                D.check_zero("unbalanced-ode", dw - unbalanced,
                             "d(ab)/dτ − (−2η√(c² + 4w²)((σ²+λ)w − λ)), any c = a² − b²")
                ] + super().extra_checks(ode)


ARCH = register(TwoLayer())
