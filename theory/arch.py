"""The architecture base class: the one place an architecture declares everything about itself.

A subclass declares
- its per-mode parametrisation θ, gain ψ(θ) and loss L(θ) in sympy (`theta`, `gain`, `loss`,
  `reduce`), from which the gradient-flow ODE is *derived* (theory.derive);
- its claimed solution ψ(τ) and sampling antiderivative (or None: "solve numerically"/quadrature);
- fast vectorised float64 evaluation (`_weight`, optionally `_log_variance`);
- the law it predicts (`law`) and its valid range of Q;
- its torch model (`torch_model`), built lazily so `theory` never needs torch;
- its supported input range (`domain`, theory.domain.Domain), outside which inputs are refused.
Everything else (validation, mpmath reference, quadrature fallback, checks, emergence) is generic.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field

import mpmath as mp
import numpy as np
import sympy as sp

from . import derive as D
from . import symbols as S
from . import validate as V
from .domain import Domain, guarded, integrand_guard, reference
from .errors import SpecbiasError
from .sampling import DENOISER


@dataclass(frozen=True)
class Law:
    """The law an architecture predicts for the emergence time of increasing modes.

    `exponent` maps (criterion, Q) to the (low, high) range of the fitted exponent α in τ* ∝ λ^{−α}
    (theory.md §4.2), for spectra within λ ∈ [1e−3, 1e2]; `rate` is the human-readable rate.
    """

    kind: str  # "inverse-variance" or "departs"
    rate: str
    exponent: dict = field(default_factory=dict)
    note: str = ""

    def exponent_range(self, criterion: str, Q: float):
        """Predicted (low, high) for α, or None where the theory states no range."""
        best = None
        for (crit, q), rng in self.exponent.items():
            if crit == criterion and abs(q - Q) < 1e-12:
                best = rng
        return best


def _numeric_optimum(symbolic):
    """Let a symbolic `optimum_log_variance(lam, sigma0, sigmaT, **p)` also take numbers and arrays:
    a sympy λ gets the expression; otherwise the expression in (λ, σ_0, σ_T) is lambdified and
    evaluated in float64, broadcast over λ (validated like every public input)."""
    if getattr(symbolic, "numeric_too", False):
        return symbolic

    @functools.wraps(symbolic)
    def optimum(self, lam, sigma0=0.002, sigmaT=80.0, **p):
        if isinstance(lam, sp.Basic):
            return symbolic(self, lam, sigma0, sigmaT, **p)
        lam = V.variances(lam)
        sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
        expr = symbolic(self, S.lam, S.sigma0, S.sigmaT, **self.resolve(p))
        value = sp.lambdify((S.lam, S.sigma0, S.sigmaT), expr, "numpy")(lam, sigma0, sigmaT)
        return np.broadcast_to(np.asarray(value, dtype=float), lam.shape).copy()

    optimum.numeric_too = True
    return optimum


class Architecture:
    """Base class; see the module docstring. Subclasses set the class attributes below."""

    name: str = ""
    title: str = ""
    source: str = ""
    law: Law = Law("inverse-variance", "")
    params: dict = {}
    q_range: tuple = (0.0, 1.0)  # inclusive bounds of the initial gain Q
    q_fixed_points: tuple = ()  # values of Q that are legal but learn nothing
    #: Ranges of λ, σ (and σ_0, σ_T), τ, η where the float64 path is finite and accurate; the
    #: public API refuses anything outside with a SpecbiasError naming the range (theory.domain).
    domain: Domain = Domain()
    #: False where `_weight_mp` chooses its own precision (no digits lost to magnitudes): the
    #: reference then runs at the asked dps and is only confirmed at a second precision.
    reference_guard: bool = True
    sampling = DENOISER
    expected_failures: dict = {}  # check name → reason the check cannot pass for this architecture
    #: False: every element of `lam` is an independent mode. True: the modes interact, and the last
    #: axis of the broadcast `lam` is one whole spectrum (e.g. the N Fourier variances seen by a
    #: local convolution); results are still per mode, with the same shape.
    coupled: bool = False
    #: For a coupled architecture: True when each element of the broadcast τ is the time of its own
    #: mode (tau[..., k] for mode k), as in an eigen-mix whose modes share only the spectrum, so one
    #: call evaluates every mode at its own times (theory.emergence's search: memory linear in
    #: modes × times). False: a τ is one time for the whole spectrum, and modes are read off a grid.
    times_per_mode: bool = False
    #: The basis whose modes `lam` describes: "eigen" (data covariance eigenvectors) or "fourier"
    #: modes of stationary 1-D signals (convolutions); reports pick data and measurement by it.
    basis: str = "eigen"
    #: Spatial dimensions of a Fourier-basis signal: 1 (length-N signals) or 2 (C × H × W images,
    #: `lam` then holds the flattened 2-D spectra); data set-ups and reports build signals by it.
    dims: int = 1
    #: True when the per-mode gain is the whole state of the flow, so training resumed from ψ(τ1) as
    #: the initial gain continues the same trajectory (the semigroup check of verify.consistency).
    gain_is_state: bool = True
    #: None where larger variances must emerge first (the emergence-order property); otherwise the
    #: reason they need not, and that property then checks only that τ* is positive (or NaN) and
    #: equal for equal variances.
    emergence_order_caveat: str | None = None
    #: "module:Class" of the matching torch model (numerics), imported only when asked for.
    model: str = ""

    # ---- symbolic declaration -------------------------------------------------------------
    def theta(self, **p) -> tuple:
        return (S.psi,)

    def gain(self, **p) -> sp.Expr:
        return S.psi

    def loss(self, **p) -> sp.Expr:
        return S.denoiser_loss(self.gain(**p))

    def reduce(self, **p) -> dict:
        return {}

    def companions(self, **p) -> list:
        """Parameters that `reduce` leaves in the gain ODE (theory.checks.Companion: symbol, claimed
        trajectory, initial value, optimum), e.g. the bias coupled to the weight by a data mean; the
        generic checks put them on their trajectories and check their own flow. Usually none."""
        return []

    def initial_gain(self, **p) -> sp.Expr:
        return S.Q

    def fixed_point(self, **p) -> sp.Expr:
        return S.K

    @_numeric_optimum
    def optimum_log_variance(self, lam, sigma0, sigmaT, **p):
        """ln λ̃ at the optimum (τ → ∞) as a sympy expression; default: the sampling family's, e.g.
        σ_T²(λ+σ_0²)/(λ+σ_T²). Subclasses override it symbolically; numbers or arrays for λ are
        evaluated through the same expression (see `_numeric_optimum`)."""
        return self.sampling.optimum_log_variance(lam, sigma0, sigmaT)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "optimum_log_variance" in cls.__dict__:
            cls.optimum_log_variance = _numeric_optimum(cls.__dict__["optimum_log_variance"])

    def solution(self, **p) -> sp.Expr | None:
        """Claimed ψ(σ, τ), or None if the ODE must be solved numerically."""
        return None

    def log_H(self, **p) -> sp.Expr | None:
        """Claimed antiderivative of the sampling integrand in σ (or t), or None for quadrature."""
        return None

    def extra_checks(self, ode: sp.Expr, **p) -> list:
        """Architecture-specific checks beyond the generic ones (list of theory.derive.Check)."""
        return []

    # ---- float64 evaluation ----------------------------------------------------------------
    def _weight(self, lam, sigma, tau, Q, eta, **p) -> np.ndarray:
        """Vectorised float64 ψ; default: lambdify the claimed solution."""
        return self._lambdified("weight", p)(lam, sigma, tau, Q, eta)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p) -> np.ndarray:
        """Vectorised float64 ln λ̃; default: quadrature of the sampling integral over `_weight`.

        Any broadcastable lam, tau, Q: the quadrature nodes go on a new leading axis, so the last axis
        of lam stays last (a coupled architecture sees each whole spectrum), and are summed away."""
        lam_b, tau_b, q_b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (lam, tau, Q)))

        def weight(s):  # s: the quadrature nodes (1-D) → values with the nodes on the last axis
            nodes = s.reshape((-1,) + (1,) * lam_b.ndim)
            w = np.broadcast_to(self._weight(lam_b, nodes, tau_b, q_b, eta, **p), nodes.shape[:1] + lam_b.shape)
            return np.moveaxis(w, 0, -1)

        return self.sampling.quadrature(weight, sigma0, sigmaT)

    # ---- mpmath reference --------------------------------------------------------------------
    def _weight_mp(self, lam, sigma, tau, Q, eta, **p):
        return self._lambdified("weight_mp", p)(lam, sigma, tau, Q, eta)

    def _quadrature_log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p) -> np.ndarray:
        """The default `_log_variance` (quadrature over `_weight`) even where a subclass overrides it: the
        independent reference of theory.numeric_check, which so needs no import of this module."""
        return Architecture._log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p)

    def _log_variance_mp(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        if tau == 0:  # the closed forms hold Ei(0) = −∞ terms that cancel; use the exact limit
            return self.sampling.initial_log_variance(Q, sigma0, sigmaT, log=mp.log)
        expr = self._lambdified("log_variance_mp", p)
        if expr is not None:
            return expr(lam, tau, Q, eta, sigma0, sigmaT)
        return self.sampling.quadrature_mp(
            lambda s: guarded(lambda: self._weight_mp(lam, s, tau, Q, eta, **p)), sigma0, sigmaT)

    def _weight_mp_array(self, lam, sigma, tau, Q, eta, **p) -> np.ndarray:
        """`_weight_mp` over broadcast arrays, element by element (a coupled architecture overrides
        this to see each whole spectrum); returns float64 of the working-precision values."""
        vals = [reference(lambda: float(self._weight_mp(*map(mp.mpf, (l, s, t, q, eta)), **p)),
                          (l, s, t, q, eta) if self.reference_guard else ())
                for l, s, t, q in zip(lam.flat, sigma.flat, tau.flat, Q.flat)]
        return np.array(vals, dtype=np.float64).reshape(lam.shape)

    def _log_variance_mp_array(self, lam, tau, Q, eta, sigma0, sigmaT, **p) -> np.ndarray:
        """`_log_variance_mp` over broadcast arrays, element by element (see `_weight_mp_array`);
        closed forms are confirmed at a second precision, quadratures only get the guard digits."""
        closed = self._lambdified("log_variance_mp", p) is not None
        vals = []
        for l, t, q in zip(lam.flat, tau.flat, Q.flat):
            def value():
                return float(self._log_variance_mp(*map(mp.mpf, (l, t, q, eta, sigma0, sigmaT)), **p))
            inputs = (l, t, q, eta, sigma0, sigmaT) if self.reference_guard else ()
            if closed:
                vals.append(reference(value, inputs))
            else:  # quadrature: the sum needs no guard digits, the closed-form integrand may
                with integrand_guard(inputs):
                    vals.append(value())
        return np.array(vals, dtype=np.float64).reshape(lam.shape)

    def _lambdified(self, which: str, p: dict):
        key = (which, tuple(sorted(p.items())))
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cache[key] = self._build(which, p)
        return cache[key]

    def _build(self, which: str, p: dict):
        args_w = (S.lam, self.sampling.variable, S.tau, S.Q, S.eta)
        if which in ("weight", "weight_mp"):
            sol = self.solution(**p)
            if sol is None:
                raise NotImplementedError(f"{self.name}: no closed-form weight; override _weight")
            return sp.lambdify(args_w, sol, modules="mpmath" if which == "weight_mp" else "scipy")
        lnH = self.log_H(**p)
        if lnH is None:
            return None
        expr = self.sampling.log_variance_expr(lnH)
        return sp.lambdify((S.lam, S.tau, S.Q, S.eta, S.sigma0, S.sigmaT), expr, modules="mpmath")

    # ---- public API --------------------------------------------------------------------------
    def resolve(self, p: dict) -> dict:
        """Fill in defaults for the architecture's extra parameters and reject unknown ones."""
        unknown = set(p) - set(self.params)
        if unknown:
            valid = ", ".join(sorted(self.params)) or "none"
            raise SpecbiasError(f"{self.name} takes no parameter {sorted(unknown)} (valid: {valid})")
        out = dict(self.params)
        out.update(p)
        self.check_params(out)
        return out

    def check_params(self, p: dict) -> None:
        """Validate extra parameters; subclasses with parameters override."""

    def check_Q(self, Q) -> np.ndarray:
        Q = V.as_array("initial gain (Q)", Q)
        lo, hi = self.q_range
        if np.any(Q < lo) or np.any(Q > hi):
            raise SpecbiasError(f"{self.name}: initial gain Q must lie in [{lo:g}, {hi:g}] "
                                f"(got {Q.min():g}..{Q.max():g})")
        return Q

    def check_domain(self, lam=None, sigma=None, tau=None, eta=None, sigma0=None, sigmaT=None):
        """Refuse inputs outside `domain` (a sampling variable other than σ is checked by the family)."""
        if self.sampling.variable is not S.sigma:
            sigma = None
        self.domain.check(self.name, lam=lam, sigma=sigma, tau=tau, eta=eta, sigma0=sigma0,
                          sigmaT=sigmaT)

    def weight(self, lam, sigma, tau, Q=0.1, eta=1.0, dps=None, **params):
        """Per-mode gain ψ_k(σ, τ), broadcast over lam, sigma, tau (float64, or mpmath at `dps`)."""
        p, dps = self.resolve(params), None if dps is None else V.dps(dps)
        lam, sigma, tau = V.variances(lam), self.sampling.check_variable(sigma), V.times(tau)
        Q, eta = self.check_Q(Q), V.rate(eta)
        self.check_domain(lam=lam, sigma=sigma, tau=tau, eta=eta)
        lam, sigma, tau, Q = V.broadcast(lam=lam, sigma=sigma, tau=tau, Q=Q)
        if dps is None:
            return np.asarray(self._weight(lam, sigma, tau, Q, eta, **p), dtype=np.float64)
        with mp.workdps(dps):
            return self._weight_mp_array(lam, sigma, tau, Q, eta, **p)

    def generated_variance(self, lam, tau, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0, dps=None,
                           **params):
        """Generated variance λ̃_k(τ) along each mode, broadcast over lam and tau (theory.md §3)."""
        return np.exp(self.log_generated_variance(lam, tau, Q, eta, sigma0, sigmaT, dps, **params))

    def log_generated_variance(self, lam, tau, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0, dps=None,
                               **params):
        """ln λ̃_k(τ); see `generated_variance`."""
        p, dps = self.resolve(params), None if dps is None else V.dps(dps)
        lam, tau = V.variances(lam), V.times(tau)
        Q, eta = self.check_Q(Q), V.rate(eta)
        sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
        self.check_domain(lam=lam, tau=tau, eta=eta, sigma0=sigma0, sigmaT=sigmaT)
        if dps is None:  # un-broadcast inputs: terms that depend on τ alone are computed once per τ
            shape = V.broadcast(lam=lam, tau=tau, Q=Q)[0].shape
            out = self._log_variance(lam, tau, Q if Q.ndim else float(Q), eta, sigma0, sigmaT, **p)
            return np.broadcast_to(np.asarray(out, dtype=np.float64), shape).copy()
        lam, tau, Q = V.broadcast(lam=lam, tau=tau, Q=Q)
        with mp.workdps(dps):
            return self._log_variance_mp_array(lam, tau, Q, eta, sigma0, sigmaT, **p)

    def initial_variance(self, Q=0.1, sigma0=0.002, sigmaT=80.0):
        """v₀ = λ̃ at τ = 0, exact (the emergence baseline of theory.md §4.1)."""
        Q = self.check_Q(Q)
        sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
        self.check_domain(sigma0=sigma0, sigmaT=sigmaT)
        return np.exp(self.sampling.initial_log_variance(Q, sigma0, sigmaT))

    def note_on_Q(self, Q) -> str | None:
        """A warning for legal but degenerate Q (e.g. a fixed point where nothing is learned)."""
        Q = np.atleast_1d(np.asarray(Q, dtype=float))
        for q in self.q_fixed_points:
            if np.any(Q == q):
                return (f"{self.name}: Q = {q:g} is a fixed point of the gradient flow: "
                        "the weights never move and nothing is learned")
        return None

    def derive(self, **params) -> D.Derivation:
        """Derive the ODE from the loss and run every check (see theory.derive)."""
        from .checks import run_derivation

        return run_derivation(self, self.resolve(params))

    def as_spectrum(self, lam) -> np.ndarray:
        """A valid whole spectrum built from arbitrary positive variances (identity unless coupled)."""
        return np.asarray(lam, dtype=float)

    def model_class(self):
        """The torch class declared in `model` ("module:Class"), imported lazily so theory needs no torch:
        the one place the string is resolved (numerics.models.model_class asks here)."""
        if not self.model:
            raise SpecbiasError(f"{self.name} declares no torch model")
        module, _, cls = self.model.partition(":")
        return getattr(importlib.import_module(module), cls)

    def torch_model(self, **kwargs):
        """The matching torch model declared by `model`, built for this architecture."""
        return self.model_class()(arch=self, **kwargs)
