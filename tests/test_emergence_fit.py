"""Emergence on checkpoints, thresholds and the exponent fit against independent known answers."""
import numpy as np
import pytest

import theory
from theory.emergence import emergence_from_checkpoints


def test_thresholds_are_the_stated_means():
    assert theory.threshold(1.0, 4.0, "geometric") == pytest.approx(2.0)
    assert theory.threshold(1.0, 4.0, "harmonic") == pytest.approx(1.6)
    assert theory.threshold(1.0, 4.0, "arithmetic") == pytest.approx(2.5)
    with pytest.raises(theory.SpecbiasError, match="valid: geometric"):
        theory.threshold(1.0, 4.0, "median")


def test_checkpoint_interpolation_converges_to_exact():
    arch = theory.get("linear")
    lam = np.array([0.01, 0.3, 5.0])
    exact = theory.emergence_time(arch, lam)
    v0 = arch.initial_variance(0.1)
    errs = []
    for n in (20, 80, 320):
        tau = np.geomspace(1e-4, 1e4, n)
        lt = arch.generated_variance(lam[:, None], tau[None, :])
        errs.append(np.max(np.abs(emergence_from_checkpoints(tau, lt, v0, lam) / exact - 1)))
    assert errs[2] < errs[0] and errs[2] < 1e-3


def test_fit_recovers_power_law_and_separates_directions():
    lam = np.geomspace(1e-3, 1e2, 30)
    tau = 3.0 * lam ** -1.2 * np.exp(0.01 * np.sin(7 * np.arange(30)))
    fits = theory.fit_exponent(lam, tau, v0=0.05)
    inc, dec = fits["increasing"], fits["decreasing"]
    assert inc.alpha == pytest.approx(1.2, abs=0.01) and inc.ci[0] < 1.2 < inc.ci[1]
    assert inc.n + dec.n == np.sum((0.05 / lam <= 0.5) | (0.05 / lam >= 2))  # gray zone excluded
    assert dec.n > 0 and inc.r2 > 0.99


def test_never_crossing_gives_nan():
    ts = theory.emergence_time("linear", [1.0], tau_range=(1e-8, 1e-6))
    assert np.isnan(ts).all()


# ---- the "entering λ(1 ± 0.2)" criterion ---------------------------------------------------------------
def test_band_criterion_crossing_by_hand():
    """Checkpoints τ = 1, 2, 4. Increasing mode (v₀ = 0.1, λ = 1): λ̃ = 0.5, 0.7, 0.9 crosses 0.8 between
    τ = 2 and 4; log–log interpolation by hand: τ* = 2·2^{ln(0.8/0.7)/ln(0.9/0.7)} = 2.890526.
    Decreasing mode (v₀ = 3, λ = 1): λ̃ = 2, 1.5, 1.1 crosses 1.2 between τ = 2 and 4:
    τ* = 2·2^{ln(1.5/1.2)/ln(1.5/1.1)} = 3.293127. A mode starting inside the band never enters it."""
    from theory.emergence import emergence_from_checkpoints

    tau = np.array([1.0, 2.0, 4.0])
    lt = np.array([[0.5, 0.7, 0.9], [2.0, 1.5, 1.1], [1.1, 1.0, 1.0]])
    got = emergence_from_checkpoints(tau, lt, np.array([0.1, 3.0, 1.1]), np.ones(3), "band")
    np.testing.assert_allclose(got[:2], [2.890526, 3.293127], rtol=1e-6)
    assert np.isnan(got[2])
    # the geometric criterion on the same data crosses elsewhere (√0.1 = 0.316 before τ = 1)
    assert emergence_from_checkpoints(tau, lt[:1], [0.1], [1.0], "geometric")[0] <= 1.0


def test_band_criterion_closed_form_matches_an_independent_root():
    """Exact τ* for entering λ(1 − 0.2) of the one-layer linear model against scipy's brentq on its λ̃."""
    from scipy.optimize import brentq

    arch = theory.get("linear")
    for lam in (0.05, 1.0, 20.0):
        got = theory.emergence_time(arch, [lam], criterion="band", Q=0.1)[0]
        f = lambda lt: float(arch.log_generated_variance(lam, np.exp(lt), 0.1)) - np.log(0.8 * lam)
        want = np.exp(brentq(f, np.log(1e-8), np.log(1e12), xtol=1e-13))
        assert abs(got / want - 1) < 1e-8, (lam, got, want)
