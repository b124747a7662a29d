"""`linear_mean`: the one-layer denoiser W_σ x + b_σ on non-centred data (theory.md §2.2, derived).

Per mode the data carry a mean m along u_j (param `m`); the other modes are centred. With s = λ + σ²,
θ = (w, b) = (u_jᵀW u_j, u_jᵀ b) and the loss (no factor ½)
    L(w, b) = E(w(x + σz) + b − x)² = (w − 1)²(λ + m²) + 2(w − 1) m b + b² + w²σ²,
∇L = 2(θ M − C) with M = [[s + m², m], [m, 1]], C = [λ + m², m], so gradient flow gives
    θ(τ) = θ* + (θ(0) − θ*) e^{−2ητM},   θ* = [K, (1 − K) m],   θ(0) = [Q, 0].
M has det s and eigenvalues r± = c ± δ, c = (s + m² + 1)/2, δ = √(c² − s); the slow rate r₋ = s/r₊ < s,
and e^{−AM} = ½(e^{−Ar₋} + e^{−Ar₊}) I − A e^{−Ar₋} φ(2Aδ)(M − cI), φ(x) = (1 − e^{−x})/x (A = 2ητ).
The weight can overshoot (theory.md §2.2: Q = 0, η = 1, λ = 0.1, σ = 0.5, m = 2 peaks at 0.747 near τ ≈ 0.47,
target 0.286). The bias does not enter the variance: λ̃ is §3.1 with ψ = w(σ, τ) (by quadrature; no
closed form known), and the generated mean is μ̃ = H(σ_0) ∫ β(s)/(s H(s)) ds (§3.1). Every mode of the
per-mode API is "the mode that carries the mean"; for a general mean vector μ the weights at different
σ stop commuting and `generated_moments` integrates the time-ordered sampling ODE.
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp
from scipy import integrate

from .. import derive as D
from .. import symbols as S
from .. import validate as V
from ..arch import Architecture, Law
from ..checks import Companion
from ..errors import SpecbiasError
from ..registry import register
from ..sampling import cumulative_gauss
from .linear import ARCH as LINEAR

w, b = sp.symbols("w b", real=True)  # per-mode weight u_jᵀ W u_j and bias u_jᵀ b
m_sym = sp.Symbol("m", positive=True)  # the mean along u_j
CHUNK = 256  # modes per quadrature block: 256 × 160 nodes stay in cache (8× faster than 4096)
PANEL_WIDTH = 1.5  # widest Gauss–Legendre panel in ln σ for the float64 quadrature


def _phi_np(x):
    """(1 − e^{−x})/x, 1 at x = 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.divide(-np.expm1(-x), x, out=np.ones(np.shape(x)), where=x != 0)


class _Ops:
    """exp, sqrt and φ(x) = (1 − e^{−x})/x of one number system (numpy or mpmath)."""

    def __init__(self, exp, sqrt, phi):
        self.exp, self.sqrt, self.phi = exp, sqrt, phi


NP = _Ops(np.exp, np.sqrt, _phi_np)
MP = _Ops(mp.exp, mp.sqrt, lambda x: mp.mpf(1) if x == 0 else -mp.expm1(-x) / x)


def _block(lam, sigma, m, sqrt):
    """s = λ + σ², K = λ/s, and M's eigenvalues r± = c ± δ: c = (s + m² + 1)/2, δ = √(c² − s) (written
    without cancellation)."""
    s = lam + sigma**2
    return s, lam / s, (s + m**2 + 1) / 2, sqrt((s - 1) ** 2 + m**2 * (2 * (s + 1) + m**2)) / 2


def _combine(K, Q, m, E11, E12, E22=None):
    """θ* + (θ(0) − θ*) e^{−2ητM} for θ(0) = (Q, 0), θ* = (K, (1 − K)m), E = e^{−2ητM} (symmetric);
    the bias only where E22 is given."""
    dw, db = Q - K, -(1 - K) * m
    w_tau = K + dw * E11 + db * E12
    return w_tau if E22 is None else (w_tau, (1 - K) * m + dw * E12 + db * E22)


def trajectory(lam, sigma, tau, Q, eta, m, ops=NP, bias=True):
    """(w, b)(τ) in floats, or w alone (bias=False) (theory.md §2.2):
    e^{−AM} = ½(e^{−Ar₋} + e^{−Ar₊})I − A e^{−Ar₋} φ(2Aδ)(M − cI), r₋ = s/r₊: stable for δ → 0
    (m = 0, s = 1) and without cancellation in r₋."""
    s, K, c, delta = _block(lam, sigma, m, ops.sqrt)
    A = 2 * eta * tau
    slow = ops.exp(-A * s / (c + delta))  # e^{−A r₋}
    mean_part = (slow + slow * ops.exp(-2 * A * delta)) / 2
    odd = A * slow * ops.phi(2 * A * delta)  # (e^{−Ar₋} − e^{−Ar₊})/(2δ)
    E22 = mean_part - odd * (1 - c) if bias else None
    return _combine(K, Q, m, mean_part - odd * (s + m**2 - c), -odd * m, E22)


def symbolic_trajectory(m):
    """(w, b)(τ) in sympy through M's spectral projectors (the form sympy verifies quickly):
    e^{−AM} = e^{−Ar₋}(r₊I − M)/(2δ) + e^{−Ar₊}(M − r₋I)/(2δ), r∓ = c ∓ δ."""
    s, K, c, delta = _block(S.lam, S.sigma, m, sp.sqrt)
    A, r_slow, r_fast = 2 * S.eta * S.tau, c - delta, c + delta
    slow, fast = sp.exp(-A * r_slow) / (2 * delta), sp.exp(-A * r_fast) / (2 * delta)
    return _combine(K, S.Q, m, slow * (r_fast - s - m**2) + fast * (s + m**2 - r_slow), (fast - slow) * m,
                    slow * (r_fast - 1) + fast * (1 - r_slow))


class LinearMean(Architecture):
    name = "linear_mean"
    title = "one-layer linear denoiser W_σ x + b_σ, data mean m along the mode"
    source = "theory.md §2.2 (derived)"
    gain_is_state = False  # the state is (w, b)
    model = "numerics.models:Linear"
    params = {"m": 1.0}
    law = Law("departs", "2η r±, r₊ ≈ s + m² + 1, r₋ = s/r₊ < s = σ² + λ (mean–covariance coupling)", {},
              "the fast mode of (w, b) moves w by ≈ m²(1 − Q)/(1 + m²) at a λ-independent time "
              "1/(2η(1 + m²)): modes with λ ≲ m² jump together (m = 1, Q = 0.1: geometric α ≈ 0.3 over "
              "λ ∈ [1e−3, 1e2]); as m → 0 the one-layer law returns")
    emergence_order_caveat = (
        "the bias–weight fast mode (rate ≈ 2η(1 + m²)) lifts the gain of every mode with λ ≲ m² at "
        "once, so among those a smaller variance can emerge first")
    expected_failures = {"sampling-integral": "no closed form known: w(σ) mixes e^{−2ητ r±(σ²)} with "
                                              "r± algebraic in σ²; λ̃ by quadrature of §3.1"}

    def check_params(self, p):
        m = p["m"]
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not abs(m) <= 1e50:
            raise SpecbiasError(f"linear_mean: the mean m must be a finite number with |m| <= 1e50, so "
                                f"that m² stays within the λ range [1e-100, 1e100] (got {m!r})")

    # ---- symbolic declaration: θ = (w, b), the weight's ODE carries the bias ---------------------
    def theta(self, **p):
        return (w, b)

    def gain(self, **p):
        return w

    def loss(self, **p):
        """(w − 1)²(λ + m²) + 2(w − 1) m b + b² + w²σ² (theory.md §2.2 block of E‖W̃ỹ − x‖²)."""
        return (w - 1) ** 2 * (S.lam + m_sym**2) + 2 * (w - 1) * m_sym * b + b**2 + w**2 * S.sigma**2

    def reduce(self, **p):
        return {w: S.psi}

    def solution(self, **p):
        return symbolic_trajectory(m_sym)[0]

    def companions(self, **p):
        return [Companion(b, symbolic_trajectory(m_sym)[1], sp.Integer(0), (1 - S.K) * m_sym)]

    def extra_checks(self, ode, **p):
        return [D.check_zero("m=0-is-linear", symbolic_trajectory(0)[0] - LINEAR.solution(),
                             "w(τ) at m = 0 − one-layer ψ(τ)")]

    # ---- float64 evaluation ----------------------------------------------------------------
    def _weight(self, lam, sigma, tau, Q, eta, m=1.0, **p):
        return trajectory(lam, sigma, tau, Q, eta, m, bias=False)

    def _bias(self, lam, sigma, tau, Q, eta, m=1.0, **p):
        return trajectory(lam, sigma, tau, Q, eta, m)[1]

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        """§3.1 by composite 20-point Gauss–Legendre in ln σ on panels ≤ PANEL_WIDTH wide (1 − w is
        analytic with O(1)-wide features in ln σ: 6 panels (width 1.77) over [ln 0.002, ln 80] agree
        with 48 to 1e−14 for λ ∈ [1e−4, 1e3], τ ∈ [0, 1e4], m ∈ [0, 10]), in blocks of CHUNK modes."""
        lam_b, tau_b, Q_b = np.broadcast_arrays(lam, tau, Q)
        flat = [x.reshape(-1, 1) for x in (lam_b, tau_b, Q_b)]
        panels = max(4, int(np.ceil(np.log(sigmaT / sigma0) / PANEL_WIDTH)))
        out = np.empty(lam_b.size)
        for i in range(0, lam_b.size, CHUNK):
            l, t, q = (x[i:i + CHUNK] for x in flat)
            out[i:i + CHUNK] = self.sampling.quadrature(
                lambda s: self._weight(l, s[None, :], t, q, eta, **p), sigma0, sigmaT, panels)
        return out.reshape(lam_b.shape)

    def _weight_mp(self, lam, sigma, tau, Q, eta, m=1.0, **p):
        return trajectory(lam, sigma, tau, Q, eta, mp.mpf(m), MP, bias=False)

    # ---- the generated mean (§3.1) and the full-matrix moments ---------------------------------
    def generated_mean(self, lam, tau, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0, panels=48, **params):
        """μ̃ along the mode carrying the mean: H(σ_0) ∫_{σ_0}^{σ_T} β(s)/(s H(s)) ds (§3.1), i.e.
        ∫ β(e^x) exp(−∫_{ln σ_0}^x (1 − w)) dx over x = ln σ, by running Gauss–Legendre quadrature."""
        p = self.resolve(params)
        lam, tau, Q = V.broadcast(lam=V.variances(lam), tau=V.times(tau), Q=self.check_Q(Q))
        eta = V.rate(eta)
        sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
        x, wts, running = cumulative_gauss(np.log(sigma0), np.log(sigmaT), panels)
        args = (lam[..., None], np.exp(x), tau[..., None], Q[..., None], eta)
        decay = running(1.0 - self._weight(*args, **p))
        return (self._bias(*args, **p) * np.exp(-decay)) @ wts


def _augmented_weights(lam, U, mu, sigma, tau, Q, eta):
    """W̃_σ(τ) = W̃* + (W̃(0) − W̃*) e^{−2ητM_σ} for every τ: (T, d, d + 1) (theory.md §2.2)."""
    d = lam.size
    Wstar = (U * (lam / (lam + sigma**2))) @ U.T  # Σ Σ_σ⁻¹
    target = np.hstack([Wstar, ((np.eye(d) - Wstar) @ mu)[:, None]])
    start = np.hstack([Q * np.eye(d), np.zeros((d, 1))])
    M = np.block([[U @ np.diag(lam + sigma**2) @ U.T + np.outer(mu, mu), mu[:, None]],
                  [mu[None, :], np.ones((1, 1))]])
    ev, vec = np.linalg.eigh(M)
    expo = np.einsum("ij,tj,kj->tik", vec, np.exp(-2.0 * eta * tau[:, None] * ev[None, :]), vec)
    return target + (start - target) @ expo


def generated_moments(Sigma, mu, tau, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0, rtol=1e-10):
    """Generated covariance (T, d, d) and mean (T, d) of the one-layer denoiser trained on data with
    covariance Σ and any mean μ, init W = Q I, b = 0, at the times `tau` (T,).

    The sampling ODE dx/dσ = −σ⁻¹[(W_σ − I)x + b_σ] is affine but the W_σ no longer commute, so its
    transition matrix Φ (augmented by the constant 1) is integrated in s = ln σ from σ_T down to σ_0
    (solve_ivp, DOP853, all times at once); x(σ_T) ~ N(0, σ_T² I) gives C̃ = σ_T² A Aᵀ and μ̃ = c for
    x(σ_0) = A x(σ_T) + c (theory.md §3.1, Lemma 4.1)."""
    Sigma = V.as_array("covariance (Sigma)", Sigma)
    d = Sigma.shape[0]
    if Sigma.shape != (d, d) or not np.allclose(Sigma, Sigma.T):
        raise SpecbiasError(f"Sigma must be a symmetric (d, d) matrix, got shape {Sigma.shape}")
    mu = V.as_array("mean (mu)", mu).reshape(-1)
    if mu.size != d:
        raise SpecbiasError(f"mu must have {d} entries to match Sigma, got {mu.size}")
    lam, U = np.linalg.eigh(Sigma)
    V.variances(lam)
    tau = np.atleast_1d(V.times(tau)).reshape(-1)
    Q, eta = float(LINEAR.check_Q(Q).reshape(())), V.rate(eta)
    sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
    shape = (tau.size, d + 1, d + 1)

    def rhs(s, phi):
        Wt = _augmented_weights(lam, U, mu, np.exp(s), tau, Q, eta)
        G = np.zeros(shape)
        G[:, :d, :] = -Wt
        G[:, :d, :d] += np.eye(d)
        return (G @ phi.reshape(shape)).reshape(-1)

    start = np.broadcast_to(np.eye(d + 1), shape).reshape(-1)
    sol = integrate.solve_ivp(rhs, (np.log(sigmaT), np.log(sigma0)), start, method="DOP853",
                              rtol=rtol, atol=rtol * 1e-4)
    Phi = sol.y[:, -1].reshape(shape)
    A, c = Phi[:, :d, :d], Phi[:, :d, d]
    return sigmaT**2 * A @ np.swapaxes(A, -1, -2), c


ARCH = register(LinearMean())
