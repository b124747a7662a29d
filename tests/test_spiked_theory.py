"""theory.spiked.covariance, theory.spiked.chains, theory.spiked.finite_sample: symbolic checks, independent
references, bad input."""
import numpy as np
import pytest

from theory.errors import SpecbiasError
from theory.spiked import chains as CH
from theory.spiked import covariance as SP
from theory.spiked import finite_sample as FS
from verify.tolerances import tol

# (λ, s², γ) away from the threshold window, above and below
POINTS = [(1.0, 0.3, 1.0), (2.0, 0.1, 0.5), (1.0, 0.5, 3.0), (4.0, 1.0, 0.25), (1.0, 2.0, 1.0), (0.5, 3.0, 2.0)]


def test_derivations_pass():
    bad = [f"{c.name}: {c.detail}" for c in SP.derive() + CH.derive() if not c.ok]
    assert not bad, bad


@pytest.mark.parametrize("lam,s2,gamma", POINTS)
def test_closed_forms_equal_stieltjes_quadrature(lam, s2, gamma):
    top, a2 = SP.reference(lam, s2, gamma)
    t = tol("closed-form-vs-quadrature")
    assert SP.top_eigenvalue(lam, s2, gamma) == pytest.approx(top, rel=t.rel)
    assert SP.overlap2(lam, s2, gamma) == pytest.approx(a2, rel=t.rel, abs=1e-12)


def test_wrong_aspect_ratio_is_caught_by_the_reference():
    lam, s2, gamma = 1.0, 0.3, 2.0
    top, a2 = SP.reference(lam, s2, gamma)
    assert abs(SP.overlap2(lam, s2, 1 / gamma) - a2) > 0.1  # γ = n/d in place of d/n
    assert abs(SP.top_eigenvalue(lam, s2, 1 / gamma) / top - 1) > 0.1


def test_mse_of_the_gains():
    lam, s2, gamma = 2.0, 0.4, 0.5
    a2 = SP.overlap2(lam, s2, gamma)
    hs = np.linspace(0, 1, 2001)
    curve = SP.mse(hs, lam, s2, a2)
    assert SP.optimal_mse(lam, s2, gamma) == pytest.approx(curve.min(), rel=1e-6)
    assert SP.optimal_gain(lam, s2, gamma) == pytest.approx(hs[curve.argmin()], abs=1e-3)
    assert SP.plugin_mse(lam, s2, gamma) > SP.optimal_mse(lam, s2, gamma)
    below = SP.predict(1.0, 4.0, 1.0)  # ℓ = 1/4 < √γ
    assert below.overlap2 == 0 and below.mse_optimal == 1.0 and below.mse_plugin > 1.0


def test_threshold_and_window():
    lam, gamma = np.array([4.0, 1.0]), 0.25
    sc = SP.critical_noise(lam, gamma)
    np.testing.assert_allclose(sc, lam * 2.0)  # λ√(n/d)
    assert np.all(SP.overlap2(lam, sc * (1 - 1e-9), gamma) > 0) and np.all(SP.overlap2(lam, sc, gamma) == 0)
    lo, hi = SP.threshold_window(lam, gamma)
    assert np.all(~SP.outside_window(lam, sc, gamma)) and np.all(SP.outside_window(lam, hi, gamma))
    # rank k: curves are translates in log s² by log λ_i
    s2 = np.geomspace(0.01, 100, 9)
    np.testing.assert_allclose(SP.overlap2(4.0, 4 * s2, gamma), SP.overlap2(1.0, s2, gamma), atol=1e-15)


def test_m_draws_aspect_ratio():
    assert SP.aspect_ratio(500, 250) == 2.0
    assert SP.aspect_ratio(500, 250, 4) == 0.5
    assert SP.aspect_ratio(500, 250, np.inf) == 0.0


@pytest.mark.parametrize("call,match", [
    (lambda: SP.aspect_ratio(10, 0), "n \\(samples\\)"),
    (lambda: SP.aspect_ratio(10, 5, 0), "M \\(noise draws\\)"),
    (lambda: SP.overlap2(1.0, 0.1, 0.0), "gamma"),
    (lambda: SP.overlap2(1.0, 0.1, -1.0), "gamma"),
    (lambda: SP.check_spikes([1.0, 2.0, 3.0], d=2), "exceeds the dimension"),
    (lambda: SP.overlap2(-1.0, 0.1, 1.0), "spike strengths"),
    (lambda: SP.overlap2(1.0, -0.1, 1.0), "noise variance"),
    (lambda: CH.log_r2_product([1.0], 1.0, 0), "T must be"),
    (lambda: CH.fixation_noise([1.0], r=1.5), "fraction r"),
])
def test_bad_input_is_one_line(call, match):
    with pytest.raises(SpecbiasError, match=match) as err:
        call()
    assert "\n" not in str(err.value)


def test_r2_exact_product_equals_mpmath_and_the_expansion():
    lam = np.array([4.0, 1.0, 0.25, 1 / 16])
    for T in (64, 256):
        exact = CH.log_r2_product(lam, 1.0, T)
        ref = np.array([CH.log_r2_reference(l, 1.0, T) for l in lam])
        np.testing.assert_allclose(exact, ref, rtol=1e-12)
        x = 1.0 / lam
        coef = T * (exact - CH.log_r2_asymptotic(lam, 1.0, T))  # → x²/(12(1 + x))
        np.testing.assert_allclose(coef, x**2 / (12 * (1 + x)), rtol=tol("r2-asymptotic-1/T").rel)
    # a wrong φ (e.g. missing the ½ log(1 + x) term) is not O(1/T)
    wrong = CH.log_r2_product(lam, 1.0, 256) - (-256 * CH.phi(1 / lam))
    assert np.all(np.abs(wrong) * 256 > 10)


def test_kappa_and_noisy_chain():
    assert CH.kappa(4.0, 1.0, 1e-3) == pytest.approx(CH.kappa_small_noise(4.0, 1.0, 1e-3), rel=1e-3)
    assert CH.kappa(4.0, 1.0, 1.0) > 0
    lam = np.array([1.0, 0.25])
    ratios = [CH.noisy_chain_variance(lam, 400.0, T) / CH.noisy_chain_asymptotic(lam, 400.0, T)
              for T in (10**4, 10**5)]
    err = [np.abs(r - 1).max() for r in ratios]
    assert err[1] < err[0] / 2 and err[1] < 0.05  # σ = S/√T → 0 (correction O(σ/√λ))


def test_fixation_formula():
    mu = np.array([10.0, 1.0, 0.1])
    np.testing.assert_allclose(CH.fixation_noise(mu, r=2**-0.5, s2_min=0.0), mu)
    assert np.all(np.diff(CH.fixation_noise(mu)) < 0)  # high variance fixes first (at larger noise)


def test_expected_endpoint_kl_monte_carlo():
    rng = np.random.default_rng(0)
    d, n, lam = 4, 15, np.array([2.0, 1.0, 0.5, 0.1])
    for centred in (True, False):
        fwd, rev = [], []
        for _ in range(4000):
            m, S = FS.training_moments(rng.standard_normal((n, d)) * np.sqrt(lam), centred)
            fwd.append(FS.gaussian_kl(m, S, np.zeros(d), np.diag(lam)))
            rev.append(FS.gaussian_kl(np.zeros(d), np.diag(lam), m, S))
        th = FS.expected_endpoint_kl(d, n, centred)
        for vals, key in ((fwd, "generated||data"), (rev, "data||generated")):
            z = (np.mean(vals) - th[key]) / (np.std(vals) / np.sqrt(len(vals)))
            assert abs(z) < tol("monte-carlo-variance").abs, (centred, key, z)
    with pytest.raises(SpecbiasError, match="singular"):
        FS.expected_endpoint_kl(10, 5)


def test_finite_sample_kl_tends_to_the_training_gaussian():
    rng = np.random.default_rng(1)
    d, n = 3, 40
    Sigma = np.diag([2.0, 1.0, 0.5])
    X = rng.standard_normal((n, d)) * np.sqrt(np.diag(Sigma))
    out = FS.finite_sample_kl(X, Sigma, [0.0, 1.0, 1e6])
    mu, S = FS.training_moments(X)
    assert out["generated||train"][-1] < 1e-4  # λ̃ → S + O(σ0²)
    ev, V = np.linalg.eigh(S)
    optimum = (V * (80.0**2 * (ev + 0.002**2) / (ev + 80.0**2))) @ V.T  # λ̃(∞), theory.md §3.1
    assert out["generated||data"][-1] == pytest.approx(FS.gaussian_kl(mu, optimum, np.zeros(d), Sigma),
                                                       rel=tol("float64-vs-mpmath").rel)
    assert out["generated||data"][0] > out["generated||data"][-1]
