"""How a trained per-mode gain turns into a generated variance: the sampling ODE of each family.

Denoisers (theory.md §1.1, §3.1): d ln x_k/dσ = (1 − ψ_k(σ))/σ from σ_T down to σ_0, x(σ_T) ~ N(0, σ_T²),
so ln λ̃_k = ln σ_T² + 2[ln H_k(σ_0) − ln H_k(σ_T)] with d ln H/dσ = (1 − ψ)/σ.
Flow matching (theory.md §2.7): dx/dt = w_k(t) x from t = 0 to 1, x(0) ~ N(0, 1), so ln λ̃_k = 2 ∫₀¹ w_k dt.
Both families share one interface (`variable`, `check_variable`, `integrand`, `log_variance_expr`,
`initial_log_variance`, `optimum_log_variance`, `quadrature`, `quadrature_mp`).
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp
from scipy import integrate

from . import symbols as S
from . import validate as V
from .errors import SpecbiasError

GL_NODES, GL_WEIGHTS = np.polynomial.legendre.leggauss(20)


def composite_gauss(fn, lo: float, hi: float, panels: int) -> np.ndarray:
    """∫_lo^hi fn(x) dx by composite 20-point Gauss–Legendre; fn maps an array of nodes (last axis)."""
    edges = np.linspace(lo, hi, panels + 1)
    half = 0.5 * np.diff(edges)
    nodes = (0.5 * (edges[:-1] + edges[1:]))[:, None] + half[:, None] * GL_NODES[None, :]
    values = fn(nodes.reshape(-1))
    return values @ (half[:, None] * GL_WEIGHTS[None, :]).reshape(-1)


def _legendre_integration_matrix() -> np.ndarray:
    """S with (S f)_i = ∫_{−1}^{x_i} p(x) dx, p the degree-19 interpolant of f at the 20 Gauss nodes."""
    leg = np.polynomial.legendre
    inv = np.linalg.inv(leg.legvander(GL_NODES, GL_NODES.size - 1))  # values → Legendre coefficients
    cols = [leg.legval(GL_NODES, leg.legint(inv[:, j], lbnd=-1.0)) for j in range(GL_NODES.size)]
    return np.stack(cols, axis=1)


GL_CUMULATIVE = _legendre_integration_matrix()


def cumulative_gauss(lo: float, hi: float, panels: int):
    """Nodes x, quadrature weights w and the matrix-free running integral on composite 20-point
    Gauss–Legendre panels: returns (x, w, running) where running(f) = ∫_lo^{x_i} f for values f at
    the nodes (last axis), spectrally accurate for smooth f; ∫_lo^hi f = f @ w."""
    edges = np.linspace(lo, hi, panels + 1)
    half = 0.5 * np.diff(edges)
    x = ((0.5 * (edges[:-1] + edges[1:]))[:, None] + half[:, None] * GL_NODES[None, :]).reshape(-1)
    w = (half[:, None] * GL_WEIGHTS[None, :]).reshape(-1)

    def running(f):
        f = np.asarray(f).reshape(f.shape[:-1] + (panels, GL_NODES.size))
        inside = half[:, None] * np.einsum("ij,...pj->...pi", GL_CUMULATIVE, f)
        totals = np.cumsum(f @ GL_WEIGHTS * half, axis=-1)
        before = np.concatenate([np.zeros(totals.shape[:-1] + (1,)), totals[..., :-1]], axis=-1)
        return (inside + before[..., None]).reshape(f.shape[:-2] + (-1,))

    return x, w, running


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

    def quadrature(self, weight, sigma0: float, sigmaT: float, panels: int | None = None) -> np.ndarray:
        """ln λ̃ from gains by quadrature in s = ln σ: ln σ_T² − 2 ∫ (1 − ψ(e^s)) ds (`panels`
        20-point Gauss–Legendre panels, default `self.panels`)."""
        integral = composite_gauss(lambda s: 1.0 - weight(np.exp(s)), np.log(sigma0), np.log(sigmaT),
                                   panels or self.panels)
        return np.log(sigmaT**2) - 2.0 * integral

    def quadrature_mp(self, weight, sigma0, sigmaT):
        """The same integral with mpmath (tanh-sinh on panels of ln σ)."""
        lo, hi = mp.log(sigma0), mp.log(sigmaT)
        knots = [lo + (hi - lo) * i / 16 for i in range(17)]
        return mp.log(sigmaT**2) - 2 * mp.quad(lambda s: 1 - weight(mp.exp(s)), knots)


DENOISER = DenoiserSampling()


class FlowSampling:
    """Linear flow matching (theory.md §2.7): dx/dt = w(t) x from t = 0 (noise N(0, 1)) to t = 1 (data),
    so ln λ̃ = 2 ∫₀¹ w dt. Same interface as DenoiserSampling (σ_0, σ_T are accepted and unused)."""

    variable = S.t
    panels = 48

    def check_variable(self, t) -> np.ndarray:
        """The second argument of `weight`: here the flow time t ∈ [0, 1]."""
        t = V.as_array("flow time (t)", t)
        if np.any(t < 0) or np.any(t > 1):
            raise SpecbiasError(f"flow time t must lie in [0, 1] (got {t.min():g}..{t.max():g})")
        return t

    def integrand(self, gain: sp.Expr) -> sp.Expr:
        """d ln|x|/dt = w(t): the antiderivative F of w gives ln λ̃ = 2(F(1) − F(0))."""
        return gain

    def log_variance_expr(self, antiderivative: sp.Expr) -> sp.Expr:
        """ln λ̃ = 2[F(1) − F(0)] (x(0) ~ N(0, 1))."""
        return 2 * (antiderivative.subs(S.t, 1) - antiderivative.subs(S.t, 0))

    def initial_log_variance(self, Q, sigma0=None, sigmaT=None, log=np.log):
        """ln λ̃ at τ = 0, from w ≡ Q at every t: λ̃(0) = e^{2Q} (§2.7)."""
        return 2 * Q

    def optimum_log_variance(self, lam, sigma0=None, sigmaT=None):
        """ln λ̃ at the optimum w* = g'/(2g): 2 ∫₀¹ w* dt = ln g(1) − ln g(0) = ln λ, exactly (§2.7)."""
        return sp.log(lam)

    def quadrature(self, weight, sigma0=None, sigmaT=None) -> np.ndarray:
        """ln λ̃ = 2 ∫₀¹ w(t) dt by composite Gauss–Legendre in t."""
        return 2.0 * composite_gauss(weight, 0.0, 1.0, self.panels)

    def quadrature_mp(self, weight, sigma0=None, sigmaT=None):
        """The same integral with mpmath (tanh-sinh on 16 panels of t)."""
        return 2 * mp.quad(weight, [mp.mpf(i) / 16 for i in range(17)])

    def quad_reference(self, arch, lam, k: int, tau: float, Q: float) -> float:
        """ln λ̃_k = 2 ∫₀¹ w_k dt by scipy.integrate.quad of `arch.weight` alone (independent path);
        the breakpoint t = 1/(1 + λ_k), where g_k is smallest, marks the optimum's sharpest feature."""
        lam = np.asarray(lam, dtype=float)
        f = lambda t: float(arch.weight(lam, t, tau, Q=Q)[k])  # noqa: E731
        val, _ = integrate.quad(f, 0.0, 1.0, points=[1.0 / (1.0 + lam.reshape(-1)[k])], limit=400,
                                epsabs=1e-13, epsrel=1e-13)
        return 2.0 * val


FLOW = FlowSampling()
