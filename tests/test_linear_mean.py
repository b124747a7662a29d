"""`linear_mean` (theory.md §2.2): the data mean couples weight and bias; generated variance and mean."""
import numpy as np
import pytest
from scipy import integrate

import theory
from theory.archs.linear_mean import generated_moments
from verify.tolerances import tol

ARCH = theory.get("linear_mean")
EXACT, ODE = tol("exact-identity"), tol("ode-solver")
LINEAR = theory.get("linear")
LAM = np.array([1e-3, 0.1, 1.0, 30.0])


def test_overshoot_example():
    """theory.md §2.2: Q = 0, b = 0, η = 1, λ = 0.1, σ = 0.5, m = 2 → peak 0.747 near τ ≈ 0.47, target 0.286."""
    tau = np.linspace(0.0, 2.0, 20001)
    w = ARCH.weight(0.1, 0.5, tau, Q=0.0, m=2.0)
    assert w[np.argmax(w)] == pytest.approx(0.747, abs=5e-4)
    assert tau[np.argmax(w)] == pytest.approx(0.47, abs=0.01)
    assert ARCH.weight(0.1, 0.5, 1e4, Q=0.0, m=2.0) == pytest.approx(0.1 / 0.35, rel=1e-12)


def test_stable_float_form_equals_the_verified_symbolic_solution():
    """The float path (φ-form, r₋ = s/r₊) against the sympy projector form that `derive` checks."""
    import sympy as sp

    from theory import symbols as S
    from theory.archs.linear_mean import m_sym, symbolic_trajectory, trajectory

    rng = np.random.default_rng(3)
    pts = [10 ** rng.uniform(-2, 1, 6) for _ in range(40)] + [np.array([0.1, 0.5, 0.47, 0.0, 1.0, 2.0])]
    args = (S.lam, S.sigma, S.tau, S.Q, S.eta, m_sym)
    for sym, num in zip(symbolic_trajectory(m_sym), trajectory(*np.array(pts).T)):
        ref = sp.lambdify(args, sym, "numpy")(*np.array(pts).T)
        np.testing.assert_allclose(num, ref, rtol=EXACT.rel, atol=EXACT.abs)


def test_weight_and_bias_follow_the_gradient_flow():
    """solve_ivp on dθ/dτ = −η∇L, L = (w−1)²(λ+m²) + 2(w−1)mb + b² + w²σ², against the closed form."""
    lam, sigma, m, Q, eta = 0.3, 0.7, 1.3, 0.2, 0.8

    def rhs(_, th):
        w, b = th
        return [-eta * (2 * (w - 1) * (lam + m**2) + 2 * m * b + 2 * w * sigma**2),
                -eta * (2 * (w - 1) * m + 2 * b)]
    tau = np.array([0.05, 0.5, 3.0])
    sol = integrate.solve_ivp(rhs, (0, tau[-1]), [Q, 0.0], t_eval=tau, method="DOP853", rtol=1e-12,
                              atol=1e-14)
    np.testing.assert_allclose(ARCH.weight(lam, sigma, tau, Q=Q, eta=eta, m=m), sol.y[0], rtol=ODE.rel)
    np.testing.assert_allclose(ARCH._bias(lam, sigma, tau, Q, eta, m=m), sol.y[1], rtol=ODE.rel)


@pytest.mark.parametrize("dps", [None, 25])
def test_zero_mean_is_linear(dps):
    tau = np.array([[0.0], [0.01], [3.0]])
    got = ARCH.log_generated_variance(LAM, tau, Q=0.3, m=0.0, dps=dps)
    np.testing.assert_allclose(got, LINEAR.log_generated_variance(LAM, tau, Q=0.3), rtol=EXACT.rel)
    np.testing.assert_allclose(ARCH.weight(LAM, 1.0, tau, Q=0.3, m=0.0, dps=dps),  # s = 1: δ = 0
                               LINEAR.weight(LAM, 1.0, tau, Q=0.3), rtol=EXACT.rel)


def test_the_mean_changes_the_variance_through_the_weight():
    """The bias never enters the variance, but the mean does, through the coupled weight."""
    lt, ref = ARCH.generated_variance(LAM, 0.3, m=1.0), LINEAR.generated_variance(LAM, 0.3)
    assert np.all(lt > ref)
    np.testing.assert_allclose(ARCH.generated_variance(LAM, 1e12, m=1.0),
                               LINEAR.generated_variance(LAM, 1e12),
                               rtol=EXACT.rel)


def mean_by_ode(lam, tau, Q, m):
    """μ̃ from dμ/ds = (1 − w)μ − β in s = ln σ, σ_T → σ_0, μ(σ_T) = 0 (independent of the quadrature)."""
    def rhs(s, y):
        sigma = np.exp(s)
        w = ARCH.weight(lam, sigma, tau, Q=Q, m=m)
        return [(1 - w) * y[0] - ARCH._bias(lam, sigma, tau, Q, 1.0, m=m)]
    sol = integrate.solve_ivp(rhs, (np.log(80.0), np.log(0.002)), [0.0], method="DOP853", rtol=1e-12,
                              atol=1e-14)
    return sol.y[0, -1]


@pytest.mark.parametrize("tau", [0.0, 0.02, 1.0, 100.0])
def test_generated_mean_equals_the_sampling_ode(tau):
    got = ARCH.generated_mean(LAM, tau, Q=0.2, m=1.5)
    np.testing.assert_allclose(got, [mean_by_ode(l, tau, 0.2, 1.5) for l in LAM], rtol=ODE.rel, atol=ODE.abs)


def test_generated_mean_at_the_optimum():
    """At the optimum b* = (1 − K)m: μ̃ = m(1 − √((λ + σ_0²)/(λ + σ_T²))) (§3.1 with H = √(λ + σ²))."""
    got = ARCH.generated_mean(LAM, 1e12, m=1.5)
    np.testing.assert_allclose(got, 1.5 * (1 - np.sqrt((LAM + 0.002**2) / (LAM + 80.0**2))), rtol=EXACT.rel)


def random_data(d=4, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return U, (U * LAM) @ U.T


def test_moments_with_zero_mean_match_the_closed_form():
    U, Sigma = random_data()
    tau = np.array([0.0, 0.1, 10.0])
    cov, mean = generated_moments(Sigma, np.zeros(4), tau, Q=0.2)
    expected = np.einsum("ij,tj,kj->tik", U, LINEAR.generated_variance(LAM[None, :], tau[:, None], Q=0.2), U)
    np.testing.assert_allclose(cov, expected, rtol=ODE.rel, atol=ODE.rel * np.abs(expected).max())
    np.testing.assert_allclose(mean, 0.0, atol=EXACT.abs)


def test_moments_with_a_mean_along_one_mode_match_the_per_mode_api():
    U, Sigma = random_data(seed=1)
    tau = np.array([0.0, 1.0, 100.0])
    cov, mean = generated_moments(Sigma, 1.5 * U[:, 2], tau, Q=0.2)
    per_mode = LINEAR.generated_variance(LAM[None, :], tau[:, None], Q=0.2)
    per_mode[:, 2] = ARCH.generated_variance(LAM[2], tau, Q=0.2, m=1.5)
    np.testing.assert_allclose(np.einsum("ij,tik,kj->tj", U, cov, U), per_mode, rtol=ODE.rel)
    np.testing.assert_allclose(mean @ U[:, 2], ARCH.generated_mean(LAM[2], tau, Q=0.2, m=1.5), rtol=ODE.rel,
                               atol=ODE.abs)


def test_general_mean_couples_modes():
    """With μ on several modes the weights stop commuting: the generated covariance is no longer
    diagonal in U, and at convergence it tends to the optimum's N(μ-ish, Σ)."""
    U, Sigma = random_data(seed=2)
    mu = U @ np.array([1.0, -0.5, 0.8, 0.3])
    cov, mean = generated_moments(Sigma, mu, [1.0, 1e8], Q=0.1)
    off = U.T @ cov[0] @ U
    assert np.abs(off - np.diag(np.diag(off))).max() > 1e-4
    opt = 80.0**2 * (LAM + 0.002**2) / (LAM + 80.0**2)
    np.testing.assert_allclose(U.T @ cov[1] @ U, np.diag(opt), rtol=ODE.rel, atol=ODE.abs)


def test_bad_input():
    with pytest.raises(theory.SpecbiasError, match="mean m must be a finite number"):
        ARCH.weight(1.0, 1.0, 1.0, m="x")
    with pytest.raises(theory.SpecbiasError, match="mu must have 4 entries"):
        generated_moments(random_data()[1], [1.0, 2.0], 1.0)


def test_derivation_uses_the_bias_companion():
    d = ARCH.derive()
    status = {c.name: c.status for c in d.checks}
    assert d.ok and status["b-ode"] == "symbolic" and status["solution-ode"] == "symbolic"
    assert status["sampling-integral"] == "expected-failure"
    assert "b" in str(d.ode)
