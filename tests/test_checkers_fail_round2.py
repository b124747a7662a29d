"""Checkers that must be able to fail, round two (issue 20, item 6): each test below kills one single-
point mutation that survived the default suite. Known answers come from docs/theory.md or from independent
computations (an explicit resample, scipy's brentq, mpmath, the analytic standard error of a sample
variance), never from the code under test. The mutation each test kills is named in its docstring.
"""
import numpy as np
import pytest
import torch
from scipy import optimize

import theory
from numerics.nets.crn import CheckpointSampler


# ---- numerics/crn.py: the bootstrap behind every Monte-Carlo CI of the nonlinear study -------------------
def _sampler(d, n, B, seed=3):
    return CheckpointSampler(d, {"eigen": (np.ones(d), np.eye(d), None)}, n, 2, seed=seed, bootstrap=B)


def test_each_bootstrap_replicate_is_the_sample_variance_of_its_resample():
    """Replicate b = the unbiased variance (ddof = 1, mean re-estimated) of the samples resampled with
    multiplicities n·w_b, built explicitly with np.repeat. Kills: replicates centred at the full-sample
    mean; the n/(n − 1) factor dropped."""
    n, d, B = 30, 3, 25
    smp = _sampler(d, n, B)
    x = np.random.default_rng(0).standard_normal((n, d)) * [1.0, 3.0, 0.2] + 5.0
    boot = smp.reduce(torch.as_tensor(x))["var_boot_eigen"]
    counts = np.rint(smp.weights.numpy() * n).astype(int)
    assert np.array_equal(counts.sum(1), np.full(B, n))
    for b in range(B):
        want = np.var(np.repeat(x, counts[b], axis=0), axis=0, ddof=1)
        np.testing.assert_allclose(boot[b], want, rtol=2e-6)  # replicates are stored as float32


def test_bootstrap_resamples_every_sample_with_equal_probability():
    """Multiplicities are Multinomial(n, 1/n): every sample is drawn, the mean count is 1 and the second
    half of the samples carries half the weight (within 5 binomial standard errors). Kills: resampling
    only the first half; uniform weights (every count 1, zero variance)."""
    n, B = 200, 400
    counts = np.rint(_sampler(2, n, B).weights.numpy() * n)
    second = counts[:, n // 2:].sum() / (n * B)
    assert abs(second - 0.5) < 5 * np.sqrt(0.25 / (n * B))
    assert abs(counts.var() - (1 - 1 / n)) < 0.05  # multinomial: Var(count) = n·(1/n)(1 − 1/n)


def test_bootstrap_width_and_coverage_on_a_known_gaussian():
    """8000 independent N(0, 1) sample sets of n = 400 (16 batches × 500 modes, the CRN weights shared):
    - replicates vary, and the mean bootstrap variance of s² matches the analytic Var(s²) = 2σ⁴/(n − 1)
      times the plug-in bootstrap's 1 − 3/n (to O(n⁻²)), within 4 Monte-Carlo standard errors;
    - the 95% percentile interval covers σ² = 1 at a rate nearer 95% than 90%: above 0.925 (a 90%
      interval covers ≈ 0.89 here; the percentile interval of a variance under-covers by O(n^-1/2))
      and at most 0.95 + 4 binomial standard errors.
    Kills: uniform weights (zero width), resampling the first half only (twice the variance), a 90%
    interval."""
    d, batches, n, B = 500, 16, 400, 400
    smp = _sampler(d, n, B)
    rng = np.random.default_rng(11)
    outs = [smp.reduce(torch.as_tensor(rng.standard_normal((n, d)))) for _ in range(batches)]
    boot = np.concatenate([o["var_boot_eigen"] for o in outs], 1).astype(float)  # (B, 8000)
    R = boot.shape[1]
    bv = boot.var(0, ddof=1)
    assert (bv > 0).all()
    ratio = bv / (2 / (n - 1))
    assert abs(ratio.mean() - (1 - 3 / n)) < 4 * ratio.std() / np.sqrt(R), ratio.mean()
    lo, hi = np.quantile(boot, [0.025, 0.975], axis=0)  # the level verify.nonlinear uses (CONFIDENCE)
    cover = np.mean((lo <= 1.0) & (1.0 <= hi))
    assert 0.925 < cover <= 0.95 + 4 * np.sqrt(0.95 * 0.05 / R), cover


# ---- verify/nonlinear.py: the Monte-Carlo CI and the combined CI ---------------------------------------------
def test_monte_carlo_ci_is_95_percent_and_combines_in_quadrature():
    """Replicates 0, 0.001, …, 1 have the 2.5% and 97.5% quantiles 0.025 and 0.975 exactly; with a
    regression half-width 0.3 and a Monte-Carlo half-width 0.475 the combined half-width is
    √(0.3² + 0.475²) (not the larger one). Kills: a 90% interval labelled 95%; max instead of the
    root-sum-square."""
    from theory.fit import Fit
    from verify.nets import analysis as NL

    assert NL.CONFIDENCE == 0.95
    point = Fit(1.0, (0.7, 1.3), 0.99, 12, 2.0)
    got = NL._combine(point, np.linspace(0.0, 1.0, 1001))
    assert got.ci_mc == pytest.approx((0.025, 0.975), abs=1e-12)
    half = np.hypot(0.3, 0.475)
    assert got.ci == pytest.approx((1.0 - half, 1.0 + half), abs=1e-12)
    assert got.ci_fit == (0.7, 1.3) and got.mc_replicates == 1001


# ---- theory/basis.py and theory/along.py -------------------------------------------------------------------
def test_eigen_weights_are_squared_overlaps():
    """A unit vector at angle θ to the data eigenvectors e₁, e₂ has weights (cos²θ, sin²θ), and Σ_k w_k λ_k
    equals uᵀ diag(λ) u computed directly. Kills: |u·u_k| instead of (u·u_k)²."""
    from theory import basis

    th = 0.4
    U = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    w = basis.eigen_weights(U, np.eye(2))
    np.testing.assert_allclose(w[:, 0], [np.cos(th) ** 2, np.sin(th) ** 2], rtol=1e-14)
    lam = np.array([3.0, 0.5])
    np.testing.assert_allclose(basis.along(lam, w), np.einsum("dm,d,dm->m", U, lam, U), rtol=1e-14)


@pytest.mark.parametrize("Q", [0.1, 0.9])  # v₀ ≈ 3e−5 (every direction increasing) and ≈ 770 (decreasing)
def test_emergence_along_crosses_in_both_directions(Q):
    """τ* along a 45° mix of two eigenmodes equals the root, found by brentq in ln τ, of
    ln Σ_k w_k λ̃_k(τ) = ln √(v₀·target), target the data variance along u; for Q = 0.9 the variance
    falls (v₀ > target). Kills: the direction sign always +1 (a decreasing mode 'crosses' at once)."""
    from theory.along import emergence_along

    arch, lam = theory.get("linear"), np.array([10.0, 1.0])
    w = np.array([[0.5, 1.0], [0.5, 0.0]])  # columns: u = (e₁ + e₂)/√2, u = e₁
    target = w.T @ lam
    got = emergence_along(arch, lam, w, target, Q=Q)
    v0 = float(arch.initial_variance(Q))
    assert (v0 > target).all() if Q == 0.9 else (v0 < target).all()
    for m in range(2):
        def f(log_tau):
            return np.log(w[:, m] @ arch.generated_variance(lam, np.exp(log_tau), Q=Q)) - 0.5 * np.log(v0 * target[m])
        want = np.exp(optimize.brentq(f, np.log(1e-8), np.log(1e6), xtol=1e-13))
        assert got[m] == pytest.approx(want, rel=1e-8)


# ---- theory/chains.py ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mu,r,s_min", [(2.0, 2**-0.5, 0.002), (0.01, 0.3, 0.05), (50.0, 0.9, 1.0)])
def test_fixation_level_solves_its_defining_equation(mu, r, s_min):
    """x̂₀(s) = μ/(μ + s²)·√(μ + s²) (theory.md §5.3) reaches r·x̂₀(s_min) at the s² brentq finds, and the
    same s² solves the symbolic check's equation. Kills: a changed fixation formula (the numeric function
    was not tied to its symbolic check)."""
    import sympy as sp

    from theory.spiked import chains

    def x0(s2):
        return mu / (mu + s2) * np.sqrt(mu + s2)

    want = optimize.brentq(lambda s2: x0(s2) / x0(s_min**2) - r, s_min**2, 1e8, xtol=1e-14, rtol=1e-14)
    got = chains.fixation_noise(mu, r, s_min**2)
    assert got == pytest.approx(want, rel=1e-10)
    m, s, sm, rr = sp.symbols("mu s s_min r", positive=True)
    expr = m / (m + s**2) * sp.sqrt(m + s**2)
    lhs = (expr / expr.subs(s, sm)).subs({m: mu, sm: s_min, rr: r, s: sp.sqrt(sp.Float(float(got), 30))})
    assert float(lhs) == pytest.approx(r, rel=1e-10)


def test_order_two_euler_maclaurin_term_is_third_order():
    """log G against mpmath's loggamma (an independent exact formula): the order-1 expansion is off by
    about x²/(12T(1 + x)), the order-2 one by O(T⁻³), so doubling T cuts its error ≈ 8× and it is far
    below order 1's. Kills: a wrong order-2 term (the term was unused and untested)."""
    from theory.spiked import chains

    lam, S2 = 1.0, 2.0
    x = S2 / lam
    err1, err2 = [], []
    for T in (40, 80, 160):
        ref = chains.log_r2_reference(lam, S2, T, dps=50)
        err1.append(abs(float(chains.log_r2_asymptotic(lam, S2, T, order=1)) - ref))
        err2.append(abs(float(chains.log_r2_asymptotic(lam, S2, T, order=2)) - ref))
        assert err1[-1] == pytest.approx(x**2 / (12 * T * (1 + x)), rel=0.05)
        assert err2[-1] < 1e-3 * err1[-1]
    assert 6.0 < err2[0] / err2[1] < 10.0 and 6.0 < err2[1] / err2[2] < 10.0


# ---- theory/spiked.py ----------------------------------------------------------------------------------
def test_threshold_window_is_half_of_sqrt_gamma_in_ell():
    """theory.md §5.2: no finite-size claim where |ℓ − √γ| < √γ/2. For λ = 1, γ = 4 (√γ = 2): ℓ ∈ (1, 3),
    i.e. s² = λ/ℓ ∈ (1/3, 1); the edges themselves are outside. Kills: a changed window width."""
    from theory.spiked import covariance as spiked

    lo, hi = spiked.threshold_window(1.0, 4.0)
    assert lo == pytest.approx(1 / 3, rel=1e-15) and hi == pytest.approx(1.0, rel=1e-15)
    s2 = np.array([0.3, 1 / 3, 0.34, 0.99, 1.0, 1.01])
    assert spiked.outside_window(1.0, s2, 4.0).tolist() == [True, True, False, False, True, True]


# ---- pinned boundaries: the gray zone (strict) and the band (closed) -------------------------------------------
def test_gray_zone_is_the_open_interval_half_to_two():
    """theory.md §4.1: modes with v₀/λ ∈ (0.5, 2) are excluded, the ends included in the fits. Kills: an
    inclusive gray zone; a gray zone narrowed to (0.5, 1.5)."""
    from theory.fit import GRAY_ZONE, fit_exponent, in_gray_zone

    assert GRAY_ZONE == (0.5, 2.0)
    lam = np.ones(6)
    v0 = np.array([0.5, np.nextafter(0.5, 1), 1.75, np.nextafter(2.0, 0), 2.0, 0.25])
    assert in_gray_zone(v0, lam).tolist() == [False, True, True, True, False, False]
    lam = np.array([1.0, 2.0, 4.0, 8.0])  # v₀/λ = 0.5 exactly on every mode: all four are fitted
    fit = fit_exponent(lam, 3.0 / lam, v0=0.5 * lam)
    assert fit["increasing"].n == 4 and fit["increasing"].alpha == pytest.approx(1.0, abs=1e-12)
    assert fit_exponent(lam, 3.0 / lam, v0=2.0 * lam)["decreasing"].n == 4


def test_band_is_closed_at_its_edges():
    """A mode with v₀ exactly on the band's near edge λ(1 ∓ 0.2) starts inside it (the crossing level is
    reached at τ = 0), one ulp outside it does not. Kills: < instead of ≤ in starts_inside."""
    from theory.emergence import BAND, starts_inside, threshold

    lam = np.array([1.0, 3.0, 7.0])
    for v0 in (threshold(0.0 * lam + 1e-9, lam, "band"), threshold(10 * lam, lam, "band")):
        assert starts_inside(v0, lam, "band").all()
        outward = np.nextafter(v0, np.where(v0 < lam, 0.0, np.inf))
        assert not starts_inside(outward, lam, "band").any()
    assert BAND == 0.2
    assert not starts_inside(0.5 * lam, lam, "geometric").any()


def test_without_bootstrap_replicates_the_ci_is_the_regression_ci():
    """`--bootstrap 0`: no Monte-Carlo part, so the headline CI is the regression CI (it was NaN) and
    mc_replicates = 0 says so; 9 finite replicates are likewise too few for a percentile interval."""
    from theory.fit import Fit
    from verify.nets import analysis as NL

    point = Fit(1.0, (0.7, 1.3), 0.99, 12, 2.0)
    for boot in (np.array([]), np.r_[np.linspace(0, 1, 9), np.nan]):
        got = NL._combine(point, boot)
        assert got.ci == pytest.approx((0.7, 1.3)) and np.isnan(got.ci_mc).all()
        assert got.mc_replicates == np.isfinite(boot).sum()
