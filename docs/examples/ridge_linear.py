"""`ridge_linear`: the one-layer linear denoiser trained with weight decay ρ — an architecture not in
the paper, added as a worked example of extending specbias (docs/extending.md).

Loss per level: L_σ + ρ‖W_σ‖²_F. Per mode the gain ψ has the loss
    L = (σ² + λ + ρ)ψ² − 2λψ + λ,
so gradient flow gives ψ = K_ρ + (Q − K_ρ)e^{−2ητ(σ² + λ + ρ)} with K_ρ = λ/(λ + σ² + ρ), and with
c = λ + ρ, u = σ², a = 2ητ the sampling integral of (1 − ψ)/σ has the antiderivative
    ln H = ½[(ρ/c) ln u + (λ/c) ln(c + u)] + ½(λ/c − Q) e^{−ac} Ei(−au) − ½(λ/c) Ei(−a(c + u)),
which is Prop. 4.2 at ρ = 0. At the optimum λ̃(∞) = σ_T² (σ_0²/σ_T²)^{ρ/c} ((c + σ_0²)/(c + σ_T²))^{λ/c}:
modes with λ ≲ ρ never reach their variance, so the verifier flags where the law breaks.
"""
import numpy as np
import sympy as sp

import theory
from theory import symbols as S
from theory.special import e1_span

rho = sp.Symbol("rho", positive=True)


class RidgeLinear(theory.Architecture):
    name = "ridge_linear"
    title = "one-layer linear denoiser with weight decay ρ‖W‖²"
    source = "docs/extending.md (not in the paper)"
    params = {"rho": 0.01}
    law = theory.Law("inverse-variance", "2η(σ² + λ + ρ)", {},
                     "modes with λ ≲ ρ are shrunk and never reach their target")

    def check_params(self, p):
        if not float(p["rho"]) >= 0:
            raise theory.SpecbiasError(f"ridge_linear: rho must be >= 0 (got {p['rho']})")

    # --- symbolic declaration: the per-mode loss, the claimed solution and antiderivative ---
    def loss(self, rho=0.01):
        return S.denoiser_loss(S.psi) + rho * S.psi**2

    def fixed_point(self, rho=0.01):
        return S.lam / (S.lam + S.sigma**2 + rho)

    def solution(self, rho=0.01):
        K = self.fixed_point(rho)
        return K + (S.Q - K) * sp.exp(-2 * S.eta * S.tau * (S.sigma**2 + S.lam + rho))

    def log_H(self, rho=0.01):
        a, c, u = 2 * S.eta * S.tau, S.lam + rho, S.sigma**2
        return ((rho / c) * sp.log(u) + (S.lam / c) * sp.log(c + u)) / 2 \
            + (S.lam / c - S.Q) * sp.exp(-a * c) * sp.Ei(-a * u) / 2 - (S.lam / c) * sp.Ei(-a * (c + u)) / 2

    # --- fast float64 evaluation ---
    def _weight(self, lam, sigma, tau, Q, eta, rho=0.01):
        K = lam / (lam + sigma**2 + rho)
        return K + (Q - K) * np.exp(-2.0 * eta * tau * (sigma**2 + lam + rho))

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, rho=0.01):
        a, c, s0, sT = 2.0 * eta * tau, lam + rho, sigma0**2, sigmaT**2
        return (np.log(sT) + (rho / c) * np.log(s0 / sT) + (lam / c) * np.log((c + s0) / (c + sT))
                + (Q - lam / c) * np.exp(-a * c) * e1_span(a, s0, sT) + (lam / c) * e1_span(a, c + s0, c + sT))

    # --- the matching torch model -------------------------------------------------------------
    def torch_model(self, rho=0.01, **kwargs):
        """The one-layer model whose training loss carries ρ‖W‖². Since
        E‖W(x + σz + √ρ z′) − x‖² = L_σ + ρ‖W‖², weight decay is extra isotropic input noise of variance
        ρ: the model is numerics' `Linear` with noise coefficient c = √(σ² + ρ) in its loss."""
        import torch
        from numerics.models import Linear

        class RidgeLinearModel(Linear):
            def pair_coefficients(self):
                coeffs = super().pair_coefficients().clone()
                coeffs[:, 1] = torch.sqrt(self.levels**2 + rho)
                return coeffs

        return RidgeLinearModel(arch=self, rho=rho, **kwargs)

    # generated variance at the optimum, for the τ → ∞ check
    def optimum_log_variance(self, lam, sigma0, sigmaT, rho=0.01):
        c = lam + rho
        return sp.log(sigmaT**2) + (rho / c) * sp.log(sigma0**2 / sigmaT**2) \
            + (lam / c) * sp.log((c + sigma0**2) / (c + sigmaT**2))


ARCH = theory.register(RidgeLinear())
