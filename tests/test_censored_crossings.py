"""Crossings before the first checkpoint are upper bounds, not measurements (issue 20 item 4): they are
flagged (theory.emergence.checkpoint_crossings), left out of the network exponent fits and counted
(verify.nonlinear.emergence); likewise a fixation level clamped at σ_T² or bracketed by levels too far
apart (numerics.spiked_dynamics.fixation). Known answers: the exact crossing of the geometric threshold
by the inverse-law trajectory λ̃ = λ − (λ − v₀)e^{−λτ}, solved by hand; theory.md §5.3's fixation level."""
import numpy as np
import pytest

import theory
from numerics.run import Run
from theory.emergence import checkpoint_crossings, emergence_from_checkpoints
from verify.nets import analysis as NL

V0 = 0.02


def _run(tau1: float, n_modes: int = 12, B: int = 12):
    lam = np.geomspace(5.0, 0.1, n_modes)
    tau = np.r_[0.0, np.geomspace(tau1, 1e3, 60)]
    var = lam - (lam - V0) * np.exp(-np.outer(tau, lam))
    boot = var[:, None, :] * (1 + 0.002 * np.linspace(-1, 1, B))[None, :, None]
    run = Run({"tau": tau, "steps": np.arange(tau.size), "var_eigen": var, "var_boot_eigen": boot,
               "lam_eigen": lam, "lam": lam}, {"net": "mlp", "data": {"name": "synthetic"}})
    exact = -np.log((lam - np.sqrt(V0 * lam)) / (lam - V0)) / lam
    return run, lam, tau, exact


def test_crossings_before_the_first_checkpoint_are_flagged_as_upper_bounds():
    run, lam, tau, exact = _run(tau1=0.3)
    ts, cs = checkpoint_crossings(tau[1:], run.var_eigen[1:].T, V0, lam)
    assert np.array_equal(cs, exact < tau[1]) and 0 < cs.sum() < lam.size
    assert np.all(ts[cs] == tau[1]) and np.all(exact[cs] <= ts[cs])  # the bound holds
    np.testing.assert_allclose(ts[~cs], exact[~cs], rtol=0.02)  # 60 log-spaced checkpoints
    np.testing.assert_array_equal(ts, emergence_from_checkpoints(tau[1:], run.var_eigen[1:].T, V0, lam))


def test_censored_modes_are_left_out_of_the_fit_and_counted():
    run, lam, tau, exact = _run(tau1=0.3)
    em = NL.emergence(run, criteria=("geometric",))["geometric"]
    cs = exact < tau[1]
    fit = em["fits"]["increasing"]
    assert np.array_equal(em["censored"], cs) and fit.censored == cs.sum()
    want = theory.fit_exponent(lam[~cs], exact[~cs], V0)["increasing"]
    assert fit.n == want.n == (~cs).sum()
    assert fit.alpha == pytest.approx(want.alpha, abs=0.02)
    assert em["censored_boot"].shape == em["tau_star_boot"].shape and em["censored_boot"].any()


def test_a_run_whose_modes_all_cross_before_the_first_checkpoint_has_no_exponent():
    """Every τ* is the first checkpoint: fitted as exact, α was −0.000 with a tight CI."""
    run, lam, tau, exact = _run(tau1=50.0)
    assert (exact < 50.0).all()
    fit = NL.emergence(run, criteria=("geometric",))["geometric"]["fits"]["increasing"]
    assert fit.n == 0 and np.isnan(fit.alpha) and fit.censored == lam.size


def test_fixation_says_when_it_is_a_clamp_or_unresolved():
    """`spiked fixation --measure` printed 6400 (σ_T², the top level) as the measured level of λ = 2e4
    (theory ≈ 2e4: theory.md §5.3, s² = (μ + s_min²)/r² − μ ≈ μ) and, at 1 Heun step, 0.002 for λ = 1
    (theory ≈ 1). The measurement now flags the first as a clamp (bracket (σ_T², ∞)) and the second as
    unresolved (its levels are σ_T² and σ_0²), while 256 steps resolve λ = 1 within the fixation
    tolerance."""
    from numerics.spiked import dynamics as SD
    from theory.spiked import chains as CH
    from verify.tolerances import tol

    lam = np.array([2e4, 1.0])
    f = SD.fixation(SD.wiener_denoiser(np.diag(lam)), np.eye(2), n_samples=32)
    assert f.clamped.tolist() == [True, False] and f.resolved().tolist() == [False, True]
    assert f.s2_fix[0] == pytest.approx(80.0**2) and f.bracket[:, 0].tolist() == [pytest.approx(6400.0), np.inf]
    assert f.s2_fix[1] == pytest.approx(CH.fixation_noise(1.0), rel=tol("fixation-heun").rel)
    lo, hi = f.bracket[:, 1]
    assert lo <= f.s2_fix[1] <= hi and hi / lo < 1.2
    one = SD.fixation(SD.wiener_denoiser(np.diag(lam[1:])), np.eye(1), steps=1, n_samples=32)
    assert not one.resolved()[0] and not one.clamped[0]
    assert one.bracket[:, 0] == pytest.approx([0.002**2, 80.0**2])
