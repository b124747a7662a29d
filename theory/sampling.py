"""How a trained per-mode gain turns into a generated variance: the sampling ODE of each family.

Denoisers (THEORY §1.1, §3.1): d ln x_k/dσ = (1 − ψ_k(σ))/σ from σ_T down to σ_0, x(σ_T) ~ N(0, σ_T²),
so ln λ̃_k = ln σ_T² + 2[ln H_k(σ_0) − ln H_k(σ_T)] with d ln H/dσ = (1 − ψ)/σ.
Flow matching (THEORY §2.7): dx/dt = w_k(t) x from t = 0 to 1, x(0) ~ N(0, 1), so ln λ̃_k = 2 ∫₀¹ w_k dt.
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp

from . import symbols as S
from . import validate as V

GL_NODES, GL_WEIGHTS = np.polynomial.legendre.leggauss(20)


def composite_gauss(fn, lo: float, hi: float, panels: int) -> np.ndarray:
    """∫_lo^hi fn(x) dx by composite 20-point Gauss–Legendre; fn maps an array of nodes (last axis)."""
    edges = np.linspace(lo, hi, panels + 1)
    half = 0.5 * np.diff(edges)
    nodes = (0.5 * (edges[:-1] + edges[1:]))[:, None] + half[:, None] * GL_NODES[None, :]
    values = fn(nodes.reshape(-1))
    return values @ (half[:, None] * GL_WEIGHTS[None, :]).reshape(-1)


class DenoiserSampling:
    """Probability-flow ODE of a variance-exploding denoiser, σ_T → σ_0, no final denoising step."""

    variable = S.sigma
    panels = 48

    def check_variable(self, sigma) -> np.ndarray:
        """The second argument of `weight`: here the noise level σ > 0."""
        return V.noise(sigma)

    def integrand(self, gain: sp.Expr) -> sp.Expr:
        """d ln H/dσ = (1 − ψ)/σ (Lemma 4.1)."""
        return (1 - gain) / S.sigma

    def log_variance_expr(self, antiderivative: sp.Expr) -> sp.Expr:
        """ln λ̃ = ln σ_T² + 2[ln H(σ_0) − ln H(σ_T)] (Lemma 4.1)."""
        return (sp.log(S.sigmaT**2) + 2 * (antiderivative.subs(S.sigma, S.sigma0)
                                          - antiderivative.subs(S.sigma, S.sigmaT)))

    def initial_log_variance(self, Q, sigma0, sigmaT, log=np.log):
        """ln λ̃ at τ = 0, from ψ ≡ Q at every σ: λ̃(0) = σ_0^{2(1−Q)} σ_T^{2Q} (Prop. 4.2)."""
        return 2 * (1 - Q) * log(sigma0) + 2 * Q * log(sigmaT)

    def optimum_log_variance(self, lam, sigma0, sigmaT):
        """ln λ̃ at the optimum ψ = K: λ̃(∞) = σ_T²(λ + σ_0²)/(λ + σ_T²) (§3.1)."""
        return sp.log(sigmaT**2 * (lam + sigma0**2) / (lam + sigmaT**2))

    def quadrature(self, weight, sigma0: float, sigmaT: float) -> np.ndarray:
        """ln λ̃ from gains by quadrature in s = ln σ: ln σ_T² − 2 ∫ (1 − ψ(e^s)) ds."""
        integral = composite_gauss(lambda s: 1.0 - weight(np.exp(s)), np.log(sigma0), np.log(sigmaT),
                                   self.panels)
        return np.log(sigmaT**2) - 2.0 * integral

    def quadrature_mp(self, weight, sigma0, sigmaT):
        """The same integral with mpmath (tanh-sinh on panels of ln σ)."""
        lo, hi = mp.log(sigma0), mp.log(sigmaT)
        knots = [lo + (hi - lo) * i / 16 for i in range(17)]
        return mp.log(sigmaT**2) - 2 * mp.quad(lambda s: 1 - weight(mp.exp(s)), knots)


DENOISER = DenoiserSampling()
