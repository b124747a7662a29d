"""The float64 path, evaluated once by `derive`: the symbolic checks say nothing about the code that
computes the numbers, so derive also runs `weight` and `log_generated_variance` at a few points and
compares them with independent references.

- ψ: against the mpmath evaluation of the claimed solution (lambdify of the sympy claim), or, when no
  solution is claimed, against scipy's DOP853 integration of the *derived* gain ODE from ψ(0) = Q;
- ln λ̃: against composite Gauss–Legendre quadrature of the sampling integral (Lemma 4.1, or
  ln λ̃ = 2∫w dt for flows) over the float64 gain — the generic fallback, independent of any
  closed-form `_log_variance` the architecture supplies.

A NaN, an exception (e.g. a `_weight` with the wrong signature) or a disagreement fails the check.
The tolerances are mirrored, with their reasons, in verify.tolerances ("derive-numeric-path").
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import derive as D
from . import symbols as S

#: ψ against its reference: mpmath at 30 digits, or DOP853 at rtol 1e−11 over τ ≤ 0.4.
WEIGHT_RTOL = 1e-8
#: ln λ̃ against 48-panel Gauss–Legendre quadrature in ln σ (or t), relative once |ln λ̃| > 1.
LOG_VARIANCE_RTOL = 1e-6

LAM = np.array([0.05, 0.8, 6.0])
TAU = 0.4


def _ode_reference(arch, ode, lam, x, Q) -> np.ndarray | None:
    """ψ(τ) of the derived ODE by solve_ivp, or None when the ODE holds more than ψ, λ, σ (t), η."""
    from scipy.integrate import solve_ivp

    var = arch.sampling.variable
    if arch.coupled or not ode.free_symbols <= {S.psi, S.lam, var, S.eta}:
        return None
    f = sp.lambdify((S.psi, S.lam, var, S.eta), ode, "numpy")
    out = [solve_ivp(lambda _, y, lk=lk: f(y, lk, x, 1.0), (0.0, TAU), [Q], method="DOP853",
                     rtol=1e-11, atol=1e-13).y[0, -1] for lk in lam]
    return np.array(out)


def _rel(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def numeric_path_check(arch, ode, sol, params: dict) -> D.Check:
    """Evaluate the float64 ψ and ln λ̃ once and compare them with independent references."""
    lam = arch.as_spectrum(LAM)
    x = 0.45 if arch.sampling.variable == S.t else 0.7
    lo, hi = arch.q_range
    Q = lo + 0.3 * (hi - lo)
    where = f"λ = {', '.join(f'{v:g}' for v in lam)}, {arch.sampling.variable} = {x}, τ = {TAU}, Q = {Q:g}"
    try:
        w = arch.weight(lam, x, TAU, Q=Q, **params)
        lv = arch.log_generated_variance(lam, TAU, Q=Q, **params)
        if sol is not None:
            w_ref, how = arch.weight(lam, x, TAU, Q=Q, dps=30, **params), "mpmath of the claimed solution"
        else:
            w_ref, how = _ode_reference(arch, ode, lam, x, Q), "solve_ivp of the derived ODE"
        lv_ref = arch._quadrature_log_variance(lam, TAU, Q, 1.0, 0.002, 80.0, **params)
    except Exception as exc:  # the user's code: any failure is a finding, reported in one line
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return D.Check("numeric-path", "failed", f"the float64 path raised {type(exc).__name__}: {msg} "
                       f"(at {where})")
    if np.shape(w) != lam.shape or np.shape(lv) != lam.shape:
        return D.Check("numeric-path", "failed", f"float64 shapes ψ {np.shape(w)}, ln λ̃ {np.shape(lv)} "
                       f"≠ the {lam.shape} modes given (at {where})")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(lv))):
        return D.Check("numeric-path", "failed", f"float64 ψ = {w}, ln λ̃ = {lv}: not finite (at {where})")
    errs = [("ln λ̃ vs Gauss–Legendre quadrature of the float64 gain", _rel(lv, lv_ref), LOG_VARIANCE_RTOL)]
    if w_ref is not None:
        errs.insert(0, (f"ψ vs {how}", _rel(w, w_ref), WEIGHT_RTOL))
    bad = [f"{what}: error {e:.3g} > {t:g}" for what, e, t in errs if not e <= t]
    if bad:
        return D.Check("numeric-path", "failed", "; ".join(bad) + f" (at {where})", max(e for _, e, _ in errs))
    said = "; ".join(f"{what}: {e:.1e} ≤ {t:g}" for what, e, t in errs)
    if w_ref is None:
        said = "ψ finite (the derived ODE holds more than ψ: no ODE reference); " + said
    return D.Check("numeric-path", "numeric", f"float64 path evaluated once at {where}: {said}",
                   max(e for _, e, _ in errs))
