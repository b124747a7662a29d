"""The spiked covariance model of the linear denoiser built from n noisy samples (Weitzner et al., arXiv 2410.14730: the
"correlation machine"; BBP transition of Baik, Ben Arous & Péché 2005, eigenvector limits of Paul 2007).

Data x = Σ_i √λ_i g_i u_i (g_i ~ N(0, 1), orthonormal u_i, rank k ≤ d), noise level s (variance s²),
n clean samples, M noise draws each: the PCA of the nM noisy vectors y = x + s z (sample second moment
(1/nM) Σ y yᵀ) has top eigenpairs (μ̂_i, û_i). With γ = d/n (M = 1) and ℓ = λ/s², as n, d → ∞:

    μ̂ → s²(1 + ℓ)(1 + γ/ℓ) = (λ + s²)(1 + γs²/λ)     if ℓ > √γ, else the bulk edge s²(1 + √γ)²
    α² = ⟨û, u⟩² → (ℓ² − γ)/(ℓ(ℓ + γ)) = (λ² − γs⁴)/(λ(λ + γs²))   if ℓ > √γ, else 0
    s_c² = λ/√γ = λ√(n/d)                           (the learnability threshold in noise units)

Denoiser D(y) = h û ûᵀ y on a fresh pair: MSE(h) = λ − 2hλα² + h²(λα² + s²); the optimal gain
h* = λα²/(λα² + s²) = (ℓ² − γ)/(ℓ(ℓ + 1)) and MSE*/λ = 1 − (ℓ² − γ)²/(ℓ²(ℓ + 1)(ℓ + γ)) above the
threshold (MSE* = λ below); the plug-in gain h_emp = 1 − s²/μ̂ → (ℓ² + ℓγ + γ)/((ℓ + 1)(ℓ + γ)) above,
1 − (1 + √γ)⁻² below (then MSE = λ(1 + h_emp²/ℓ) > λ). Rank k with separated spikes: every mode follows
the rank-one law with its own ℓ_i, so the alignment curves are translates by ln λ_i in ln s².

M noise draws per sample. The noisy matrix is the rank-one signal √λ u (g ⊗ 1_M)ᵀ plus nM independent
noise columns: an information-plus-noise matrix whose signal direction g ⊗ 1_M is independent of the
noise, so the rank-one limits of Benaych-Georges & Nadakuditi (2012) apply with aspect ratio
γ_eff = d/(nM) and the same ℓ. We find the rank-one formulas therefore hold EXACTLY in the limit with
γ → γ_eff (theory.md §5.2 says "about γ_eff"; checked symbolically below and by Monte Carlo). M = ∞ (fresh
noise at every step) is γ_eff = 0: the basis is the clean sample covariance's at every s (§5.1).

Conventions (theory.md §5 leaves them open; named here): zero-mean model, sample SECOND MOMENT (1/N)Σ y yᵀ
(no centring) for the noisy PCA; noise level given as the variance s² (σ = s in the first paper's
notation); "threshold window" |ℓ − √γ| < w√γ with w = 1/2, i.e. s² ∈ (s_c²/(1 + w), s_c²/(1 − w)).

Every formula is checked symbolically in `derive()` and against an independent quadrature reference
(`reference`): the outlier is found as the root of the companion Stieltjes transform m̲(z) = −1/(1 + ℓ)
of the Marchenko–Pastur law, integrated numerically, and α² = −m̲/(z m̲'(z)).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import integrate, optimize

from theory import derive as D
from theory import validate as V
from theory.errors import SpecbiasError

WINDOW = 0.5  # half-width of the threshold window in units of √γ (theory.md §5.2)


# ---- validation ------------------------------------------------------------------------------------
def _count(name: str, value, allow_inf: bool = False):
    """An integer ≥ 1 (≤ 10¹⁵, so d/(nM) and the digamma sums stay exact), or inf where allowed."""
    if allow_inf and isinstance(value, (int, float, np.floating)) and value == np.inf:
        return np.inf
    try:
        return V.count(name, value, lo=1, hi=10**15)
    except SpecbiasError:
        extra = " or inf" if allow_inf else ""
        raise SpecbiasError(f"{name} must be an integer in [1, 10^15]{extra} (got {V._short(value)})") from None


def aspect_ratio(d, n, M=1) -> float:
    """γ_eff = d/(nM) (theory.md §5.2): d dimensions, n clean samples, M noise draws per sample
    (M = inf: fresh noise at every step, γ_eff = 0)."""
    d, n, M = _count("d (dimension)", d), _count("n (samples)", n), _count("M (noise draws)", M, True)
    return 0.0 if M == np.inf else d / (n * M)


#: the range of λ, s² and γ the closed forms are evaluated on: their products (λ², γ s⁴, λ γ s²) stay
#: far inside float64, so nothing overflows to a silent NaN or inf (λ = 1e300 did)
VALUE_RANGE = (1e-100, 1e100)


def _within(name: str, arr: np.ndarray) -> np.ndarray:
    lo, hi = VALUE_RANGE
    bad = (arr != 0) & ((np.abs(arr) < lo) | (np.abs(arr) > hi))
    if np.any(bad):
        raise SpecbiasError(f"{name} must be 0 or lie in [{lo:g}, {hi:g}] (got {arr[bad].reshape(-1)[0]:g})")
    return arr


def check_gamma(gamma) -> np.ndarray:
    """γ = d/n > 0 (within VALUE_RANGE)."""
    return _within("aspect ratio (gamma = d/n)", V.as_array("aspect ratio (gamma = d/n)", gamma, positive=True))


def check_spikes(lam, d=None) -> np.ndarray:
    """Spike strengths λ_i ≥ 0, at most d of them when d is given."""
    lam = _within("spike strengths (lam)", V.as_array("spike strengths (lam)", lam, nonneg=True))
    if d is not None and lam.ndim and lam.shape[-1] > _count("d (dimension)", d):
        raise SpecbiasError(f"rank k = {lam.shape[-1]} spikes exceeds the dimension d = {int(d)}")
    return lam


def check_noise(s2) -> np.ndarray:
    """Noise variances s² ≥ 0."""
    return _within("noise variance (s2)", V.as_array("noise variance (s2)", s2, nonneg=True))


def _one(name: str, arr: np.ndarray) -> np.ndarray:
    """One number (the scalar references take no arrays)."""
    if arr.size != 1:
        raise SpecbiasError(f"{name} must be a single number, got {arr.size} values")
    return arr.reshape(())


def _args(lam, s2, gamma):
    lam, s2, gamma = check_spikes(lam), check_noise(s2), check_gamma(gamma)
    return V.broadcast(lam=lam, s2=s2, gamma=gamma)


# ---- the rank-one law, broadcast over (λ, s², γ) ---------------------------------------------------
def spike_strength(lam, s2) -> np.ndarray:
    """ℓ = λ/s² (inf at s² = 0)."""
    lam, s2 = V.broadcast(lam=check_spikes(lam), s2=check_noise(s2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s2 > 0, lam / np.where(s2 > 0, s2, 1.0), np.inf)


def critical_noise(lam, gamma) -> np.ndarray:
    """s_c² = λ/√γ = λ√(n/d): the noise variance below which û carries information about u."""
    lam, gamma = V.broadcast(lam=check_spikes(lam), gamma=check_gamma(gamma))
    return lam / np.sqrt(gamma)


def threshold_window(lam, gamma, width: float = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) in s² of the window |ℓ − √γ| < width·√γ around s_c², where finite-size effects are
    large and no finite-d tolerance is claimed."""
    width = V.scalar("window width", width, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    sc2 = critical_noise(lam, gamma)
    return sc2 / (1 + width), sc2 / (1 - width)


def outside_window(lam, s2, gamma, width: float = WINDOW) -> np.ndarray:
    """True where (λ, s², γ) lies outside the threshold window."""
    lo, hi = threshold_window(lam, gamma, width)
    s2, lo, hi = V.broadcast(s2=check_noise(s2), lam_and_gamma=lo, hi=hi)
    return (s2 <= lo) | (s2 >= hi)


def above_threshold(lam, s2, gamma) -> np.ndarray:
    """ℓ > √γ, i.e. λ > √γ s²."""
    lam, s2, gamma = _args(lam, s2, gamma)
    return lam > np.sqrt(gamma) * s2


def top_eigenvalue(lam, s2, gamma) -> np.ndarray:
    """Limit of the top eigenvalue μ̂ of the noisy sample second moment."""
    lam, s2, gamma = _args(lam, s2, gamma)
    up = lam > np.sqrt(gamma) * s2
    safe = np.where(up, lam, 1.0)
    return np.where(up, (lam + s2) * (1 + gamma * s2 / safe), s2 * (1 + np.sqrt(gamma)) ** 2)


def overlap2(lam, s2, gamma) -> np.ndarray:
    """Limit of the squared overlap α² = ⟨û, u⟩²."""
    lam, s2, gamma = _args(lam, s2, gamma)
    up = lam > np.sqrt(gamma) * s2
    safe = np.where(up, lam, 1.0)
    return np.where(up, (safe**2 - gamma * s2**2) / (safe * (safe + gamma * s2)), 0.0)


def optimal_gain(lam, s2, gamma) -> np.ndarray:
    """h* = λα²/(λα² + s²) = (λ² − γs⁴)/(λ(λ + s²)) above the threshold, 0 below."""
    lam, s2, gamma = _args(lam, s2, gamma)
    up = lam > np.sqrt(gamma) * s2
    safe = np.where(up, lam, 1.0)
    return np.where(up, (safe**2 - gamma * s2**2) / (safe * (safe + s2)), 0.0)


def plugin_gain(lam, s2, gamma) -> np.ndarray:
    """h_emp = 1 − s²/μ̂ in the limit."""
    lam, s2, gamma = _args(lam, s2, gamma)
    up = lam > np.sqrt(gamma) * s2
    safe = np.where(up, lam, 1.0)
    above = (safe**2 + safe * gamma * s2 + gamma * s2**2) / ((safe + s2) * (safe + gamma * s2))
    return np.where(up, above, 1 - (1 + np.sqrt(gamma)) ** -2.0)


def mse(h, lam, s2, alpha2) -> np.ndarray:
    """MSE(h) = λ − 2hλα² + h²(λα² + s²) of D(y) = h û ûᵀ y on a fresh pair, given α² = ⟨û, u⟩² ∈ [0, 1].

    MSE = λ(1 − hα²)² + h²λα²(1 − α²) + h²s² ≥ 0 for α² ∈ [0, 1]; a squared overlap outside [0, 1] is
    refused (α² = 2 gave MSE < 0), and a rounding residue below 0 is returned as 0."""
    h, lam, s2, alpha2 = V.broadcast(h=V.as_array("gain (h)", h), lam=check_spikes(lam), s2=check_noise(s2),
                                     alpha2=V.within("squared overlap (alpha2)", alpha2, 0.0, 1.0))
    return np.maximum(lam - 2 * h * lam * alpha2 + h**2 * (lam * alpha2 + s2), 0.0)


def optimal_mse(lam, s2, gamma) -> np.ndarray:
    """MSE(h*) (λ below the threshold)."""
    return mse(optimal_gain(lam, s2, gamma), lam, s2, overlap2(lam, s2, gamma))


def plugin_mse(lam, s2, gamma) -> np.ndarray:
    """MSE(h_emp): above λ(1 − ...) , below λ(1 + h_emp²/ℓ) > λ."""
    return mse(plugin_gain(lam, s2, gamma), lam, s2, overlap2(lam, s2, gamma))


@dataclass
class Prediction:
    """Every rank-one limit at broadcast (λ, s², γ); rank k: λ a vector of spikes (theory.md §5.2)."""

    lam: np.ndarray
    s2: np.ndarray
    gamma: np.ndarray
    ell: np.ndarray
    above: np.ndarray
    in_window: np.ndarray
    s2_critical: np.ndarray
    top_eigenvalue: np.ndarray
    overlap2: np.ndarray
    gain_optimal: np.ndarray
    gain_plugin: np.ndarray
    mse_optimal: np.ndarray
    mse_plugin: np.ndarray

    def as_dict(self) -> dict:
        return {k: np.asarray(v).tolist() for k, v in self.__dict__.items()}


def predict(lam, s2, gamma, width: float = WINDOW) -> Prediction:
    """All limits of the spiked model at once (broadcast over λ, s², γ)."""
    lam, s2, gamma = _args(lam, s2, gamma)
    return Prediction(lam, s2, gamma, spike_strength(lam, s2), above_threshold(lam, s2, gamma),
                      ~outside_window(lam, s2, gamma, width), critical_noise(lam, gamma),
                      top_eigenvalue(lam, s2, gamma), overlap2(lam, s2, gamma), optimal_gain(lam, s2, gamma),
                      plugin_gain(lam, s2, gamma), optimal_mse(lam, s2, gamma), plugin_mse(lam, s2, gamma))


# ---- independent reference: Marchenko–Pastur Stieltjes transform by quadrature -------------------------
def _mp_transform(z: float, gamma: float, power: int = 1) -> float:
    """∫ dF(x)/(x − z)^power for the Marchenko–Pastur law of aspect γ (unit noise), z above the edge,
    by scipy quadrature (substitution x = c + r cos θ removes the square-root endpoints)."""
    a, b = (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2
    c, r = (a + b) / 2, (b - a) / 2

    def f(theta):
        x = c + r * np.cos(theta)
        if x <= 0:  # γ = 1: the density's 1/√x endpoint, integrable; quad may touch it
            return 0.0
        return (r * np.sin(theta)) ** 2 / (2 * np.pi * gamma * x) / (x - z) ** power

    with warnings.catch_warnings():  # near the edge the integrand peaks; quad still meets ~1e−12
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        # γ ≈ 1: the lower edge a = (1 − √γ)² is tiny and the integrand turns over at π − θ ~ √(a/r);
        # name that scale to quad as break points, or it never samples the feature (γ = 1 + 3e−7 gave
        # μ̂ off by 1e−7 relative)
        scale = np.sqrt(a / r) if a > 0 else 0.0
        points = [np.pi - k * scale for k in (1e3, 30.0, 1.0) if 0 < k * scale < np.pi / 2] or None
        val, _ = integrate.quad(f, 0.0, np.pi, epsabs=1e-14, epsrel=1e-13, limit=400, points=points)
    return val + max(0.0, 1 - 1 / gamma) / (-z) ** power


def reference(lam: float, s2: float, gamma: float) -> tuple[float, float]:
    """(μ̂, α²) from the companion Stieltjes transform m̲(z) = −(1 − γ)/z + γ m(z): the outlier solves
    m̲(z) = −1/(1 + ℓ) above the edge, and α² = −m̲/(z m̲'); below the threshold (no root) (edge, 0).
    Scalars: λ ≥ 0, s² > 0 (ℓ = λ/s² must be finite), γ > 0."""
    lam = float(_one("spike strength (lam)", check_spikes(lam)))
    s2 = float(_one("noise variance (s2)", check_noise(s2)))
    gamma = float(_one("aspect ratio (gamma = d/n)", check_gamma(gamma)))
    if s2 == 0:
        raise SpecbiasError("noise variance (s2) must be > 0 for the quadrature reference (ℓ = λ/s² is infinite)")
    ell = lam / s2
    edge = (1 + np.sqrt(gamma)) ** 2

    def mbar(z):
        return -(1 - gamma) / z + gamma * _mp_transform(z, gamma)

    def g(z):
        return mbar(z) + 1 / (1 + ell)

    lo, hi = edge * (1 + 1e-10), edge + 4 * (1 + ell) * (1 + gamma)
    if ell <= np.sqrt(gamma) or g(lo) * g(hi) > 0:
        return s2 * edge, 0.0
    z = optimize.brentq(g, lo, hi, xtol=1e-14, rtol=1e-14)
    dmbar = (1 - gamma) / z**2 + gamma * _mp_transform(z, gamma, 2)
    return s2 * z, -mbar(z) / (z * dmbar)


# ---- symbolic derivation -------------------------------------------------------------------------
ell, gam, s2_, h_ = sp.symbols("ell gamma s2 h", positive=True)
lam_ = sp.Symbol("lam", positive=True)
ALPHA2 = (ell**2 - gam) / (ell * (ell + gam))
TOP = (1 + ell) * (1 + gam / ell)  # μ̂/s²


def derive() -> list[D.Check]:
    """Every symbolic check of this module (sympy runs once per process: the checks take no input)."""
    return list(_checks())


@lru_cache(maxsize=1)
def _checks() -> tuple:
    """Symbolic checks of every closed form above (theory.md §5.2)."""
    checks = []
    a = 1 + ell  # population spike in noise units
    psi = a + gam * a / (a - 1)  # Bai–Yao outlier map for a unit bulk
    checks.append(D.check_zero("top-eigenvalue-bai-yao", psi - TOP, "μ̂/s² = ψ(1 + ℓ), ψ(a) = a + γa/(a − 1)"))
    checks.append(D.check_zero("overlap-paul", a * sp.diff(psi, ell) / psi - ALPHA2,
                               "α² = aψ'(a)/ψ(a) (Paul 2007)"))
    checks.append(D.check_zero("threshold-continuity", ALPHA2.subs(ell, sp.sqrt(gam)),
                               "α² = 0 at ℓ = √γ"))
    checks.append(D.check_zero("edge-continuity", TOP.subs(ell, sp.sqrt(gam)) - (1 + sp.sqrt(gam))**2,
                               "μ̂ meets the bulk edge s²(1 + √γ)² at ℓ = √γ"))
    # M draws: Benaych-Georges–Nadakuditi left-singular-vector overlap with θ² = ℓ, c = γ_eff
    bgn = 1 - gam * (1 + ell) / (ell * (ell + gam))
    checks.append(D.check_zero("m-draws-information-plus-noise", bgn - ALPHA2,
                               "1 − c(1 + θ²)/(θ²(θ² + c)) at θ² = ℓ, c = γ_eff equals the spiked α²"))
    A = sp.Symbol("A", positive=True)  # α²
    ms = lam_ - 2 * h_ * lam_ * A + h_**2 * (lam_ * A + s2_)
    h_star = sp.solve(sp.diff(ms, h_), h_)[0]
    checks.append(D.check_zero("optimal-gain", h_star - lam_ * A / (lam_ * A + s2_), "∂MSE/∂h = 0 at h*"))
    in_ell = {lam_: ell * s2_, A: ALPHA2}
    checks.append(D.check_zero("optimal-gain-in-ell", h_star.subs(in_ell) - (ell**2 - gam) / (ell * (ell + 1)),
                               "h* = (ℓ² − γ)/(ℓ(ℓ + 1))"))
    mse_star = ms.subs(h_, h_star).subs(in_ell) / (ell * s2_)
    checks.append(D.check_zero("optimal-mse", mse_star - (1 - (ell**2 - gam)**2 / (ell**2 * (ell + 1) * (ell + gam))),
                               "MSE*/λ = 1 − (ℓ² − γ)²/(ℓ²(ℓ + 1)(ℓ + γ))"))
    h_emp = 1 - 1 / TOP
    checks.append(D.check_zero("plugin-gain", h_emp - (ell**2 + ell * gam + gam) / ((ell + 1) * (ell + gam)),
                               "1 − s²/μ̂ = (ℓ² + ℓγ + γ)/((ℓ + 1)(ℓ + γ))"))
    below = ms.subs({A: 0, lam_: ell * s2_}) / (ell * s2_)
    checks.append(D.check_zero("plugin-mse-below", below - (1 + h_**2 / ell), "MSE(h)/λ = 1 + h²/ℓ at α² = 0"))
    eps = sp.Symbol("epsilon", positive=True)  # ℓ = 1/ε → ∞: sin²θ = γ/ℓ + O(ℓ⁻²)
    lead = sp.series((1 - ALPHA2).subs(ell, 1 / eps), eps, 0, 2).removeO()
    checks.append(D.check_zero("low-noise", lead - gam * eps, "sin²θ = γs²/λ + O(s⁴)"))
    onset = sp.diff(ALPHA2, ell).subs(ell, sp.sqrt(gam))
    checks.append(D.check_zero("onset-slope", onset - 2 / (sp.sqrt(gam) + gam), "dα²/dℓ = 2/(√γ + γ) at ℓ = √γ"))
    return tuple(checks)
