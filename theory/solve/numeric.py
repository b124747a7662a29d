"""The gain where dsolve finds no explicit solution: the separable integral, inverted numerically.

For the autonomous dψ/dτ = f(ψ) with ψ(0) = Q moving monotonically to the fixed point K, write
ψ = Q + (K − Q)s with s = expit(z): then τ(z) = ∫_{−∞}^{z} g, g(z) = (K − Q)s(1 − s)/f(ψ(s)), is
smooth and increasing (written g = −s/f₁(ψ) with f = (ψ − K)f₁, exact near K), g ~ e^{z} as z → −∞
and g → 1/|f'(K)| as z → ∞.

float64, where theory.solve.implicit found τ(ψ) in closed form (the deep linear L = 3 case): τ(z) is
that closed form, evaluated at SCAN nodes over z ∈ [−Z, Z] to bracket the root, then Newton steps on
ln τ(z) − ln τ inside the bracket (g is the derivative). Elsewhere: the running integral on composite
Gauss–Legendre panels over z ∈ [−Z, Z] (theory.sampling.cumulative_gauss), the bracketing node, then
Newton steps with an 8-point rule from it. Beyond Z, τ(z) is linear (ψ − K below 1e−15 relative).

mpmath (the reference, independent of the closed form): the separable integral itself by tanh-sinh,
τ(v) = ∫_0^v h, in v = −ln(1 − s) ∈ [0, ∞) where h = −1/f₁(ψ) is smooth and bounded (no infinite
interval), then Newton in v from the float64 answer, each step adding the integral over [v_new, v].
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp
from scipy import special

from .. import symbols as S
from ..sampling import cumulative_gauss

Z, PANELS = 36.0, 24
CHUNK = 2048  # entries per block: 2048 × 480 float64 ≈ 8 MB per array
Z_IMPLICIT, SCAN, NEWTON = 40.0, 28, 6  # closed-form τ(z): bracket nodes on [−Z, Z], then Newton steps
U_SPLIT = 2.0  # u = (ψ/ψ*)^{1/q} above this: G(u) − G(u₀) by quadrature in y = 1/u (theory.solve.implicit)
_GL16 = np.polynomial.legendre.leggauss(16)
CHUNK_IMPLICIT = 16384  # entries per block of the closed-form path (≈ 4 MB per scan array)
_GL8 = np.polynomial.legendre.leggauss(8)


class SeparableGain:
    """ψ(τ) of dψ/dτ = f(ψ) from ψ(0) = Q towards the fixed point K (see the module doc)."""

    def __init__(self, ode: sp.Expr, fixed_point: sp.Expr, params: tuple, implicit=None):
        args = (S.psi, S.lam, S.sigma, S.eta, *params)
        self.implicit = implicit  # theory.solve.implicit.ImplicitTime, or None (running quadrature)
        if implicit is not None:
            from .implicit import u, w, y
            self.A = sp.lambdify(args[1:], implicit.A, "numpy")
            self.G = sp.lambdify((u, w), implicit.G, "numpy")
            self.A_mp = sp.lambdify(args[1:], implicit.A, "mpmath")
            self.G_mp = sp.lambdify((u, w), implicit.G, "mpmath")
            self.dG_y = sp.lambdify(y, implicit.dG_y, "numpy") if implicit.dG_y is not None else None
            self.q = implicit.q
        self.f = sp.lambdify(args, ode, "numpy")
        self.f_mp = sp.lambdify(args, ode, "mpmath")
        self.K = sp.lambdify(args[1:], fixed_point, "numpy")
        self.K_mp = sp.lambdify(args[1:], fixed_point, "mpmath")
        self.slope = sp.lambdify(args, sp.diff(ode, S.psi).subs(S.psi, fixed_point), "numpy")
        self.df = sp.lambdify(args, sp.diff(ode, S.psi), "numpy")
        # f = (ψ − K)·f₁(ψ) with K a simple root: g = −s/f₁(ψ) never forms (ψ − K)/(ψ − K) near K
        f1 = sp.factor(sp.cancel(ode / (S.psi - fixed_point)))
        simple = sp.fraction(f1)[1].subs(S.psi, fixed_point) != 0
        self.f1 = sp.lambdify(args, f1, "numpy") if simple else None
        self.f1_mp = sp.lambdify(args, f1, "mpmath") if simple else None
        self.z, self.w, self.running = cumulative_gauss(-Z, Z, PANELS)

    def _g(self, z, K, Q, rest):
        s, r = special.expit(z), special.expit(-z)  # s and 1 − s, each without cancellation
        psi = np.where(z < 0, Q + (K - Q) * s, K - (K - Q) * r)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.f1 is not None:
                return -s / self.f1(psi, *rest)
            return (K - Q) * s * r / self.f(psi, *rest)

    def weight(self, lam, sigma, tau, Q, eta, *params) -> np.ndarray:
        """ψ, broadcast over the inputs, in blocks of CHUNK entries (each holds CHUNK × 480 z-nodes)."""
        lam, sigma, tau, Q = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(lam, sigma, tau, Q))
        flat = [v.reshape(-1, 1) for v in (lam, sigma, tau, Q)]
        out = np.empty(lam.size)
        block, size = (self._implicit_block, CHUNK_IMPLICIT) if self.implicit is not None else (self._block, CHUNK)
        for i in range(0, lam.size, size):
            out[i:i + size] = block(*(v[i:i + size] for v in flat), eta, *params).reshape(-1)
        return out.reshape(lam.shape)

    def _block(self, lam, sigma, tau, Q, eta, *params) -> np.ndarray:
        shape = lam.shape
        rest = (lam, sigma, eta, *params)
        K = self.K(*rest) * np.ones_like(lam)
        still = (self.f(Q, *rest) * np.ones_like(lam) == 0) | (K == Q) | (tau == 0)
        g = np.where(still, 0.0, self._g(self.z[None, :], K, Q, rest))
        T = self.running(g) + np.where(still, 0.0, self._g(-Z, K, Q, rest))  # tail ∫_{−∞}^{−Z} g ≈ g(−Z)
        i = np.clip(np.argmax(T >= tau, axis=1), 1, self.z.size - 1)[:, None]
        beyond = (T[:, -1:] < tau)
        nodes_z = self.z[None, :] * np.ones_like(T)
        zl, zr = np.take_along_axis(nodes_z, i - 1, axis=1), np.take_along_axis(nodes_z, i, axis=1)
        t0, t1 = np.take_along_axis(T, i - 1, axis=1), np.take_along_axis(T, i, axis=1)
        z = zl + (zr - zl) * np.clip((tau - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0, 1.0)
        for _ in range(8):  # Newton on τ(z) − τ, kept inside the bracketing nodes [zl, zr]
            half = (z - zl) / 2
            mid = zl + half
            nodes = mid[..., None] + half[..., None] * _GL8[0]
            part = np.sum(self._g(nodes, K[..., None], Q[..., None], tuple(
                np.asarray(r)[..., None] if np.ndim(r) else r for r in rest)) * _GL8[1], axis=-1) * half
            gz = self._g(z, K, Q, rest)
            z = np.clip(z - np.where(gz > 0, (t0 + part - tau) / np.where(gz > 0, gz, 1.0), 0.0), zl, zr)
        slope = -self.slope(K, *rest) * np.ones_like(lam)
        z = np.where(beyond, Z + (tau - T[:, -1:]) * slope, z)
        psi = K - (K - Q) * special.expit(-z)
        return np.where(still, Q, psi).reshape(shape)

    def _implicit_start(self, p0):
        """The Q-dependent part of τ(z): u₀, G at min(u₀, U_SPLIT), and y = 1/max(u₀, U_SPLIT)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            u0 = p0 ** (1.0 / self.q)
            w0 = np.where(u0 < U_SPLIT, np.abs(1 - p0), U_SPLIT**self.q - 1)
            return u0, self.G(np.minimum(u0, U_SPLIT), w0), 1 / np.maximum(u0, U_SPLIT)

    def _implicit_tau(self, z, p0, A, start):
        """τ(z) from the closed form (theory.solve.implicit), p − 1 = −(1 − p₀)·expit(−z) exactly; where u
        or u₀ exceeds U_SPLIT the part above it is Gauss–Legendre in y = 1/u (no cancellation)."""
        u0, G0, ya = start
        s, r = special.expit(z), special.expit(-z)
        p = np.where(z < 0, p0 + (1 - p0) * s, 1 - (1 - p0) * r)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            u = p ** (1.0 / self.q)
            if self.dG_y is None:
                return (self.G(u, np.abs(1 - p0) * r) - G0) / A
            w = np.where(u < U_SPLIT, np.abs(1 - p0) * r, U_SPLIT**self.q - 1)
            total = self.G(np.minimum(u, U_SPLIT), w) - G0
            yb = 1 / np.maximum(u, U_SPLIT)
            total, ya, yb = np.broadcast_arrays(total, ya, yb)
            total = total.copy()
            far = ya != yb
            if np.any(far):
                half = (yb[far] - ya[far]) / 2
                ys = (ya[far] + half)[:, None] + half[:, None] * _GL16[0]
                total[far] += (self.dG_y(ys) @ _GL16[1]) * half
            return total / A

    def _implicit_block(self, lam, sigma, tau, Q, eta, *params) -> np.ndarray:
        """ψ where τ(ψ) has a closed form: bracket on SCAN nodes, Newton on ln τ(z) (module doc). The
        scan depends on (λ, σ, Q) only: consecutive entries equal in all three (a τ grid on the last
        axis) share one scan."""
        lam, sigma, tau, Q = (v.reshape(-1) for v in (lam, sigma, tau, Q))
        new = np.ones(lam.size, dtype=bool)
        new[1:] = (lam[1:] != lam[:-1]) | (sigma[1:] != sigma[:-1]) | (Q[1:] != Q[:-1])
        run, first = np.cumsum(new) - 1, np.flatnonzero(new)
        rest = (lam, sigma, eta, *params)
        K = self.K(*rest) * np.ones_like(lam)
        A = self.A(*rest) * np.ones_like(lam)
        still = (self.f(Q, *rest) * np.ones_like(lam) == 0) | (K == Q) | (tau == 0)
        p0 = np.where(still, 0.5, Q / np.where(K == 0, 1.0, K))
        nodes = np.linspace(-Z_IMPLICIT, Z_IMPLICIT, SCAN)
        start = self._implicit_start(p0[first, None])
        T = self._implicit_tau(nodes[None, :], p0[first, None], A[first, None], start)[run]
        tau, K, A, p0, Q = tau[:, None], K[:, None], A[:, None], p0[:, None], Q[:, None]
        start = tuple(v[run] for v in start)
        rest = tuple(v[:, None] if np.ndim(v) else v for v in rest)
        i = np.clip(np.argmax(T >= tau, axis=1), 1, SCAN - 1)[:, None]
        zl, zr = nodes[i - 1], nodes[i]
        tl, tr = np.take_along_axis(T, i - 1, axis=1), np.take_along_axis(T, i, axis=1)
        with np.errstate(all="ignore"):
            logs = (tl > 0) & (tr > tl)
            frac = np.where(logs, np.log(tau / tl) / np.log(tr / tl), (tau - tl) / np.where(tr > tl, tr - tl, 1.0))
            z = zl + (zr - zl) * np.clip(np.nan_to_num(frac), 0.0, 1.0)
            for _ in range(NEWTON):  # on ln τ(z) − ln τ: linear as z → −∞, ~ln z as z → ∞
                t, gz = self._implicit_tau(z, p0, A, start), self._g(z, K, Q, rest)
                step = np.where(t > 0, np.log(t / tau) * t, t - tau) / np.where(gz > 0, gz, np.inf)
                z = np.clip(z - np.nan_to_num(step), zl, zr)
                if np.all(np.abs(step) <= 1e-15 * np.maximum(1.0, np.abs(z))):
                    break
            slope = -self.slope(K, *rest) * np.ones_like(K)
            z = np.where(T[:, -1:] < tau, Z_IMPLICIT + (tau - T[:, -1:]) * slope, z)
            psi = np.where(z < 0, Q + (K - Q) * special.expit(z), K - (K - Q) * special.expit(-z))
            # below the scan (τ < τ(−Z), ψ − Q < e^{−Z}|K − Q|) or τ|f'(Q)| < 1e−8: the Taylor polynomial
            # ψ = Q + τf(Q)(1 + τf'(Q)/2), whose remainder ~ (τf')²/6 relative to ψ − Q is negligible there
            fq, dfq = self.f(Q, *rest) * tau, self.df(Q, *rest) * tau
            psi = np.where((T[:, :1] > tau) | (np.abs(dfq) < 1e-8), Q + fq * (1 + dfq / 2), psi)
        return np.where(still[:, None], Q, psi).reshape(-1)

    def weight_mp(self, lam, sigma, tau, Q, eta, *params):
        """ψ at the working precision: Newton on the closed-form τ(ψ) where there is one (the reference
        of `verify`), else on the separable integral by quadrature (module doc)."""
        if self.implicit is not None:
            return self.weight_mp_closed(lam, sigma, tau, Q, eta, *params)
        return self.weight_mp_quadrature(lam, sigma, tau, Q, eta, *params)

    def _mp_setup(self, lam, sigma, tau, Q, eta, params):
        """(K, ψ(v), h(v) = dτ/dv, v from the float64 answer) for the Newton solves in v = −ln(1 − s)."""
        rest = (lam, sigma, eta, *params)
        K = self.K_mp(*rest)

        def psi(v):
            return K - (K - Q) * mp.exp(-v)

        def h(v):  # dτ/dv: −1/f₁(ψ), or (K − Q)e^{−v}/f(ψ) where K is not a simple root of f
            if self.f1_mp is not None:
                return -1 / self.f1_mp(psi(v), *rest)
            return (K - Q) * mp.exp(-v) / self.f_mp(psi(v), *rest)

        start = float(self.weight(float(lam), float(sigma), float(tau), float(Q), float(eta),
                                  *(float(v) for v in params)))
        frac = min(max((start - float(Q)) / float(K - Q), 1e-300), 1 - 1e-16)
        return K, psi, h, -mp.log1p(-frac)

    def _still(self, lam, sigma, tau, Q, eta, params) -> bool:
        return tau == 0 or self.K_mp(lam, sigma, eta, *params) == Q or self.f_mp(Q, lam, sigma, eta, *params) == 0

    def weight_mp_closed(self, lam, sigma, tau, Q, eta, *params):
        """Newton in v on τ(v) = (G(u) − G(u₀))/A − τ, the closed form of theory.solve.implicit evaluated
        directly in mpmath (no bracketing scan, no split at U_SPLIT: the float64 path's algorithm is not
        repeated), with as many extra digits as G(u) − G(u₀) cancels, plus 20."""
        if self._still(lam, sigma, tau, Q, eta, params):
            return Q
        dps = mp.mp.dps
        K, psi, h, v = self._mp_setup(lam, sigma, tau, Q, eta, params)
        A = self.A_mp(lam, sigma, eta, *params)
        p0 = Q / K
        u0, w0 = p0 ** (mp.mpf(1) / self.q), abs(1 - p0)
        lost = mp.log10(abs(self.G_mp(u0, w0)) / abs(A * tau) + 1)  # digits G(u) − G(u₀) cancels, at most
        with mp.extradps(int(lost) + 20):
            K, psi, h, v = K, psi, h, +v
            G0 = self.G_mp(p0 ** (mp.mpf(1) / self.q), abs(1 - p0))

            def T(v):
                p = psi(v) / K
                return (self.G_mp(p ** (mp.mpf(1) / self.q), abs(1 - p0) * mp.exp(-v)) - G0) / A

            for _ in range(60):
                if v > 2.3 * dps + 10:  # ψ = K to the working precision
                    return +K
                step = (T(v) - tau) / h(v)
                v -= step
                if abs(step) < mp.mpf(10) ** (-dps - 5) * max(1, abs(v)):
                    break
            return psi(v)

    def weight_mp_quadrature(self, lam, sigma, tau, Q, eta, *params):
        """Newton in v on τ(v) = ∫_0^v h − τ by tanh-sinh, each step adding ∫ over [v_new, v]: the
        separable integral itself, independent of the closed form (a cross-check of it)."""
        if self._still(lam, sigma, tau, Q, eta, params):
            return Q
        K, psi, h, v = self._mp_setup(lam, sigma, tau, Q, eta, params)
        T = mp.quad(h, [0, min(v, 1), v] if v > 1 else [0, v])  # τ(v), then by increments
        for _ in range(60):
            if v > 2.3 * mp.mp.dps + 10:  # ψ = K to the working precision
                return K
            step = (T - tau) / h(v)
            T -= mp.quad(h, [v - step, v])
            v -= step
            if abs(step) < mp.mpf(10) ** (-mp.mp.dps + 5) * max(1, abs(v)):
                break
        return psi(v)


def log_variance_mp(weight_mp, sigma0, sigmaT, panels: int = 4):
    """ln λ̃ = ln σ_T² − 2∫(1 − ψ(e^s)) ds (Lemma 4.1) with the mpmath gain, by a fixed composite
    20-point Gauss–Legendre rule in s = ln σ (nodes at the working precision): 80 gains instead of
    tanh-sinh's thousands, each a Newton solve. The rule's own error, measured for L = 3 at 30 digits
    against 8 panels: 4e−19 (λ = 0.3, τ = 2, Q = 0.1) and 6e−18 (λ = 1e−4, τ = 1e4, Q = 0.9)."""
    x, w = _legendre(20)
    lo, hi = mp.log(sigma0), mp.log(sigmaT)
    width = (hi - lo) / panels
    total = mp.mpf(0)
    for k in range(panels):
        a = lo + k * width
        for xi, wi in zip(x, w):
            total += wi * width / 2 * (1 - weight_mp(mp.exp(a + (xi + 1) * width / 2)))
    return mp.log(sigmaT**2) - 2 * total


_LEGENDRE: dict = {}


def _legendre(n: int):
    """Gauss–Legendre nodes and weights on [−1, 1] at the working precision (Newton on P_n at 10 extra
    digits until the step is below the working precision; cached per precision)."""
    key = (n, mp.mp.prec)
    if key in _LEGENDRE:
        return _LEGENDRE[key]
    xs, ws = [], []
    tiny = mp.mpf(10) ** (-mp.mp.dps - 2)
    with mp.extradps(10):
        for i in range(1, n + 1):
            x = mp.cos(mp.pi * (i - mp.mpf(1) / 4) / (n + mp.mpf(1) / 2))
            for _ in range(100):
                p0, p1 = mp.mpf(1), x
                for k in range(2, n + 1):
                    p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
                dp = n * (x * p1 - p0) / (x * x - 1)
                dx = p1 / dp
                x -= dx
                if abs(dx) < tiny:
                    break
            xs.append(x)
            ws.append(2 / ((1 - x * x) * dp * dp))
    _LEGENDRE[key] = [+x for x in xs], [+w for w in ws]
    return _LEGENDRE[key]
