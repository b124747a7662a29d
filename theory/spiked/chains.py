"""Reverse chains, power iteration and the order of fixation (Weitzner et al., arXiv 2410.14730;
theory.md §5.3–5.4).

Levels s_t² = tS²/T, t = T..1, data (or learned) covariance with eigenvalues λ_i; x(s) ↦ x(s') per mode:

| rule | per-mode factor at step t | product over t = 1..T |
|---|---|---|
| R1 one-step MMSE (Σ + s²_{t−1})(Σ + s_t²)⁻¹ | (λ + s²_{t−1})/(λ + s_t²) | λ/(λ + S²) (telescopes) |
| R2 repeated full Wiener W_{s_t} | λ/(λ + s_t²) | G = Π_t 1/(1 + t x/T), x = S²/λ |
| PF-ODE (exact flow) | continuous | √(λ/(λ + S²)) |

R2 exactly: log G = −Σ_t log(1 + t x/T) = T log(T/x) + lnΓ(T/x + 1) − lnΓ(T/x + T + 1), and by
Euler–Maclaurin log G = −Tφ(x) − ½ log(1 + x) + x²/(12T(1 + x)) + O(T⁻³), φ(x) = ((1 + x)ln(1 + x) − x)/x
= ∫₀¹ ln(1 + ux) du. So log(G_1/G_0) = −Tκ + O(1), κ = φ(S²/λ_1) − φ(S²/λ_0) ≈ (S²/2)(1/λ_1 − 1/λ_0):
normalised, R2 converges to the leading eigenvector like power iteration (theory.md §5.4; the 1/T term is
ours, checked symbolically and against mpmath's loggamma).

Noisy R2: x_{t−1} = W_{s_t} x_t + σξ_t with σ² = S²/T and x_T ~ N(0, v_T): per mode the generated
variance is the finite sum v = G_T² v_T + σ² Σ_{τ=1}^{T} Π_{t<τ} g_t² (g_t = λ/(λ + s_t²)), a mixture
of power-iteration estimates of every depth; for σ ≪ √λ ≪ S it tends to (√π/2) σ √λ — a square-root
spectrum, not a collapse (theory.md §5.4).

Fixation (§5.3): along the PF-ODE with D = Ŝ(Ŝ + s²I)⁻¹ each mode moves as x_k(s) ∝ √(μ_k + s²) and the
running clean estimate x̂_{0,k} = μ_k/(μ_k + s²)·x_k(s) reaches the fraction r of its value at s_min at
s_k²(r) = (μ_k + s_min²)/r² − μ_k ≈ μ_k(r⁻² − 1): high-variance modes fix first. Convention (theory.md §5.3
leaves r open): r = 1/√2 by default, where s_k² = μ_k + 2s_min² ≈ μ_k.
"""
from __future__ import annotations

from functools import lru_cache

import mpmath as mp
import numpy as np
import sympy as sp

from theory import derive as D
from theory import validate as V
from theory.errors import SpecbiasError
from theory.spiked.covariance import VALUE_RANGE

FIX_FRACTION = 2**-0.5


def _steps(T) -> int:
    return V.count("number of chain steps T", T, lo=1)


def _S2(S2) -> float:
    """S² > 0 within the spiked model's VALUE_RANGE (S² = 1e308 overflowed φ to a silent −7084)."""
    arr = V.as_array("start noise variance (S2)", S2, positive=True)
    if arr.size != 1:
        raise SpecbiasError("start noise variance (S2) must be a single number")
    return V.scalar("start noise variance (S2)", arr, lo=VALUE_RANGE[0], hi=VALUE_RANGE[1])


def phi(x) -> np.ndarray:
    """φ(x) = ((1 + x)ln(1 + x) − x)/x, with its series x/2 − x²/6 + x³/12 below x = 1e−4."""
    x = V.as_array("x", x, nonneg=True)
    small = x < 1e-4
    xs = np.where(small, 1.0, x)
    return np.where(small, x / 2 - x**2 / 6 + x**3 / 12, ((1 + xs) * np.log1p(xs) - xs) / xs)


def r1_product(lam, S2) -> np.ndarray:
    """R1: Π_t (λ + s²_{t−1})/(λ + s_t²) = λ/(λ + S²) for every T."""
    lam, S2 = V.variances(lam), _S2(S2)
    return lam / (lam + S2)


def pf_ode_factor(lam, S2) -> np.ndarray:
    """PF-ODE from s² = S² to 0: x ∝ √(λ + s²), factor √(λ/(λ + S²))."""
    return np.sqrt(r1_product(lam, S2))


def log_r2_product(lam, S2, T) -> np.ndarray:
    """log G = −Σ_{t=1}^T log(1 + t S²/(Tλ)) (exact finite product, summed in logs; [..., modes])."""
    lam, S2, T = V.variances(lam), _S2(S2), _steps(T)
    t = np.arange(1, T + 1, dtype=float)
    return -np.log1p(np.multiply.outer(S2 / lam, t / T)).sum(-1)


def log_r2_asymptotic(lam, S2, T, order: int = 1) -> np.ndarray:
    """−Tφ(x) − ½ log(1 + x) (order 1, error O(1/T)); order 2 adds x²/(12T(1 + x)) (error O(1/T³))."""
    lam, S2, T = V.variances(lam), _S2(S2), _steps(T)
    order = V.count("order", order, lo=1, hi=2)
    x = S2 / lam
    out = -T * phi(x) - 0.5 * np.log1p(x)
    return out + x**2 / (12 * T * (1 + x)) if order >= 2 else out


def log_r2_reference(lam: float, S2: float, T: int, dps: int = 40) -> float:
    """mpmath reference: log G = T log(T/x) + lnΓ(T/x + 1) − lnΓ(T/x + T + 1) at `dps` digits
    (scalars: λ > 0, S² > 0, T ≥ 1)."""
    lam = V.positive("variance (lam)", lam)
    S2, T, dps = _S2(S2), _steps(T), V.dps(dps)
    with mp.workdps(dps):
        x = mp.mpf(S2) / mp.mpf(lam)
        y = mp.mpf(T) / x
        return float(T * mp.log(y) + mp.loggamma(y + 1) - mp.loggamma(y + T + 1))


def kappa(lam0, lam1, S2) -> np.ndarray:
    """Power-iteration rate κ = φ(S²/λ_1) − φ(S²/λ_0): log(G_1/G_0) = −Tκ + O(1)."""
    lam0, lam1, S2 = V.variances(lam0), V.variances(lam1), _S2(S2)
    return phi(S2 / lam1) - phi(S2 / lam0)


def kappa_small_noise(lam0, lam1, S2) -> np.ndarray:
    """κ ≈ (S²/2)(1/λ_1 − 1/λ_0) for S² ≪ λ."""
    lam0, lam1, S2 = V.variances(lam0), V.variances(lam1), _S2(S2)
    return 0.5 * S2 * (1 / lam1 - 1 / lam0)


def noisy_chain_variance(lam, S2, T, v_T=None) -> np.ndarray:
    """Per-mode variance of the noisy R2 chain (σ² = S²/T injected after every step, x_T ~ N(0, v_T),
    default v_T = S²): G_T² v_T + σ² Σ_{τ=1}^T Π_{t<τ} g_t², the partial products in logs."""
    lam, S2, T = V.variances(lam), _S2(S2), _steps(T)
    v_T = S2 if v_T is None else V.nonneg("start variance (v_T)", v_T)
    t = np.arange(1, T + 1, dtype=float)
    log_g = -np.log1p(np.multiply.outer(S2 / lam, t / T))  # [..., T]
    partial = np.concatenate([np.zeros(log_g.shape[:-1] + (1,)), np.cumsum(log_g, -1)[..., :-1]], -1)
    return np.exp(2 * log_g.sum(-1)) * v_T + (S2 / T) * np.exp(2 * partial).sum(-1)


def noisy_chain_asymptotic(lam, S2, T) -> np.ndarray:
    """(√π/2) σ √λ with σ = S/√T (σ ≪ √λ ≪ S)."""
    lam, S2, T = V.variances(lam), _S2(S2), _steps(T)
    return 0.5 * np.sqrt(np.pi) * np.sqrt(S2 / T) * np.sqrt(lam)


def fixation_noise(mu, r: float = FIX_FRACTION, s2_min: float = 0.002**2) -> np.ndarray:
    """s_k²(r) = (μ_k + s_min²)/r² − μ_k: the noise variance at which x̂_{0,k} reaches the fraction r of its
    final value (theory.md §5.3)."""
    mu = V.as_array("eigenvalues (mu)", mu, nonneg=True)
    r = V.scalar("fixation fraction r", r, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    s2_min = V.nonneg("final noise variance (s2_min)", s2_min)
    return (mu + s2_min) / r**2 - mu


# ---- symbolic derivation --------------------------------------------------------------------------
def derive() -> list[D.Check]:
    """Every symbolic check of this module (sympy runs once per process: the checks take no input)."""
    return list(_checks())


@lru_cache(maxsize=1)
def _checks() -> tuple:
    """Symbolic checks of §5.3–5.4 (telescoping, PF-ODE solution, φ integral, Euler–Maclaurin terms,
    small-noise κ, noisy-chain limit, fixation level)."""
    lam, S2, s, x, u, r, mu, smin, sig = sp.symbols("lam S2 s x u r mu s_min sigma", positive=True)
    Tn = 6
    st2 = [S2 * k / Tn for k in range(Tn + 1)]
    r1 = sp.prod([(lam + st2[k - 1]) / (lam + st2[k]) for k in range(1, Tn + 1)])
    checks = [D.check_zero("r1-telescopes", r1 - lam / (lam + S2),
                           "Π_{t=1}^{6} (λ + s²_{t−1})/(λ + s_t²) = λ/(λ + S²)")]
    xs = sp.sqrt(lam + s**2)
    ode = sp.diff(xs, s) - (xs - lam / (lam + s**2) * xs) / s
    checks.append(D.check_zero("pf-ode-solution", ode, "x = √(λ + s²) solves dx/ds = (x − D(x; s))/s"))
    phi_s = ((1 + x) * sp.log(1 + x) - x) / x
    checks.append(D.check_zero("phi-integral", sp.integrate(sp.log(1 + u * x), (u, 0, 1)) - phi_s,
                               "φ(x) = ∫₀¹ ln(1 + ux) du (the Riemann sum of log G)"))
    f = -sp.log(1 + u * x)
    em1 = (f.subs(u, 1) - f.subs(u, 0)) / 2
    em2 = (sp.diff(f, u).subs(u, 1) - sp.diff(f, u).subs(u, 0)) / 12
    checks.append(D.check_zero("euler-maclaurin-half", em1 + sp.log(1 + x) / 2, "boundary term −½ln(1 + x)"))
    checks.append(D.check_zero("euler-maclaurin-1/T", em2 - x**2 / (12 * (1 + x)), "1/T term x²/(12T(1 + x))"))
    ser = sp.series(phi_s, x, 0, 3).removeO()
    checks.append(D.check_zero("kappa-small-noise", ser - (x / 2 - x**2 / 6), "φ(x) = x/2 − x²/6 + O(x³)"))
    integral = sig**2 * sp.integrate(sp.exp(-u**2 * sig**2 / lam), (u, 0, sp.oo))
    checks.append(D.check_zero("noisy-chain-limit", integral - sp.sqrt(sp.pi) / 2 * sig * sp.sqrt(lam),
                               "σ² ∫₀^∞ e^{−τ²σ²/λ} dτ = (√π/2) σ √λ"))
    x0 = mu / (mu + s**2) * sp.sqrt(mu + s**2)  # running clean estimate along x ∝ √(μ + s²)
    sol = sp.solve(sp.Eq(x0 / x0.subs(s, smin), r), s**2)
    checks.append(D.check_zero("fixation-level", sp.Matrix(sol)[0] - ((mu + smin**2) / r**2 - mu),
                               "x̂₀(s)/x̂₀(s_min) = r at s² = (μ + s_min²)/r² − μ"))
    return tuple(checks)
