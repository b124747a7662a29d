"""The universal flow of the balanced deep linear denoiser, solved in float64 (theory.md §2.4).

Depth L ≥ 3 has dψ/dτ = −2ηL ψ^{2−2/L}((σ² + λ)ψ − λ). With x = ψ/K, K = λ/(λ + σ²), and the clock
s = 2ηLλ K^{1−2/L} τ it becomes the autonomous dx/ds = x^p (1 − x), p = 1 + q, q = 1 − 2/L, started at
x0 = Q/K; so ψ(σ, τ) = K·X(s; x0). Its time functions ("potentials") are, with ψ_Γ the digamma function:

increasing branch 0 < x < 1, u = ln(x/(1 − x)):  ds/du = x^{−q} = (1 + e^{−u})^q,
    F(u) = ln(1 + e^u) − (1 + e^{−u})^q/q + R(x),  R(x) = ∫_0^x (t^{−q} − 1)/(1 − t) dt,  R(1) = ψ_Γ(1) − ψ_Γ(1 − q);
decreasing branch x > 1, v = −ln(x − 1), y = 1/x = 1/(1 + e^{−v}):  ds/dv = y^p,
    G(v) = ∫_0^y t^q/(1 − t) dt = ln(1 + e^v) − R₂(y) = Σ_{n≥0} y^{n+p}/(n + p),
    R₂(y) = ∫_0^y (1 − t^q)/(1 − t) dt,  R₂(1) = ψ_Γ(1 + q) − ψ_Γ(1).

The trajectory is F(u) = F(u0) + s (resp. G(v) = G(v0) + s). R and R₂ are bounded and smooth in u, v:
they are tabulated once per L (cubic Hermite with exact derivatives, cell integrals by 8-point
Gauss–Legendre summed in long double), and the inverse potentials are tabulated on a grid in a
variable ξ that is linear in u, v in both tails, followed by Newton steps on the exact potential.
F is concave and G convex, so Newton from the tabulated guess converges quadratically.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from ..special import cubic_table, hermite

U_HI = 40.0  # beyond, e^{−u} < 5e−18: the right asymptotes F = u + F∞, G = v − R₂(1) are exact
V_SERIES = -3.0  # below, y < 0.048 and 18 terms of Σ y^{n+p}/(n+p) reach 1e−24
STEP, INVERSE_STEP = 0.002, 0.005
GL8 = np.polynomial.legendre.leggauss(8)


def softplus(u):
    """ln(1 + e^u), without overflow."""
    return np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))


class Table:
    """A function tabulated on a uniform grid with its exact derivative; cubic Hermite between."""

    def __init__(self, lo: float, step: float, val: np.ndarray, der: np.ndarray):
        self.lo, self.step, self.coef = lo, step, cubic_table(step, val, der)
        self.hi = lo + step * (val.size - 1)

    @classmethod
    def integral(cls, deriv, start: float, lo: float, hi: float, step: float) -> "Table":
        """start + ∫_lo^u deriv on a grid over [lo, hi] (8-point Gauss–Legendre per cell)."""
        nodes = lo + step * np.arange(int(round((hi - lo) / step)) + 1)
        mid = 0.5 * (nodes[:-1] + nodes[1:])
        cells = deriv(mid[:, None] + 0.5 * step * GL8[0][None, :]) @ GL8[1] * (0.5 * step)
        values = start + np.concatenate([[0.0], np.cumsum(cells.astype(np.longdouble))])
        return cls(lo, step, values.astype(np.float64), deriv(nodes))

    def __call__(self, u):
        t = (np.clip(u, self.lo, self.hi) - self.lo) / self.step
        return hermite(t, self.coef)


def _bisect(fn, target, lo, hi, steps: int = 200):
    """The root of the increasing fn(x) = target in [lo, hi], elementwise (table building only)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    lo, hi = lo.copy(), hi.copy()
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        up = fn(mid) > target
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return 0.5 * (lo + hi)


def _xi_increasing(F):
    """Grid variable for F⁻¹: asinh F + ln(1 + e^F), ≈ −ln(−2F) as F → −∞ and ≈ F as F → ∞."""
    return np.arcsinh(F) + softplus(F)


def _dxi_increasing(F):
    return 1.0 / np.sqrt(1.0 + F * F) + special.expit(F)


def _xi_decreasing(G):
    """Grid variable for G⁻¹: ln G + G, ≈ ln G as G → 0 and ≈ G as G → ∞."""
    return np.log(G) + G


def _dxi_decreasing(G):
    return 1.0 / G + 1.0


class DeepFlow:
    """Potentials and their inverses for dx/ds = x^p (1 − x) at depth L (see the module docstring)."""

    def __init__(self, L: int):
        self.L, self.q = L, 1.0 - 2.0 / L
        self.p = 1.0 + self.q
        self.R1 = special.digamma(1.0) - special.digamma(1.0 - self.q)
        self.R21 = special.digamma(1.0 + self.q) - special.digamma(1.0)
        self.F_inf = self.R1 - 1.0 / self.q  # F(u) − u → F_inf as u → ∞
        self.u_lo = -45.0 - np.log(L)  # below, F = −x^{−q}/q to relative e^{−45}
        self.R = self._r_table()
        self.R2 = self._r2_table()
        self.F_lo, self.F_hi = self.increasing(np.array([self.u_lo, U_HI]))[0]
        self.G_lo, self.G_hi = self.decreasing(np.array([-U_HI, U_HI]))[0]
        self.F_inv = self._inverse(self.increasing, _xi_increasing, _dxi_increasing, self.u_lo)
        self.G_inv = self._inverse(self.decreasing, _xi_decreasing, _dxi_decreasing, -U_HI)

    def _r_table(self) -> Table:
        """R(x(u)), R' = x(x^{−q} − 1) = x·expm1(q ln(1 + e^{−u})); starts from its series."""
        q = self.q
        x0 = special.expit(self.u_lo)
        return Table.integral(lambda u: special.expit(u) * np.expm1(q * softplus(-u)),
                              x0 ** (1 - q) / (1 - q) - x0, self.u_lo, U_HI, STEP)

    def _r2_table(self) -> Table:
        """R₂(y(v)), R₂' = y(1 − y^q); starts from G's series: R₂ = ln(1 + e^v) − G."""
        q = self.q
        v0 = V_SERIES
        start = softplus(v0) - self._g_series(special.expit(v0))
        return Table.integral(lambda v: -special.expit(v) * np.expm1(-q * softplus(-v)),
                              start, v0, U_HI, STEP)

    def _g_series(self, y):
        """G = y^p Σ_{n<18} yⁿ/(n + p), exact to 1e−24 relative for y < 0.05."""
        acc = np.zeros_like(y)
        for n in range(17, -1, -1):
            acc = acc * y + 1.0 / (n + self.p)
        return np.exp(self.p * np.log(y)) * acc

    # ---- potentials ---------------------------------------------------------------------------
    def increasing(self, u):
        """F(u) and F'(u) = (1 + e^{−u})^q (increasing branch, module docstring)."""
        sp_neg = softplus(-u)
        pow_q = np.exp(self.q * sp_neg)
        x = np.exp(-sp_neg)
        tail = np.exp(-(1 - self.q) * sp_neg) / (1 - self.q) - x  # R's series for u < u_lo
        r = np.where(u < self.u_lo, tail, np.where(u > U_HI, self.R1, self.R(u)))
        return sp_neg + u - pow_q / self.q + r, pow_q

    def decreasing(self, v):
        """G(v) and G'(v) = y^p (decreasing branch, module docstring)."""
        y = special.expit(v)
        r2 = np.where(v > U_HI, self.R21, self.R2(v))
        with np.errstate(divide="ignore", invalid="ignore"):
            series = self._g_series(np.minimum(y, 0.05))
        return np.where(v < V_SERIES, series, softplus(v) - r2), np.exp(-self.p * softplus(-v))

    # ---- inverses -------------------------------------------------------------------------------
    def _inverse(self, potential, xi, dxi, lo: float) -> Table:
        """Table of the inverse potential on a uniform grid in ξ over [potential(lo), potential(U_HI)]."""
        ends = potential(np.array([lo, U_HI]))[0]
        a, b = xi(ends[0]), xi(ends[1])
        grid = a + INVERSE_STEP * np.arange(int(np.ceil((b - a) / INVERSE_STEP)) + 1)
        span = abs(ends[0]) + abs(ends[1]) + 1.0
        with np.errstate(divide="ignore", invalid="ignore"):  # ln 0 at the decreasing lower end
            level = _bisect(xi, grid, ends[0] - abs(ends[0]), ends[1] + span)
        arg = _bisect(lambda u: potential(u)[0], level, lo - 60.0, U_HI + 60.0)
        arg = self._newton(potential, level, arg, 2)
        return Table(a, INVERSE_STEP, arg, 1.0 / (dxi(level) * potential(arg)[1]))

    @staticmethod
    def _newton(potential, target, arg, steps: int):
        for _ in range(steps):
            value, slope = potential(arg)
            arg = arg + (target - value) / slope
        return arg

    def solve_increasing(self, F, polish: int = 2):
        """u with F(u) = F: tail asymptotes outside the table, then `polish` Newton steps."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lnx = -np.log(-self.q * np.minimum(F, -1.0)) / self.q  # F < F(u_lo): F = −x^{−q}/q
            u = np.where(F < self.F_lo, lnx - np.log1p(-np.exp(lnx)),
                         np.where(F > self.F_hi, F - self.F_inf, self.F_inv(_xi_increasing(F))))
        inside = (F >= self.F_lo) & (F <= self.F_hi)
        return np.where(inside, self._newton(self.increasing, F, u, polish), u)

    def solve_decreasing(self, G, polish: int = 2):
        """v with G(v) = G > 0: tail asymptotes outside the table, then `polish` Newton steps."""
        with np.errstate(divide="ignore", invalid="ignore"):
            small = G < self.G_lo
            lny = self._small_y(G)
            v = np.where(small, lny - np.log1p(-np.exp(lny)),
                         np.where(G > self.G_hi, G + self.R21, self.G_inv(_xi_decreasing(G))))
        return np.where(small | (G > self.G_hi), v, self._newton(self.decreasing, G, v, polish))

    def _small_y(self, G):
        """ln y for G = y^p (1/p + y/(p + 1) + …) with y < 1e−17: one fixed-point step is exact."""
        lny = np.log(self.p * G) / self.p
        return (np.log(G) - np.log(1.0 / self.p + np.exp(lny) / (self.p + 1.0))) / self.p


@lru_cache(maxsize=16)
def flow(L: int) -> DeepFlow:
    """The tables for depth L, built once (about 0.1 s)."""
    return DeepFlow(int(L))


# ---- the gain and the generated variance --------------------------------------------------------
def start(lam, sigma2, Q, L: int):
    """Per (mode, σ) quantities of the universal flow: K, the clock rate s/(2ηLλτ) = K^q, and the
    branch with its starting potential (F(u0) if x0 = Q/K < 1, G(v0) if x0 > 1; theory.md §2.4).

    Returns K, K^q, the masks (increasing, decreasing, at the optimum x0 = 1, at Q = 0) and the
    starting potential (0 where neither branch applies)."""
    fl = flow(L)
    K = lam / (lam + sigma2)
    rate = np.exp(-fl.q * np.log1p(sigma2 / lam))
    gap = (1.0 - Q) * lam - Q * sigma2  # λ(1 − x0): its sign picks the branch
    zero = Q == 0
    inc, dec = (gap > 0) & ~zero, gap < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        u0 = np.log(Q * (lam + sigma2)) - np.log(gap)
        v0 = np.log(lam) - np.log(-gap)
    pot = np.zeros(np.broadcast(K, gap).shape)
    pot[inc] = fl.increasing(np.broadcast_to(u0, pot.shape)[inc])[0]
    pot[dec] = fl.decreasing(np.broadcast_to(v0, pot.shape)[dec])[0]
    return K, rate, inc, dec, ~(inc | dec | zero), zero, pot


def ratio(L: int, inc, dec, fixed, pot, s, x0=None, polish: int = 2):
    """x = ψ/K after clock s from the starting potential (F(u) = F(u0) + s, G(v) = G(v0) + s);
    1 at the optimum, 0 at Q = 0, and x0 itself where s = 0 (if given)."""
    fl = flow(L)
    x = np.zeros(pot.shape)
    x[fixed] = 1.0
    u = fl.solve_increasing(pot[inc] + s[inc], polish)
    x[inc] = special.expit(u)
    v = fl.solve_decreasing(pot[dec] + s[dec], polish)
    x[dec] = 1.0 + np.exp(-v)
    return x if x0 is None else np.where(s == 0, x0, x)


def weight(lam, sigma, tau, Q, eta, L: int):
    """ψ(σ, τ) = K·X(2ηLλK^{1−2/L}τ; Q/K) for depth L ≥ 3 (theory.md §2.4), broadcast float64."""
    lam, sigma, tau, Q = np.broadcast_arrays(lam, sigma, tau, Q)
    sigma2 = sigma**2
    K, rate, inc, dec, fixed, _, pot = start(lam, sigma2, Q, L)
    s = 2.0 * eta * L * lam * tau * rate
    return K * ratio(L, inc, dec, fixed, pot, s, Q / K)


PANELS, NODES = 12, 10  # 1e−12 in ln λ̃ up to L = 100 against 96 × 20 nodes (measured)
CHUNK = 128  # output elements per block: its (128 × 120)-element arrays stay in L2 (2.5× faster than 2048)


@lru_cache(maxsize=8)
def _nodes(sigma0: float, sigmaT: float):
    """Composite Gauss–Legendre nodes and weights in ln σ over [ln σ_0, ln σ_T]."""
    x, w = np.polynomial.legendre.leggauss(NODES)
    edges = np.linspace(np.log(sigma0), np.log(sigmaT), PANELS + 1)
    half = 0.5 * np.diff(edges)
    nodes = (0.5 * (edges[:-1] + edges[1:]))[:, None] + half[:, None] * x
    return np.exp(2.0 * nodes.ravel()), (half[:, None] * w).ravel()


def log_variance(lam, tau, Q, eta, sigma0, sigmaT, L: int):
    """ln λ̃ = ln σ_T² − 2∫_{ln σ_0}^{ln σ_T} (1 − ψ) d ln σ (Lemma 4.1) by composite Gauss–Legendre
    (PANELS × NODES); the starting potentials are computed once per mode and σ node, then each
    block of (mode, τ) elements only advances the clock and reads the inverse tables."""
    sigma2, wts = _nodes(sigma0, sigmaT)
    lam_m, Q_m = np.broadcast_arrays(np.asarray(lam, float), np.asarray(Q, float))
    shape = np.broadcast_shapes(lam_m.shape, np.shape(tau))
    mode = np.broadcast_to(np.arange(lam_m.size).reshape(lam_m.shape), shape).ravel()
    clock = (2.0 * eta * L * np.broadcast_to(lam_m, shape) * tau).ravel()
    K, rate, inc, dec, fixed, _, pot = start(lam_m.reshape(-1, 1), sigma2, Q_m.reshape(-1, 1), L)
    out = np.empty(mode.size)
    for lo in range(0, mode.size, CHUNK):
        m, c = mode[lo:lo + CHUNK], clock[lo:lo + CHUNK, None]
        x = ratio(L, inc[m], dec[m], fixed[m], pot[m], c * rate[m], polish=0)
        out[lo:lo + CHUNK] = (1.0 - K[m] * x) @ wts
    return (np.log(sigmaT**2) - 2.0 * out).reshape(shape)
