"""Logistic gain dynamics shared by the balanced two-layer family (tied, untied, deep L = 2).

Every member obeys the per-mode logistic ODE dψ/dτ = mηλ ψ (1 − ψ/K), K = λ/(λ + σ²), with a rate
multiplier m: m = 8 for the tied P_σ P_σᵀ (Prop. 5.1, eq. 8), m = 4 for the balanced untied W₂W₁
and for the balanced deep linear network at depth 2 (theory.md §2.4). With E = e^{−mηλτ}:

    ψ(σ, τ) = K Q / ((K − Q) E + Q)                                         (Prop. 5.1, eq. 8)
    H(σ)    = σ^{(1−Q)E/(Q+(1−Q)E)} · [λE + Q(1 − E)(λ + σ²)]^{Q/(2Q+2(1−Q)E)}   (Prop. 5.1, §3.3)

This module gives the sympy claims (checked generically by theory.checks), the stable float64
evaluation and a base class that wires them into an Architecture.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from scipy import special

from .. import derive as D
from .. import symbols as S
from ..arch import Architecture
from ..domain import Domain


#: Ranges of the fitted α in τ* ∝ λ^{−α} for λ ∈ [1e−3, 1e2], η = 1, σ0 = 0.002, σT = 80. λ̃ depends on
#: τ only through mηλτ, so τ* = c(λ, Q, criterion)/(mηλ) and α is the same for every m (tied or
#: untied). theory.md §4.2 quotes 1.034 → 1.003 for geometric, Q = 0.1. Measured by us as the local
#: α = −d ln τ*/d ln λ (central difference, step 1e−3, 101 log-spaced λ, exact τ*): geometric, Q = 0.1:
#: 1.0419 (λ = 1e−3) → 1.0025 (λ = 1e2); harmonic, Q = 0.1: 1.1617 → 1.1254 (min), 1.1269 at λ = 1e2.
#: A least-squares α over any sub-range is a weighted mean of local α, so it lies inside; margins ≈ 0.01.
EXPONENTS = {("geometric", 0.1): (0.995, 1.05), ("harmonic", 0.1): (1.115, 1.17)}


def decay(m) -> sp.Expr:
    """E = e^{−mηλτ}, the logistic decay factor at rate multiplier m (Prop. 5.1)."""
    return sp.exp(-m * S.eta * S.lam * S.tau)


def solution(m) -> sp.Expr:
    """ψ(σ, τ) = K Q / ((K − Q) e^{−mηλτ} + Q) (Prop. 5.1, eq. 8 with rate mηλ)."""
    return S.K * S.Q / ((S.K - S.Q) * decay(m) + S.Q)


def log_H(m) -> sp.Expr:
    """ln H = (1−Q)E/(Q+(1−Q)E) ln σ + Q/(2Q+2(1−Q)E) ln[λE + Q(1−E)(λ+σ²)] (Prop. 5.1, §3.3)."""
    E, Q = decay(m), S.Q
    return ((1 - Q) * E / (Q + (1 - Q) * E) * sp.log(S.sigma)
            + Q / (2 * Q + 2 * (1 - Q) * E) * sp.log(S.lam * E + Q * (1 - E) * (S.lam + S.sigma**2)))


def claimed_ode(m) -> sp.Expr:
    """dψ/dτ = mηλ ψ (1 − ψ/K) (Prop. 5.1, eq. 8; theory.md §2.4 for m = 4)."""
    return m * S.eta * S.lam * S.psi * (1 - S.psi / S.K)


def _shares(lam, tau, Q, eta, m):
    """A = (1−Q)E/(Q+(1−Q)E), its complement 1 − A = Q/(Q+(1−Q)E), and c = (1 − E)(1 − A)/λ.

    Written as A = expit(−r), r = logit Q + mηλτ, so that Q = 0, Q = 1 and an underflowing E are
    all exact (no 0/0); c makes λE + Q(1−E)(λ+σ²) = λ(Q + (1−Q)E)(1 + cσ²) (Prop. 5.1, §3.3).
    x = m(ητ)λ may overflow to +inf (E = 0, exact); ητ first so that τ = 0 gives x = 0, never 0·inf;
    c = mητ(1 − A)φ(x), φ(x) = (1 − e^{−x})/x, never divides an underflowed x by λ (λ = 1e−300)."""
    with np.errstate(over="ignore", invalid="ignore"):
        rate = m * (eta * tau)
        x = rate * lam
        r = np.where(Q == 0, -np.inf, special.logit(Q) + x)  # Q = 0 stays 0 even where x = inf
        phi = np.divide(-np.expm1(-x), x, out=np.ones(np.shape(x)), where=x > 0)
    A, keep = special.expit(-r), special.expit(r)
    return A, keep, rate * keep * phi


def weight(lam, sigma, tau, Q, eta, m) -> np.ndarray:
    """Float64 ψ = K Q/((K−Q)E + Q) in the stable form ψ = (1 − A)/(1 + cσ²) (Prop. 5.1, eq. 8)."""
    _, keep, c = _shares(lam, tau, Q, eta, m)
    return keep / (1.0 + c * sigma**2)


def log_variance(lam, tau, Q, eta, sigma0, sigmaT, m) -> np.ndarray:
    """ln λ̃ = ln σ_T² + 2[ln H(σ_0) − ln H(σ_T)] from §3.3 (Prop. 5.1), as
    ln σ_T² + 2A ln(σ_0/σ_T) + (1 − A)[ln(1 + cσ_0²) − ln(1 + cσ_T²)] (the λ(Q + (1−Q)E) cancels)."""
    A, keep, c = _shares(lam, tau, Q, eta, m)
    return (np.log(sigmaT**2) + 2.0 * A * np.log(sigma0 / sigmaT)
            + keep * (np.log1p(c * sigma0**2) - np.log1p(c * sigmaT**2)))


def harmonic_crossing_check(m) -> D.Check:
    """ψ crosses the harmonic mean 2QK/(Q + K) at τ* = ln 2/(mηλ), independent of σ and Q (§2.3)."""
    t_star = sp.log(2) / (m * S.eta * S.lam)
    target = 2 * S.Q * S.K / (S.Q + S.K)
    return D.check_zero("weight-emergence-harmonic", solution(m).subs(S.tau, t_star) - target,
                        f"ψ at τ* = {t_star} (free of σ and Q) equals the harmonic mean 2QK/(Q+K)")


def ode_claim_check(ode: sp.Expr, claimed: sp.Expr, what: str) -> D.Check:
    """The ODE derived from the loss equals the one the theory states."""
    return D.check_zero("ode-matches-theory", ode - claimed, f"derived dψ/dτ − {what}")


class LogisticArchitecture(Architecture):
    """An architecture whose per-mode gain is the logistic of Prop. 5.1 at rate `rate` × ηλ."""

    rate: int = 8
    q_range = (0.0, 1.0)
    q_fixed_points = (0.0,)  # ψ ≡ 0 solves the ODE: nothing is learned (§2.3)
    domain = Domain(lam=(1e-300, 1e300), reason=(
        "the stable form ψ = (1 − A)/(1 + cσ²), c = (1 − e^{−x})(1 − A)/λ ≤ mητ, never forms K or "
        "λ + σ², so λ may span the float64 range; cσ_T² ≤ 8·1e50·1e100·1e100 stays finite"))

    def solution(self, **p):
        return solution(self.rate)

    def log_H(self, **p):
        return log_H(self.rate)

    def _weight(self, lam, sigma, tau, Q, eta, **p):
        return weight(lam, sigma, tau, Q, eta, self.rate)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        return log_variance(lam, tau, Q, eta, sigma0, sigmaT, self.rate)

    def extra_checks(self, ode, **p):
        return [ode_claim_check(ode, claimed_ode(self.rate), f"{self.rate}ηλψ(1 − ψ/K)"),
                harmonic_crossing_check(self.rate)]
