"""Cheap consistency checks of an architecture's theory, run before any training.

- τ = 0: the gain equals Q at every σ and λ̃ equals the exact v₀;
- τ → ∞: λ̃ stops changing, and (uncoupled denoisers) equals the optimum σ_T²(λ+σ_0²)/(λ+σ_T²);
- semigroup: two short runs equal one long run, ψ(τ1+τ2; Q) = ψ(τ2; ψ(τ1; Q)) where the gain is the
  whole state (`gain_is_state`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import theory

from .tolerances import tol


@dataclass
class Consistency:
    name: str
    error: float
    tolerance: float
    reason: str

    @property
    def ok(self) -> bool:
        return bool(self.error <= self.tolerance)


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def check(arch, lam, sigma, tau1: float, tau2: float, Q: float = 0.1, **params) -> list[Consistency]:
    """All cheap checks for one architecture at the given modes, noise levels and two times."""
    arch = theory.get(arch)
    lam = arch.as_spectrum(lam)
    sig = np.asarray(sigma, float)[:, None]
    t = tol("float64-vs-mpmath")
    out = []
    w0 = arch.weight(lam[None, :], sig, 0.0, Q=Q, **params)
    out.append(Consistency("tau0-gain", float(np.max(np.abs(w0 - Q))), t.rel, "ψ(σ, 0) = Q exactly"))
    v0 = arch.initial_variance(Q)
    out.append(Consistency("tau0-variance", _rel(arch.generated_variance(lam, 0.0, Q=Q, **params), v0),
                           t.rel, "λ̃(0) = v₀ (exact initial value)"))
    far = arch.log_generated_variance(lam, np.array([[1e10], [1e12]]), Q=Q, **params)
    out.append(Consistency("tau-inf-stationary", float(np.max(np.abs(far[0] - far[1]))), t.rel,
                           "λ̃ has converged by τ = 1e10"))
    if not arch.coupled:
        opt = arch.optimum_log_variance(lam, 0.002, 80.0, **params)
        out.append(Consistency("tau-inf-optimum", float(np.max(np.abs(far[1] - opt))),
                               tol("closed-form-vs-quadrature").rel,
                               "λ̃(∞) = λ̃ at the optimum gain (§3.1), to quadrature accuracy"))
    if arch.gain_is_state:
        one = arch.weight(lam[None, :], sig, tau1 + tau2, Q=Q, **params)
        p = arch.resolve(params)
        mid = arch._weight(lam[None, :], sig, tau1, Q, 1.0, **p)
        two = arch._weight(lam[None, :], sig, tau2, mid, 1.0, **p)
        out.append(Consistency("semigroup", float(np.max(np.abs(one - two))), t.rel,
                               "ψ(τ1+τ2; Q) = ψ(τ2; ψ(τ1; Q)): two short runs equal one long run"))
    return out
