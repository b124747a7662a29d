"""`linear`: one-layer denoiser D(x; σ) = W_σ x + b_σ on zero-mean data, aligned init W_σ(0) = Σ Q_k u_k u_kᵀ.

Per mode the parameter is the gain ψ itself and the loss is L = (σ² + λ)ψ² − 2λψ + λ (theory.md §1.3).
Gradient flow gives (Prop. eq. 7)   ψ(σ, τ) = K + (Q − K) e^{−2ητ(σ² + λ)},   K = λ/(λ + σ²),
and sampling (Prop. 4.2), with a = 2ητ,
    ln H(σ) = ½ ln(λ + σ²) + ½(1 − Q) e^{−aλ} Ei(−aσ²) − ½ Ei(−a(σ² + λ)).
The bias decays as b(τ) = b(0) e^{−2ητ}; discrete GD with step h is exact:
ψ_n − K = (1 − 2h(σ² + λ))ⁿ (Q − K), stable iff h < 1/(σ² + λ_max) (theory.md §1.2).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .. import derive as D
from .. import symbols as S
from .. import validate as V
from ..arch import Architecture, Law
from ..registry import register
from ..special import e1_span

n, h, b0 = sp.symbols("n h b0", positive=True)
beta = sp.Symbol("beta", real=True)  # per-mode bias β_k = u_kᵀ b_σ


class Linear(Architecture):
    name = "linear"
    title = "one-layer linear denoiser W_σ x + b_σ"
    source = "Prop. eq. 7 and Prop. 4.2"
    model = "numerics.models:Linear"
    law = Law("inverse-variance", "2η(σ² + λ)",
              {("geometric", 0.0): (0.95, 1.01), ("geometric", 0.1): (0.99, 1.07),
               ("harmonic", 0.1): (1.12, 1.3)},
              "τ* = c(ln(λ/σ0²), Q, criterion)/(ηλ) (§4.2)")

    def solution(self, **p):
        return S.K + (S.Q - S.K) * sp.exp(-2 * S.eta * S.tau * (S.sigma**2 + S.lam))

    def log_H(self, **p):
        a = 2 * S.eta * S.tau
        return (sp.log(S.lam + S.sigma**2) / 2 + (1 - S.Q) * sp.exp(-a * S.lam) * sp.Ei(-a * S.sigma**2) / 2
                - sp.Ei(-a * (S.sigma**2 + S.lam)) / 2)

    def _weight(self, lam, sigma, tau, Q, eta, **p):
        s2 = sigma**2
        K = lam / (lam + s2)
        return K + (Q - K) * np.exp(-2.0 * eta * tau * (s2 + lam))

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        """Prop. 4.2 as ln λ̃ = ln σ_T² + ln((λ+σ_0²)/(λ+σ_T²)) − (1−Q)e^{−aλ} I(a; σ_0², σ_T²)
        + I(a; σ_0²+λ, σ_T²+λ), with I(a; u1, u2) = ∫_{u1}^{u2} e^{−au}/u du (stable at a → 0)."""
        a = 2.0 * eta * tau
        s0, sT = sigma0**2, sigmaT**2
        return (np.log(sT) + np.log((lam + s0) / (lam + sT))
                - (1.0 - Q) * np.exp(-a * lam) * e1_span(a, s0, sT) + e1_span(a, s0 + lam, sT + lam))

    def extra_checks(self, ode, **p):
        sol = self.solution()
        rate = 2 * S.eta * (S.sigma**2 + S.lam)
        b = b0 * sp.exp(-2 * S.eta * S.tau)
        # zero-mean data: the bias loss is b² (∇_b L = 2b), so db/dτ = −η ∂(b²)/∂b
        checks = [D.check_zero("bias-decay", sp.diff(b, S.tau) + S.eta * sp.diff(beta**2, beta).subs(beta, b),
                               "b(τ) = b(0)e^{−2ητ} solves db/dτ = −η ∂L/∂b")]
        psi_n = S.K + (1 - 2 * h * (S.sigma**2 + S.lam))**n * (S.Q - S.K)
        step = psi_n - h * sp.diff(S.denoiser_loss(S.psi), S.psi).subs(S.psi, psi_n)
        checks.append(D.check_zero("discrete-gd", step - psi_n.subs(n, n + 1),
                                   "ψ_{n+1} = ψ_n − h ∂L/∂ψ for ψ_n = K + (1−2h(σ²+λ))ⁿ(Q−K)"))
        for mean, target, t_star in self._weight_crossings(rate):
            checks.append(D.check_zero(f"weight-emergence-{mean}", sol.subs(S.tau, t_star) - target,
                                       f"ψ at τ = {t_star} equals the {mean} mean of Q and K"))
        return checks

    @staticmethod
    def _weight_crossings(rate):
        """Times at which ψ crosses the arithmetic, harmonic and geometric means of Q and K (§2.1)."""
        Qs, K = S.Q, S.K
        return [("arithmetic", (Qs + K) / 2, sp.log(2) / rate),
                ("harmonic", 2 * Qs * K / (Qs + K), sp.log(1 + Qs / K) / rate),
                ("geometric", sp.sqrt(Qs * K), sp.log(1 + sp.sqrt(Qs / K)) / rate)]

    # ---- extras specific to the one-layer model -------------------------------------------------
    def discrete_weight(self, lam, sigma, steps, h, Q=0.1):
        """ψ after `steps` GD steps of size h: K + (1 − 2h(σ² + λ))ⁿ (Q − K) (theory.md §1.2)."""
        lam, sigma = V.variances(lam), V.noise(sigma)
        K = lam / (lam + sigma**2)
        return K + (1.0 - 2.0 * h * (sigma**2 + lam)) ** np.asarray(steps) * (Q - K)

    @staticmethod
    def max_stable_step(lam_max, sigma):
        """Largest stable GD step 1/(σ² + λ_max) (theory.md §1.2)."""
        return 1.0 / (np.asarray(sigma, dtype=float) ** 2 + float(lam_max))


ARCH = register(Linear())
