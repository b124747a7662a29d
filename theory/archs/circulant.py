"""`circulant`: full-width circular convolution D(x; σ) = w_σ ⊛ x on length-N signals (theory.md §2.5;
paper Prop. 5.2–5.3).

The unitary DFT diagonalises every circulant filter: the gain on Fourier mode k is γ_k = √N ŵ_k, with
ŵ = F*w an orthonormal coordinate of the N taps, so gradient flow on the taps at rate η is gradient
flow on ŵ_k at rate η, i.e. on γ_k at rate Nη (weight sharing: N positions share each tap). The
Fourier-mode variances Σ̃_kk = [F* Σ F]_kk play the role of λ_k (the eigenvalues of the shift-averaged
covariance Σ̄ = (1/N) Σ_s S^s Σ S^{−s}) and
    γ_k(σ, τ) = γ*_k + (γ_k(σ, 0) − γ*_k) e^{−2Nη(σ² + Σ̃_kk)τ},   γ*_k = Σ̃_kk/(σ² + Σ̃_kk)
(the paper's eq. 10 prints γ_k(τ, σ) on the right; it is the initial value). Every closed form is the
one-layer linear one (Prop. eq. 7, Prop. 4.2) with η → Nη; this module delegates to `linear`.
"""
from __future__ import annotations

import numbers

import numpy as np
import sympy as sp

from .. import derive as D
from .. import symbols as S
from .. import validate as V
from ..arch import Architecture, Law
from ..errors import SpecbiasError
from ..registry import register
from .linear import ARCH as LINEAR
from .linear import Linear

N = sp.Symbol("N", positive=True)  # signal length = number of positions sharing each tap
c = sp.Symbol("c", real=True)  # orthonormal tap coordinate ŵ_k = [F* w]_k, gain γ_k = √N c


def check_length(name: str, value, minimum: int = 1) -> int:
    """An integer parameter ≥ minimum, or one clear SpecbiasError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value) \
            or value < minimum:
        raise SpecbiasError(f"{name} must be an integer >= {minimum} (got {value!r})")
    return int(value)


def _square(name: str, Sigma) -> np.ndarray:
    arr = V.as_array(name, Sigma)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise SpecbiasError(f"{name} must be a square (..., N, N) matrix, got shape {arr.shape}")
    return arr


def autocovariance(Sigma) -> np.ndarray:
    """c(d) = (1/N) Σ_i Σ_{i, i+d} (indices mod N), d = 0..N−1: the first row of the shift-averaged
    covariance Σ̄, and the entries [Σ_patch]_ab = c(b − a) of the patch covariance (§2.5, §2.6)."""
    Sigma = _square("covariance (Sigma)", Sigma)
    n = Sigma.shape[-1]
    i = np.arange(n)
    return Sigma[..., i[:, None], (i[:, None] + i[None, :]) % n].mean(axis=-2)


def shift_averaged_covariance(Sigma) -> np.ndarray:
    """Σ̄ = (1/N) Σ_s S^s Σ S^{−s} (S the cyclic shift): the circulant matrix Σ̄_ab = c(b − a) (§2.5)."""
    acov = autocovariance(Sigma)
    i = np.arange(acov.shape[-1])
    return acov[..., (i[None, :] - i[:, None]) % acov.shape[-1]]


def fourier_variances(Sigma) -> np.ndarray:
    """Σ̃_kk = [F* Σ F]_kk (unitary DFT) for any covariance, stationary or not (§2.5).

    Equal to the DFT of the autocovariance, Σ_d c(d) e^{−2πikd/N}, i.e. the eigenvalues of Σ̄."""
    return np.fft.fft(autocovariance(Sigma), axis=-1).real


class Circulant(Architecture):
    name = "circulant"
    title = "full-width circular convolution w_σ ⊛ x"
    source = "Prop. 5.2–5.3"
    basis = "fourier"  # lam are Fourier-mode variances Σ̃_kk
    model = "numerics.models:Circulant"
    params = {"N": 64}
    law = Law("inverse-variance", "2Nη(σ² + Σ̃_kk)", dict(LINEAR.law.exponent),
              "the one-layer law per Fourier mode with η → Nη: α is unchanged, every τ* divided by N")

    def check_params(self, p):
        check_length("circulant: signal length N", p["N"])

    # ---- symbolic declaration: gain γ = √N c on an orthonormal tap coordinate ------------------
    def theta(self, **p):
        return (c,)

    def gain(self, **p):
        return sp.sqrt(N) * c

    def reduce(self, **p):
        return {c: S.psi / sp.sqrt(N)}

    def solution(self, **p):
        return LINEAR.solution().subs(S.eta, N * S.eta)

    def log_H(self, **p):
        return LINEAR.log_H().subs(S.eta, N * S.eta)

    def extra_checks(self, ode, **p):
        lin = D.gain_ode(LINEAR.theta(), LINEAR.gain(), LINEAR.loss(), LINEAR.reduce())
        checks = [D.check_zero("weight-sharing", ode - N * lin, "derived ODE − N × (one-layer ODE)"),
                  D.check_zero("N=1-is-linear", self.log_H().subs(N, 1) - LINEAR.log_H(),
                               "ln H at N = 1 − one-layer ln H")]
        sol = self.solution()
        for mean, target, t_star in Linear._weight_crossings(2 * N * S.eta * (S.sigma**2 + S.lam)):
            checks.append(D.check_zero(f"weight-emergence-{mean}", sol.subs(S.tau, t_star) - target,
                                       f"γ at τ = {t_star} equals the {mean} mean of Q and γ*"))
        return checks

    # ---- evaluation: the one-layer closed forms at rate Nη -------------------------------------
    def _weight(self, lam, sigma, tau, Q, eta, N=64, **p):
        return LINEAR._weight(lam, sigma, tau, Q, N * eta)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, N=64, **p):
        return LINEAR._log_variance(lam, tau, Q, N * eta, sigma0, sigmaT)

    def _weight_mp(self, lam, sigma, tau, Q, eta, N=64, **p):
        return LINEAR._weight_mp(lam, sigma, tau, Q, N * eta)

    def _log_variance_mp(self, lam, tau, Q, eta, sigma0, sigmaT, N=64, **p):
        return LINEAR._log_variance_mp(lam, tau, Q, N * eta, sigma0, sigmaT)


ARCH = register(Circulant())
