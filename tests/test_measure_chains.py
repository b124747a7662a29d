"""numerics.measure_chains: the per-mode products of theory.md §5.4 (R1, R2 power iteration, PF-ODE)."""
import numpy as np
import pytest

from numerics.measure_chains import reverse_chains
from theory.errors import SpecbiasError
from verify.tolerances import tol

LAM = np.array([4.0, 2.0, 1.0, 0.5, 0.25])
S2 = 1.0
TS = [64, 128, 256, 512]


@pytest.fixture(scope="module")
def chains():
    U = np.linalg.qr(np.random.default_rng(0).standard_normal((LAM.size, LAM.size)))[0]
    Sigma = U @ np.diag(LAM) @ U.T
    return {T: reverse_chains(Sigma, S2, T, seed=1) for T in TS}


def phi(x):
    """φ(x) = ((1 + x)ln(1 + x) − x)/x (theory.md §5.4)."""
    return ((1 + x) * np.log1p(x) - x) / x


def observed_order(errors):
    e = np.asarray(errors)
    return np.log2(e[:-1] / e[1:])  # T doubles each time


def test_r1_telescopes(chains):
    for r in chains.values():
        np.testing.assert_allclose(r.lam, LAM, rtol=1e-12)
        np.testing.assert_allclose(r.r1, LAM / (LAM + S2), rtol=tol("aligned-identity").rel)


def test_pf_ode_converges_to_square_root(chains):
    target = np.sqrt(LAM / (LAM + S2))
    errs = [np.abs(chains[T].pf_ode / target - 1).max() for T in TS]
    assert errs[-1] < 1e-2
    # first order: the closing Euler step to σ = 0 from s_1 = S/√T
    np.testing.assert_allclose(observed_order(errs), 1.0, atol=tol("convergence-order").abs)
    assert all(r.overlap_pf < 0.9 for r in chains.values())  # no collapse onto u_0


def test_r2_matches_the_asymptotic_product(chains):
    x = S2 / LAM
    errs = [np.abs(chains[T].log_r2 - (-T * phi(x) - 0.5 * np.log1p(x))).max() for T in TS]
    np.testing.assert_allclose(observed_order(errs), 1.0, atol=tol("convergence-order").abs)  # O(1/T)


def test_r2_is_power_iteration(chains):
    kappa = phi(S2 / LAM[1]) - phi(S2 / LAM[0])
    ratios = np.array([chains[T].log_r2_ratio for T in TS])
    assert np.all(ratios[:, 1:] < 0) and np.all(np.diff(ratios[:, 1:], axis=0) < 0)  # G_i/G_0 → 0
    slope = (ratios[-1, 1] - ratios[-2, 1]) / (TS[-1] - TS[-2])  # log(G_1/G_0) = −Tκ + O(1)
    assert slope == pytest.approx(-kappa, rel=1e-3)
    overlaps = [chains[T].overlap_r2 for T in TS]
    assert overlaps[-1] == pytest.approx(1.0, abs=1e-12)


def test_bad_inputs():
    with pytest.raises(SpecbiasError):
        reverse_chains(np.ones((2, 3)), 1.0, 4)
    with pytest.raises(SpecbiasError):
        reverse_chains(np.eye(2), -1.0, 4)
    with pytest.raises(SpecbiasError, match="positive definite"):
        reverse_chains(np.diag([1.0, -1.0]), 1.0, 4)
