"""`sym_two_layer`: tied two-layer denoiser D(x; σ) = P_σ P_σᵀ x (theory.md §2.3, §3.3; Prop. 5.1, eq. 8).

Aligned init P(0)P(0)ᵀ = Σ_k Q_k u_k u_kᵀ. Per mode the parameter is p = ‖P_σᵀ u_k‖ with gain
ψ = w_k = p², so L = (σ² + λ)p⁴ − 2λp² + λ and gradient flow on p gives
    dψ/dτ = 8ηλ ψ (1 − ψ/K)   ⇒   ψ(σ, τ) = K Q / ((K − Q) e^{−8ηλτ} + Q),
a logistic at rate 8ηλ, independent of σ. Q = 0 is a fixed point (nothing is learned). The
harmonic-mean weight crossing is τ* = ln 2/(8ηλ), free of σ and Q. Sampling closed form: §3.3.
"""
from __future__ import annotations

import sympy as sp

from .. import symbols as S
from ..arch import Law
from ..registry import register
from ._logistic import EXPONENTS, LogisticArchitecture

p_ = sp.Symbol("p", positive=True)  # per-mode singular value of P_σ along u_k


class SymTwoLayer(LogisticArchitecture):
    name = "sym_two_layer"
    title = "tied two-layer denoiser P_σ P_σᵀ x"
    source = "Prop. 5.1, eq. 8 and §3.3"
    model = "numerics.models:SymTwoLayer"
    rate = 8
    law = Law("inverse-variance", "8ηλ (independent of σ)",
              EXPONENTS,
              "logistic weights; harmonic weight crossing τ* = ln 2/(8ηλ) (§2.3)")

    def theta(self, **p):
        return (p_,)

    def gain(self, **p):
        return p_**2

    def reduce(self, **p):
        return {p_: sp.sqrt(S.psi)}


ARCH = register(SymTwoLayer())
