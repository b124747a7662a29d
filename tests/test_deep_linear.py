"""deep_linear: the numerical solution of the balanced depth-L flow (theory.md §2.4) against an
independent solve_ivp of the original ODE in ψ, the L = 2 logistic, and parameter validation."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import theory
from verify.tolerances import tol

ARCH = theory.get("deep_linear")
TAUS = np.concatenate([[0.0], np.geomspace(1e-4, 1e3, 15)])
# (λ, σ, Q, η): Q < K rises (increasing branch), Q > K falls (decreasing branch, e.g. large σ)
CASES = [(1.0, 0.5, 0.1, 1.0), (1e-2, 0.05, 0.01, 3.0), (10.0, 1e-3, 0.5, 0.1),  # increasing
         (1e-3, 1.0, 0.1, 1.0), (0.5, 20.0, 0.9, 1.0), (100.0, 50.0, 0.3, 0.5)]   # decreasing


def ivp_weight(L, lam, sigma, Q, eta):
    """ψ(τ) from DOP853 on dψ/dτ = −2ηLψ^{2−2/L}((σ² + λ)ψ − λ), tight tolerances."""
    rhs = lambda t, y: -2 * eta * L * np.abs(y) ** (2 - 2 / L) * ((sigma**2 + lam) * y - lam)  # noqa: E731
    sol = solve_ivp(rhs, (0.0, TAUS[-1]), [Q], method="DOP853", t_eval=TAUS, rtol=1e-13, atol=1e-300)
    assert sol.success
    return sol.y[0]


@pytest.mark.parametrize("L", [3, 4])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"lam{c[0]}-sigma{c[1]}-Q{c[2]}")
def test_weight_matches_solve_ivp(L, case):
    lam, sigma, Q, eta = case
    K = lam / (lam + sigma**2)
    assert (Q < K) == (case in CASES[:3])  # the cases cover both branches as labelled
    got = ARCH.weight(lam, sigma, TAUS, Q=Q, eta=eta, L=L)
    t = tol("ode-solver")
    np.testing.assert_allclose(got, ivp_weight(L, lam, sigma, Q, eta), rtol=t.rel, atol=t.abs)
    assert got[0] == Q  # τ = 0 is exact


def test_depth_two_is_the_untied_two_layer_exactly():
    lam, sigma = np.geomspace(1e-4, 1e3, 9)[:, None], np.geomspace(1e-3, 1e2, 7)[None, :]
    two = theory.get("two_layer")
    for Q in (0.0, 0.1, 1.0):
        np.testing.assert_array_equal(ARCH.weight(lam, sigma, 0.7, Q=Q, L=2), two.weight(lam, sigma, 0.7, Q=Q))
        np.testing.assert_array_equal(ARCH.generated_variance(lam, TAUS, Q=Q, L=2),
                                      two.generated_variance(lam, TAUS, Q=Q))


@pytest.mark.parametrize("L", [3, 5])
def test_fast_generated_variance_matches_dense_quadrature(L):
    lam, tau = np.geomspace(1e-4, 1e3, 8)[:, None], TAUS[None, :]
    for Q in (0.05, 0.6):
        fast = ARCH.log_generated_variance(lam, tau, Q=Q, L=L)
        dense = ARCH.log_generated_variance(lam, tau, Q=Q, L=L, dps=20)  # 48 × 20 nodes, polished ψ
        np.testing.assert_allclose(fast, dense, rtol=0, atol=1e-11)


def test_fixed_point_and_optimum():
    assert np.all(ARCH.weight([0.1, 10.0], 1.0, [0.0, 5.0], Q=0.0) == 0.0)
    lam, sigma = 0.3, 0.7
    K = lam / (lam + sigma**2)
    assert ARCH.weight(lam, sigma, 3.0, Q=K) == pytest.approx(K, rel=1e-15)
    assert ARCH.note_on_Q(0.0) is not None


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, "3", True, None])
def test_depth_must_be_an_integer_at_least_two(bad):
    with pytest.raises(theory.SpecbiasError, match="integer >= 2"):
        ARCH.weight(1.0, 1.0, 1.0, L=bad)
