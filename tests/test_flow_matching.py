"""`flow_matching` (THEORY §2.7) and the flow sampling family it needs."""
import numpy as np
import pytest
from scipy import integrate

import theory
from theory import symbols as S
from theory.sampling import FLOW
from verify.tolerances import tol

ARCH = theory.get("flow_matching")
EXACT, QUAD = tol("exact-identity"), tol("closed-form-vs-quadrature")
LAM = np.array([1e-4, 1e-2, 0.5, 1.0, 7.0, 1e3])


def test_limits_are_exact():
    """λ̃(0) = e^{2Q} and λ̃(∞) = λ, exactly (THEORY §2.7)."""
    np.testing.assert_allclose(ARCH.generated_variance(LAM, 0.0, Q=0.3), np.exp(0.6), rtol=EXACT.rel)
    np.testing.assert_allclose(ARCH.generated_variance(LAM, 1e12, Q=0.3), LAM, rtol=EXACT.rel)
    np.testing.assert_allclose(ARCH.initial_variance(0.3), np.exp(0.6), rtol=EXACT.rel)


def test_small_A_is_continuous():
    """A = 2ητ → 0: the Ei difference and the erf term are evaluated without cancellation."""
    tau = np.array([0.0, 1e-300, 1e-12, 1e-7])
    lv = ARCH.log_generated_variance(LAM[:, None], tau, Q=0.4)
    np.testing.assert_allclose(lv[:, :2], 0.8, rtol=EXACT.rel)
    ref = ARCH.log_generated_variance(LAM[:, None], tau[2:], Q=0.4, dps=40)
    np.testing.assert_allclose(lv[:, 2:], ref, rtol=tol("float64-vs-mpmath").rel)


@pytest.mark.parametrize("tau", [1e-3, 0.3, 20.0])
def test_closed_form_equals_direct_integration_of_the_sampler(tau):
    """Integrate dx/dt = w(t) x for the variance, d v/dt = 2 w v, from v(0) = 1 (no closed form used)."""
    def rhs(t, v):
        return 2.0 * ARCH.weight(LAM, t, tau, Q=0.2) * v
    sol = integrate.solve_ivp(rhs, (0.0, 1.0), np.ones(LAM.size), method="DOP853", rtol=1e-11,
                              atol=1e-14)
    got = ARCH.generated_variance(LAM, tau, Q=0.2)
    np.testing.assert_allclose(got, sol.y[:, -1], rtol=tol("ode-solver").rel)


def test_flow_sampling_interface():
    assert FLOW.variable is S.t
    w = lambda t: ARCH._weight(LAM[:, None], t[None, :], 0.5, 0.2, 1.0)  # noqa: E731
    np.testing.assert_allclose(FLOW.quadrature(w), ARCH.log_generated_variance(LAM, 0.5, Q=0.2),
                               rtol=QUAD.rel)
    ref = [FLOW.quad_reference(ARCH, LAM, k, 0.5, 0.2) for k in range(LAM.size)]
    np.testing.assert_allclose(ref, ARCH.log_generated_variance(LAM, 0.5, Q=0.2), rtol=QUAD.rel)
    assert FLOW.initial_log_variance(0.25) == 0.5
    with pytest.raises(theory.SpecbiasError, match=r"flow time t must lie in \[0, 1\]"):
        ARCH.weight(1.0, 1.5, 1.0)


def test_weight_endpoints():
    """w*(0) = −1 (pure noise: v = −x) and w*(1) = 1 at any λ; w(t, 0) = Q."""
    w = ARCH.weight(LAM[:, None], np.array([0.0, 1.0]), 1e9, Q=0.1)
    np.testing.assert_allclose(w, [[-1.0, 1.0]] * LAM.size, atol=EXACT.abs)
    np.testing.assert_allclose(ARCH.weight(LAM, 0.3, 0.0, Q=0.1), 0.1)


@pytest.mark.parametrize("criterion,theory_range", [("harmonic", (0.9, 0.96)), ("geometric", (0.3, 0.5))])
def test_exponents_match_theory(criterion, theory_range):
    """THEORY §4.2: α ≈ 0.9–0.96 (harmonic) but 0.3–0.5 (geometric), Q = 0.1, increasing modes."""
    lam = np.geomspace(1e-3, 1e2, 41)
    ts = theory.emergence_time(ARCH, lam, criterion=criterion, Q=0.1)
    fit = theory.fit_exponent(lam, ts, ARCH.initial_variance(0.1))["increasing"]
    lo, hi = ARCH.law.exponent_range(criterion, 0.1)
    assert lo <= fit.alpha <= hi
    assert theory_range[0] - 0.05 <= fit.alpha <= theory_range[1] + 0.05  # measured 0.965, 0.515


def test_derivation_checks_the_printed_formula():
    d = ARCH.derive()
    status = {c.name: c.status for c in d.checks}
    assert d.ok and status["theory-formula"] == "symbolic" and status["sampling-tau0"] == "symbolic"
