"""`deep_linear`: balanced deep linear denoiser D(x; σ) = W_L ⋯ W_1 x, depth L ≥ 2 (theory.md §2.4).

Aligned SVD init, balanced: per mode the L singular values a_1 = … = a_L = ψ^{1/L} give the gain
ψ = a_1⋯a_L and the loss L = (σ² + λ)ψ² − 2λψ + λ. Gradient flow gives
    dψ/dτ = −2ηL ψ^{2−2/L} ((σ² + λ)ψ − λ).
- L = 2 is the untied two-layer logistic at rate 4ηλ (Prop. 5.1 with 8 → 4, §3.3 closed form).
- L ≥ 3 has no elementary closed form. With x = ψ/K and s = 2ηLλK^{1−2/L}τ it is the universal
  dx/ds = x^p (1 − x), p = 2 − 2/L, solved through its potentials (theory.archs._deep_flow) to
  ≈1e−13 in float64; the generated variance is a composite Gauss–Legendre quadrature of Lemma 4.1.
  The mpmath path solves the same potentials written with mpmath's hyp2f1 by Newton's method.
Q = 0 is a fixed point (nothing is learned); a uniform small Q gives sigmoidal, Saxe-like learning
with τ* ∝ λ⁻¹ (§2.4).
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp

from .. import derive as D
from .. import symbols as S
from ..arch import Architecture, Law
from ..errors import SpecbiasError
from ..registry import register
from . import _deep_flow as DF
from . import _logistic

x_, u_, v_ = sp.symbols("x u v", positive=True)

NO_CLOSED_FORM = ("depth L ≥ 3 has no elementary closed form: ψ is the universal flow "
                  "dx/ds = x^p(1 − x) solved numerically (see the potential checks)")


class DeepLinear(Architecture):
    name = "deep_linear"
    title = "balanced deep linear denoiser W_L⋯W_1 x"
    source = "theory.md §2.4 (L = 2: Prop. 5.1 at rate 4ηλ)"
    model = "numerics.models:DeepLinear"
    params = {"L": 3}
    q_range = (0.0, 1.0)
    q_fixed_points = (0.0,)
    reference_guard = False  # weight_mp: Newton to the working precision + 20 digits (no cancellation)
    expected_failures = {name: NO_CLOSED_FORM for name in
                         ("solution-ode", "initial-value", "fixed-point", "sampling-integral")}
    # Ranges of the fitted α, λ ∈ [1e−3, 1e2], η = 1, σ0 = 0.002, σT = 80 (theory.md §2.4 states only
    # τ* ∝ λ⁻¹). Measured by us as the local α = −d ln τ*/d ln λ (central difference, step 1e−3, 101
    # log-spaced λ, exact τ* on the float64 path): geometric, Q = 0.1: L = 3 1.0342 (λ = 1e−3) → 1.0018
    # (λ = 1e2), L = 4 1.0306 → 1.0015; harmonic, Q = 0.1: L = 3 1.1104–1.1332, L = 4 1.1027–1.1272.
    # Declared for L = 3 and 4 with margins ≈ 0.007–0.01.
    law = Law("inverse-variance", "2ηLλ K^{1−2/L} (sigmoidal, Saxe-like)",
              {("geometric", 0.1): (0.995, 1.045), ("harmonic", 0.1): (1.095, 1.14)},
              "τ* ∝ 1/λ for a uniform small Q (§2.4); ranges measured at L = 3 and 4")

    #: the deepest L evaluated (a float64 evaluation's cost grows with L: ~3 s at L = 10³, ~20 s at 10⁴)
    MAX_L = 1000
    #: the deepest L derived symbolically (one sympy symbol per factor: ~9 s at L = 50, minutes at 200)
    MAX_DERIVE_L = 64

    def check_params(self, p: dict) -> None:
        L = p["L"]
        if (isinstance(L, bool) or not isinstance(L, (int, np.integer, float)) or L != int(L)
                or not 2 <= L <= self.MAX_L):
            raise SpecbiasError(f"deep_linear: depth L must be an integer >= 2 and <= {self.MAX_L} (got {L!r})")
        p["L"] = int(L)

    def derive(self, **params) -> D.Derivation:
        L = self.resolve(params)["L"]
        if L > self.MAX_DERIVE_L:
            raise SpecbiasError(f"deep_linear: derive takes depth L in [2, {self.MAX_DERIVE_L}] (got {L}): the "
                                "derivation holds one symbol per factor and its checks grow with L")
        return super().derive(**params)

    # ---- symbolic declaration ----------------------------------------------------------------
    def theta(self, L=3):
        return sp.symbols(f"a1:{L + 1}", positive=True)

    def gain(self, L=3):
        return sp.Mul(*self.theta(L))

    def reduce(self, L=3):
        return {a: S.psi ** sp.Rational(1, L) for a in self.theta(L)}

    def solution(self, L=3):
        return _logistic.solution(4) if L == 2 else None

    def log_H(self, L=3):
        return _logistic.log_H(4) if L == 2 else None

    def extra_checks(self, ode, L=3):
        q = 1 - sp.Rational(2, L)
        claimed = -2 * S.eta * L * S.psi ** (1 + q) * ((S.sigma**2 + S.lam) * S.psi - S.lam)
        checks = [_logistic.ode_claim_check(ode, claimed, "(−2ηLψ^{2−2/L}((σ²+λ)ψ − λ))"),
                  universal_clock_check(ode, q)]
        if L == 2:
            return checks + [_logistic.harmonic_crossing_check(4)]
        return checks + potential_checks(q)

    # ---- float64 ------------------------------------------------------------------------------
    def _weight(self, lam, sigma, tau, Q, eta, L=3):
        if L == 2:
            return _logistic.weight(lam, sigma, tau, Q, eta, 4)
        return DF.weight(lam, sigma, tau, Q, eta, L)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, L=3):
        if L == 2:
            return _logistic.log_variance(lam, tau, Q, eta, sigma0, sigmaT, 4)
        return DF.log_variance(lam, tau, Q, eta, sigma0, sigmaT, L)

    # ---- mpmath ---------------------------------------------------------------------------------
    def _weight_mp(self, lam, sigma, tau, Q, eta, L=3):
        if L == 2:
            return super()._weight_mp(lam, sigma, tau, Q, eta, L=L)
        tol = mp.mpf(10) ** -mp.mp.dps
        with mp.extradps(20):  # guard digits for the hypergeometric potentials
            return +weight_mp(lam, sigma, tau, Q, eta, L, tol)

    def _log_variance_mp_array(self, lam, tau, Q, eta, sigma0, sigmaT, L=3):
        """The reference ln λ̃ asked for with `dps`. L = 2: the closed form at dps digits. L ≥ 3: NOT at
        dps digits: an mpmath quadrature of `weight_mp` costs ~10 ms per node (thousands of nodes per
        value), so the reference is the base-class float64 quadrature (48 × 20 Gauss–Legendre nodes in
        ln σ, against 12 × 10 on the fast path) of Newton-polished weights, good to ≈1e−13; the
        weights themselves are checked at dps digits by `weight(..., dps=...)`."""
        if L == 2:
            return super()._log_variance_mp_array(lam, tau, Q, eta, sigma0, sigmaT, L=L)
        lam_f, tau_f, Q_f = (np.asarray(a, float).reshape(-1, 1) for a in (lam, tau, Q))
        out = self.sampling.quadrature(lambda s: self._weight(lam_f, s[None, :], tau_f, Q_f, float(eta), L=L),
                                       float(sigma0), float(sigmaT))
        return out.reshape(np.shape(lam))


def universal_clock_check(ode, q) -> D.Check:
    """With ψ = Kx and ds/dτ = 2ηLλK^q the derived ODE is dx/ds = x^{1+q}(1 − x) (§2.4)."""
    L = 2 / (1 - q)
    clock = 2 * S.eta * L * S.lam * S.K**q
    return D.check_zero("universal-clock", ode.subs(S.psi, S.K * x_) / (S.K * clock)
                        - x_ ** (1 + q) * (1 - x_), "dψ/dτ/(K ds/dτ) − x^p(1 − x), x = ψ/K")


def potential_checks(q) -> list:
    """The potentials of the numerical solution generate the flow: dx/ds = (dx/du)/F'(u) = x^p(1 − x)
    for F(u) = ln(1 + e^u) − (1 + e^{−u})^q/q + R(x), R' = (x^{−q} − 1)/(1 − x), x = 1/(1 + e^{−u});
    and for G(v) = ln(1 + e^v) − R₂(y), R₂' = (1 − y^q)/(1 − y), y = 1/x, x = 1 + e^{−v}."""
    x = 1 / (1 + sp.exp(-u_))
    dF = sp.diff(sp.log(1 + sp.exp(u_)) - (1 + sp.exp(-u_)) ** q / q, u_) \
        + ((x_ ** -q - 1) / (1 - x_)).subs(x_, x) * sp.diff(x, u_)
    y = 1 / (1 + sp.exp(-v_))
    dG = sp.diff(sp.log(1 + sp.exp(v_)), v_) - ((1 - x_**q) / (1 - x_)).subs(x_, y) * sp.diff(y, v_)
    xv = 1 + sp.exp(-v_)
    return [D.check_zero("potential-increasing", sp.diff(x, u_) / dF - x ** (1 + q) * (1 - x),
                         "(dx/du)/F'(u) − x^p(1 − x) on 0 < x < 1"),
            D.check_zero("potential-decreasing", sp.diff(xv, v_) / dG - xv ** (1 + q) * (1 - xv),
                         "(dx/dv)/G'(v) − x^p(1 − x) on x > 1")]


def weight_mp(lam, sigma, tau, Q, eta, L, tol):
    """ψ at the working mpmath precision for L ≥ 3: Newton's method on F(u) = F(u0) + s (x0 < 1)
    or G(v) = G(v0) + s (x0 > 1), started from the float64 solution, with the potentials of
    `potential_mp` (the module docstring of theory.archs._deep_flow)."""
    q = 1 - mp.mpf(2) / L
    K = lam / (lam + sigma**2)
    x0, s = Q / K, 2 * eta * L * lam * tau * K**q
    if Q == 0 or s == 0 or x0 == 1:
        return Q if s == 0 or Q == 0 else K
    _, _, inc, _, _, _, pot = DF.start(np.array([float(lam)]), float(sigma) ** 2, np.array([float(Q)]), L)
    fl = DF.flow(L)
    if inc[0]:
        F = potential_mp(q, increasing=True)
        u = _newton_mp(F, F(mp.log(x0 / (1 - x0)))[0] + s,
                       mp.mpf(float(fl.solve_increasing(pot + float(s))[0])), tol)
        return K / (1 + mp.exp(-u))
    G = potential_mp(q, increasing=False)
    v = _newton_mp(G, G(-mp.log(x0 - 1))[0] + s, mp.mpf(float(fl.solve_decreasing(pot + float(s))[0])),
                   tol)
    return K * (1 + mp.exp(-v))


def potential_mp(q, increasing: bool):
    """F(u) (increasing) or G(v) (decreasing) with its derivative, at the working precision.

    At u, v ≥ 0 (x or y = 1/x near 1), with w = 1/(1 + e^{u or v}), from the tails of R and R₂:
        F = ln(1 + e^u) − (1 + e^{−u})^q/q + ψ_Γ(1) − ψ_Γ(1 − q) − q w ₃F₂(1, 1, 1 + q; 2, 2; w),
        G = ln(1 + e^v) − ψ_Γ(1 + q) + ψ_Γ(1) + q w ₃F₂(1, 1, 1 − q; 2, 2; w);
    below 0 from the antiderivatives ∫ t^{−p}/(1−t) dt = −x^{−q}/q ₂F₁(−q, 1; 1 − q; x) and
    ∫ t^q/(1−t) dt = y^p/p ₂F₁(p, 1; p + 1; y), shifted to agree at 0."""
    c = -q if increasing else 1 + q  # head(z) = y^c/c ₂F₁(c, 1; c + 1; y), y = 1/(1 + e^{−z})
    slope_power = q if increasing else -1 - q  # F' = (1 + e^{−u})^q, G' = (1 + e^{−v})^{−p}

    def tail(z):
        w = 1 / (1 + mp.exp(z))
        if increasing:
            return (mp.log(1 + mp.exp(z)) - (1 + mp.exp(-z)) ** q / q + mp.digamma(1) - mp.digamma(1 - q)
                    - q * w * mp.hyp3f2(1, 1, 1 + q, 2, 2, w))
        return (mp.log(1 + mp.exp(z)) - mp.digamma(1 + q) + mp.digamma(1)
                + q * w * mp.hyp3f2(1, 1, 1 - q, 2, 2, w))

    def head(z):
        y = 1 / (1 + mp.exp(-z))
        return y**c / c * mp.hyp2f1(c, 1, c + 1, y)

    shift = tail(mp.mpf(0)) - head(mp.mpf(0))

    def potential(z):
        value = tail(z) if z >= 0 else head(z) + shift
        return value, (1 + mp.exp(-z)) ** slope_power

    return potential


def _newton_mp(potential, target, z, tol, steps: int = 60):
    """Newton's method for potential(z) = target, to |step| ≤ tol·max(1, |z|) (increasing)."""
    for _ in range(steps):
        value, slope = potential(z)
        dz = (target - value) / slope
        z += dz
        if abs(dz) <= tol * max(1, abs(z)):
            return z
    raise SpecbiasError(f"deep_linear: mpmath Newton did not converge (last step {float(dz):.3g})")


ARCH = register(DeepLinear())
