"""numerics.spiked.dynamics.learned_chains (the one reverse-chain implementation) on the exact Wiener filters
of a covariance: the per-mode products of theory.md §5.4 (R1, R2 power iteration, PF-ODE)."""
import numpy as np
import pytest

from numerics.spiked.dynamics import learned_chains
from theory.errors import SpecbiasError
from verify.tolerances import tol

LAM = np.array([4.0, 2.0, 1.0, 0.5, 0.25])
S2 = 1.0
TS = [64, 128, 256, 512]


def wiener(Sigma):
    """s² → Σ(Σ + s²I)⁻¹, the exact Wiener filter (an independent numpy solve)."""
    return lambda s2: np.linalg.solve(Sigma + s2 * np.eye(len(Sigma)), Sigma).T


@pytest.fixture(scope="module")
def chains():
    U = np.linalg.qr(np.random.default_rng(0).standard_normal((LAM.size, LAM.size)))[0]
    Sigma = U @ np.diag(LAM) @ U.T
    return learned_chains(wiener(Sigma), U, S2, TS, seed=1)


def phi(x):
    """φ(x) = ((1 + x)ln(1 + x) − x)/x (theory.md §5.4)."""
    return ((1 + x) * np.log1p(x) - x) / x


def observed_order(errors):
    e = np.asarray(errors)
    return np.log2(e[:-1] / e[1:])  # T doubles each time


def test_r1_telescopes(chains):
    np.testing.assert_allclose(np.exp(chains.log_r1), np.tile(LAM / (LAM + S2), (len(TS), 1)),
                               rtol=tol("aligned-identity").rel)


def test_pf_ode_converges_to_square_root(chains):
    target = np.sqrt(LAM / (LAM + S2))
    errs = [np.abs(np.exp(row) / target - 1).max() for row in chains.log_pf]
    assert errs[-1] < 1e-2
    # first order: the closing Euler step to σ = 0 from s_1 = S/√T
    np.testing.assert_allclose(observed_order(errs), 1.0, atol=tol("convergence-order").abs)
    assert np.all(chains.overlap_pf < 0.9)  # no collapse onto u_0


def test_r2_matches_the_asymptotic_product(chains):
    x = S2 / LAM
    errs = [np.abs(row - (-T * phi(x) - 0.5 * np.log1p(x))).max() for T, row in zip(TS, chains.log_r2)]
    np.testing.assert_allclose(observed_order(errs), 1.0, atol=tol("convergence-order").abs)  # O(1/T)


def test_r2_is_power_iteration(chains):
    kappa = phi(S2 / LAM[1]) - phi(S2 / LAM[0])
    ratios = chains.log_r2_ratio
    assert np.all(ratios[:, 1:] < 0) and np.all(np.diff(ratios[:, 1:], axis=0) < 0)  # G_i/G_0 → 0
    slope = (ratios[-1, 1] - ratios[-2, 1]) / (TS[-1] - TS[-2])  # log(G_1/G_0) = −Tκ + O(1)
    assert slope == pytest.approx(-kappa, rel=1e-3)
    assert chains.overlap_r2[-1] == pytest.approx(1.0, abs=1e-12)


def test_a_wrong_filter_fails_the_checks():
    """The chain of a filter that is not Σ's Wiener filter (s² doubled) misses R1's telescoped product."""
    U = np.eye(LAM.size)
    wrong = learned_chains(lambda s2: wiener(np.diag(LAM))(2 * s2), U, S2, [64], seed=1)
    assert not np.allclose(np.exp(wrong.log_r1[0]), LAM / (LAM + S2), rtol=tol("aligned-identity").rel)


def test_bad_inputs():
    with pytest.raises(SpecbiasError):
        learned_chains(wiener(np.eye(2)), np.eye(2), 1.0, [2.5])
    with pytest.raises(SpecbiasError):
        learned_chains(wiener(np.eye(2)), np.eye(2), -1.0, [4])
