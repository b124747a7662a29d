"""`flow_matching`: linear flow matching v(x, t) = W_t x with independent W_t (theory.md §2.7; paper App. H).

Interpolation x_t = t x₁ + (1 − t) x₀, x₀ ~ N(0, I) at t = 0, data x₁ at t = 1, velocity target x₁ − x₀.
Per mode, with g(t) = t²λ + (1 − t)², the loss is
    L_t(w) = E(w x_t − (x₁ − x₀))² = g w² − 2w(tλ − (1 − t)) + (λ + 1),
gradient flow gives w(t, τ) = w* + (Q − w*) e^{−2ητg},  w* = (tλ − (1 − t))/g = g'/(2g),
and sampling dx/dt = w x from t = 0 to 1 gives ln λ̃ = 2 ∫₀¹ w dt = 2[F(1) − F(0)] with A = 2ητ and
    F(t) = ½ ln g − ½ Ei(−A g) + Q e^{−Aλ/(λ+1)} ½√(π/(A(λ+1))) erf(√(A(λ+1)) (t − 1/(λ+1))),
i.e. (theory.md §2.7)
    ln λ̃ = ln λ + [Ei(−A) − Ei(−Aλ)] + Q √(π/(A(λ+1))) e^{−Aλ/(λ+1)} [erf √(A/(λ+1)) + erf(λ√(A/(λ+1)))].
Limits: λ̃(0) = e^{2Q}, λ̃(∞) = λ exactly.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from scipy import special

from .. import derive as D
from .. import symbols as S
from ..arch import Architecture, Law
from ..registry import register
from ..sampling import FLOW
from ..special import e1_span

t = S.t
w = sp.Symbol("w", real=True)  # the per-mode velocity gain w_k(t)
SMALL_X = 1e-4  # below, √π erf(x)/(2x) = 1 − x²/3 + O(x⁴) to float64 precision


def g_sym():
    """g(t) = E x_t² = t²λ + (1 − t)² (§2.7)."""
    return t**2 * S.lam + (1 - t) ** 2


def erf_ratio(x):
    """h(x) = √π erf(x)/(2x), h(0) = 1: the mean of e^{−u²} over [0, x], stable as x → 0."""
    x = np.asarray(x, dtype=np.float64)
    series = np.asarray(1.0 - x * x / 3.0)
    return np.divide(0.5 * np.sqrt(np.pi) * special.erf(x), x, out=series, where=x >= SMALL_X)


class FlowMatching(Architecture):
    name = "flow_matching"
    title = "linear flow matching v(x, t) = W_t x"
    source = "theory.md §2.7; Wang & Pehlevan, arXiv 2503.03206, App. H"
    model = "numerics.models:FlowMatching"
    sampling = FLOW
    q_range = (0.0, 1.0)
    law = Law("inverse-variance", "2η g(t), g = t²λ + (1 − t)²",
              {("harmonic", 0.0): (0.85, 1.0), ("geometric", 0.0): (0.3, 0.6),
               ("harmonic", 0.1): (0.85, 1.0), ("geometric", 0.1): (0.3, 0.6)},
              "flow matching: α ≈ 0.9–0.96 (harmonic) but 0.3–0.5 (geometric) (§4.2); fits of increasing "
              "modes (λ > 2e^{2Q}) within [1e−3, 1e2] measured 0.875–0.98 and 0.46–0.545")

    # ---- symbolic declaration -------------------------------------------------------------
    def theta(self, **p):
        return (w,)

    def gain(self, **p):
        return w

    def loss(self, **p):
        """L_t(w) = g w² − 2w(tλ − (1 − t)) + (λ + 1) (§2.7, no factor ½)."""
        return g_sym() * w**2 - 2 * w * (t * S.lam - (1 - t)) + (S.lam + 1)

    def reduce(self, **p):
        return {w: S.psi}

    def fixed_point(self, **p):
        """w* = g'/(2g)."""
        g = g_sym()
        return sp.diff(g, t) / (2 * g)

    def solution(self, **p):
        return self.fixed_point() + (S.Q - self.fixed_point()) * sp.exp(-2 * S.eta * S.tau * g_sym())

    def log_H(self, **p):
        """F(t) with F' = w: ½ ln g − ½ Ei(−Ag) + Q ∫ e^{−Ag} dt (g = (λ+1)(t − t₀)² + λ/(λ+1))."""
        A, g, lp1 = 2 * S.eta * S.tau, g_sym(), S.lam + 1
        gauss = (sp.exp(-A * S.lam / lp1) * sp.sqrt(sp.pi / (A * lp1)) / 2
                 * sp.erf(sp.sqrt(A * lp1) * (t - 1 / lp1)))
        return sp.log(g) / 2 - sp.Ei(-A * g) / 2 + S.Q * gauss

    def extra_checks(self, ode, **p):
        """The theory.md §2.7 formula as printed equals 2[F(1) − F(0)] of the claimed antiderivative."""
        A, lam = 2 * S.eta * S.tau, S.lam
        x = sp.sqrt(A / (lam + 1))
        printed = 2 * (sp.log(lam) / 2 + (sp.Ei(-A) - sp.Ei(-A * lam)) / 2
                       + S.Q / 2 * sp.sqrt(sp.pi / (A * (lam + 1))) * sp.exp(-A * lam / (lam + 1))
                       * (sp.erf(x) + sp.erf(lam * x)))
        return [D.check_zero("theory-formula", self.sampling.log_variance_expr(self.log_H()) - printed,
                             "2[F(1) − F(0)] − (theory.md §2.7 closed form)")]

    # ---- float64 evaluation ----------------------------------------------------------------
    def _weight(self, lam, sigma, tau, Q, eta, **p):
        """w = w* + (Q − w*) e^{−2ητg}, evaluated as Q e^{−x} + w* (1 − e^{−x}) with x = 2ητg (expm1): near
        t = 1 with a tiny λ, w* ≈ −1/(1 − t) reaches −1e16 and w* + (Q − w*) lost Q entirely (0 instead of
        Q = 1 at τ = 0); `sigma` is the flow time t here (sampling.variable)."""
        g = sigma**2 * lam + (1.0 - sigma) ** 2
        w_opt = (sigma * lam - (1.0 - sigma)) / g
        x = -2.0 * eta * tau * g
        return Q * np.exp(x) - w_opt * np.expm1(x)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        """ln λ̃ = ln λ + I(A; λ, 1) + 2Q e^{−Aλ/(λ+1)} [h(x) + λ h(λx)]/(λ + 1), x = √(A/(λ+1)),
        with I(A; λ, 1) = ∫_λ^1 e^{−Au}/u du = Ei(−A) − Ei(−Aλ) (e1_span, exact ln(1/λ) at A = 0) and
        h(x) = √π erf(x)/(2x) (so the erf term → 2Q as A → 0)."""
        A = 2.0 * eta * np.asarray(tau, dtype=np.float64)
        lp1 = lam + 1.0
        x = np.sqrt(A / lp1)
        gauss = np.exp(-A * lam / lp1) * (erf_ratio(x) + lam * erf_ratio(lam * x)) / lp1
        return np.log(lam) + e1_span(A, lam, 1.0) + 2.0 * Q * gauss


ARCH = register(FlowMatching())
