"""The paper's symbols, shared by every architecture's derivation (theory.md §0)."""
import sympy as sp

lam, sigma, tau, eta = sp.symbols("lam sigma tau eta", positive=True)
Q = sp.Symbol("Q", nonnegative=True)
sigma0, sigmaT = sp.symbols("sigma0 sigmaT", positive=True)
psi = sp.Symbol("psi", positive=True)  # per-mode gain ψ_k(σ, τ)
a = sp.Symbol("a", positive=True)  # a = 2ητ in the sampling closed forms
t = sp.Symbol("t", positive=True)  # flow-matching time, noise at t = 0, data at t = 1 (§2.7)

#: Wiener shrinkage K_k(σ) = λ/(λ + σ²), the optimum of the per-mode loss.
K = lam / (lam + sigma**2)


def denoiser_loss(gain):
    """Per-mode denoising loss L_{σ,k}(ψ) = (σ² + λ) ψ² − 2 λ ψ + λ (theory.md §1.3, no factor ½)."""
    return (sigma**2 + lam) * gain**2 - 2 * lam * gain + lam
