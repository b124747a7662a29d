"""A solved Spec as a registered Architecture, so that derive's checks and `verify --module` run on it.

Nothing here is hand-written per architecture: the claims (`solution`, `log_H`, `fixed_point`,
`optimum_log_variance`) are the sympy expressions theory.solve derived, and `_weight`/`_log_variance`
are the generated evaluators (theory.solve.codegen, or theory.solve.numeric where dsolve found no
explicit gain, with Gauss–Legendre quadrature of the sampling integral).
"""
from __future__ import annotations

import numbers

import numpy as np
import sympy as sp

from .. import symbols as S
from ..arch import Architecture, Law
from ..errors import SpecbiasError
from ..sampling import DENOISER, FLOW
from . import codegen
from .sampling import antiderivative, integrand


class SolvedArchitecture(Architecture):
    """An Architecture whose every claim comes from theory.solve (see the module doc)."""

    def __init__(self, spec, gain, anti, seconds: float):
        self.spec, self.solved_gain, self.anti, self.seconds = spec, gain, anti, seconds
        self.name, self.title = spec.name, spec.title or f"{spec.name} (solved by theory.solve)"
        self.source, self.params = spec.source, dict(spec.params)
        self.q_range, self.domain = tuple(spec.q_range), spec.domain
        self.sampling = FLOW if spec.sampling == "flow" else DENOISER
        self.q_fixed_points = (0.0,) if gain.ode.subs(S.psi, 0) == 0 and gain.fixed_point != 0 else ()
        fp = gain.fixed_point
        rate = sp.factor(-sp.diff(gain.ode, S.psi).subs(S.psi, fp)) if fp is not None else "?"
        self.law = Law("inverse-variance", f"−f'(ψ*) = {sp.sstr(rate)}", {}, "derived by theory.solve")
        self.param_symbols = tuple(spec.symbol(n) for n in spec.params)
        self.fallbacks = codegen.Fallbacks()
        if gain.solution is not None:
            self._w64 = codegen.weight_code(codegen.stable_gain(gain), self.sampling, self.param_symbols)
            self.numeric = None
        else:
            from .numeric import SeparableGain
            if gain.fixed_point is None or spec.sampling != "denoiser":
                raise SpecbiasError(f"{spec.name}: {gain.note}; no unique fixed point of a scalar gain ODE, "
                                    "so no numeric gain either")
            self.numeric = SeparableGain(gain.ode, gain.fixed_point, self.param_symbols, gain.implicit)
            self.reference_guard = False
        self._lv64 = codegen.LogVarianceCode(anti, self.sampling, self.param_symbols) if anti.expr is not None else None
        self._optimum = None
        self.model = spec.model or ""

    # ---- the declaration, at given parameter values ----------------------------------------
    def check_params(self, p):
        for k, v in p.items():
            if isinstance(v, bool) or not isinstance(v, (numbers.Real, sp.Rational)) or not abs(float(v)) < 1e50:
                raise SpecbiasError(f"{self.name}: parameter {k} must be a finite number (got {v!r})")

    def _at(self, expr, p):
        return self.spec.at(expr, p) if expr is not None else None

    def theta(self, **p):
        return self.spec.theta

    def gain(self, **p):
        return self._at(self.spec.gain, p)

    def loss(self, **p):
        return self._at(self.spec.lr * self.spec.loss, p)

    def reduce(self, **p):
        return {k: self._at(v, p) for k, v in self.spec.reduce.items()}

    def initial_gain(self, **p):
        return self._at(self.spec.initial, p)

    def fixed_point(self, **p):
        return self._at(self.solved_gain.fixed_point, p)

    def solution(self, **p):
        return self._at(self.solved_gain.solution, p)

    def log_H(self, **p):
        return self._at(self.anti.expr, p)

    def optimum_log_variance(self, lam, sigma0, sigmaT, **p):
        """ln λ̃ at ψ = ψ*, from the same integrator applied to the optimum (rational: logarithms)."""
        if self._optimum is None:
            opt = antiderivative(integrand(self.spec.sampling, self.solved_gain.fixed_point), self.sampling.variable)
            if opt.expr is None:
                raise SpecbiasError(f"{self.name}: no closed form for the generated variance at the optimum")
            self._optimum = self.sampling.log_variance_expr(opt.expr)
        expr = self._at(self._optimum, p)
        return expr.subs({S.lam: lam, S.sigma0: sigma0, S.sigmaT: sigmaT}, simultaneous=True)

    # ---- generated evaluators ----------------------------------------------------------------
    def _pvals(self, p):
        resolved = dict(self.params, **p)
        return tuple(float(resolved[n]) for n in self.params)

    def _weight(self, lam, sigma, tau, Q, eta, **p):
        if self.numeric is not None:
            return self.numeric.weight(lam, sigma, tau, Q, eta, *self._pvals(p))
        with np.errstate(all="ignore"):
            out = self._w64(lam, sigma, tau, Q, eta, *self._pvals(p))
        return np.broadcast_to(np.asarray(out, dtype=float), np.broadcast(lam, sigma, tau, Q).shape)

    def _weight_mp(self, lam, sigma, tau, Q, eta, **p):
        if self.numeric is not None:
            return self.numeric.weight_mp(lam, sigma, tau, Q, eta, *self._pvals(p))
        return Architecture._weight_mp(self, lam, sigma, tau, Q, eta, **p)

    def _log_variance_mp(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        if self.numeric is None or tau == 0:
            return Architecture._log_variance_mp(self, lam, tau, Q, eta, sigma0, sigmaT, **p)
        from .numeric import log_variance_mp
        return log_variance_mp(lambda s: self._weight_mp(lam, s, tau, Q, eta, **p), sigma0, sigmaT)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        if self._lv64 is None:
            return Architecture._log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p)
        out, bad = self._lv64(lam, tau, Q, eta, sigma0, sigmaT, *self._pvals(p))
        if np.any(bad):
            lam_b, tau_b, Q_b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lam, tau, Q)))
            out = np.array(out, dtype=float)
            out[bad] = Architecture._log_variance(self, lam_b[bad], tau_b[bad], Q_b[bad], eta, sigma0, sigmaT, **p)
            self.fallbacks.count += 1
            self.fallbacks.entries += int(bad.sum())
            i = np.argmax(bad.reshape(-1))
            self.fallbacks.last = (f"λ = {lam_b.reshape(-1)[i]:.3g}, τ = {tau_b.reshape(-1)[i]:.3g}, "
                                   f"Q = {Q_b.reshape(-1)[i]:.3g}, η = {eta:g}")
        return out
