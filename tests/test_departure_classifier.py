"""The departure classifier on synthetic τ* tables whose right answer is known by construction."""
import numpy as np

from verify import departure as D

LAM = np.geomspace(1e-2, 1e2, 12)
V0 = 3.3e-5  # linear, Q = 0.1: far below every λ, so every mode is an increasing one


def _flag(arch, ts, converged=None, ref=None):
    return D.classify(arch, {"geometric": ts}, LAM, V0, LAM if converged is None else converged, LAM, 0.1,
                      None if ref is None else {"geometric": ref})


def test_inverse_law_follows():
    f = _flag("linear", 0.3 / LAM, ref=0.3 / LAM)
    assert f.classification == "follows" and abs(f.simultaneity - 1) < 1e-12
    assert abs(f.fits["geometric"]["increasing"].alpha - 1) < 1e-12
    assert abs(f.fits_high["geometric"].alpha - 1) < 1e-12 and f.fits_high["geometric"].n == 6


def test_simultaneous_emergence_departs():
    f = _flag("conv2d", np.full(LAM.size, 0.3), ref=0.3 / LAM)  # no declared exponent range
    assert f.classification == "departs" and f.simultaneity == 0.0
    assert len(f.reasons) == 1 and "near-simultaneous" in f.reasons[0]
    g = _flag("linear", np.full(LAM.size, 0.3))  # declared range: the exponent is a second reason
    assert len(g.reasons) == 2 and "outside the predicted" in g.reasons[0]


def test_shallow_exponent_is_flagged_by_simultaneity():
    f = _flag("linear", 0.3 / LAM**0.3)
    assert abs(f.simultaneity - 0.3) < 1e-12 and "near-simultaneous" in f.reason
    g = _flag("linear", 0.3 / LAM**0.7)  # S = 0.7: not simultaneous; the exponent range decides
    assert not any("near-simultaneous" in r for r in g.reasons)


def test_target_mismatch_is_a_separate_reason():
    f = _flag("linear", 0.3 / LAM, converged=2.0 * LAM)
    assert f.classification == "departs" and len(f.reasons) == 1 and "target not reached" in f.reasons[0]
    both = _flag("conv2d", np.full(LAM.size, 0.3), converged=2.0 * LAM)
    assert len(both.reasons) == 2


def test_declared_departure_is_never_reported_as_following():
    """linear_mean declares "departs" with no exponent range: an inverse-law table must not make it
    "follows, different constant" (issue 8 §5)."""
    f = _flag("linear_mean", 0.1 / LAM, ref=0.3 / LAM)
    assert f.classification == "departs (declared), not detected here"
    assert "3× faster" in f.reason


def test_slower_is_said_as_slower():
    f = _flag("circulant", 0.6 / LAM, ref=0.3 / LAM)
    assert f.classification == "follows, different constant" and "2× slower" in f.reason


def test_too_few_emerging_modes_give_no_index():
    ts = np.full(LAM.size, np.nan)
    ts[:2] = 1.0
    assert np.isnan(D.simultaneity(LAM, ts, V0))


# ---- the target rule with a Monte-Carlo CI (measured converged variances) -------------------------------
def _measured(ratio, half):
    """Converged variances at ratio × λ with a CI of relative half-width `half` (per mode)."""
    conv = ratio * LAM
    return conv, (conv * (1 - half), conv * (1 + half))


def test_truly_off_target_with_a_tight_ci_still_departs():
    conv, ci = _measured(np.where(np.arange(LAM.size) < 3, 0.8, 1.0), 0.03)  # 3 modes 20% low, CI ±3%
    f = D.classify("linear", {"geometric": 0.3 / LAM}, LAM, V0, conv, LAM, 0.1, converged_ci=ci)
    assert f.classification == "departs" and "3 of 12 modes" in f.reason and "beyond their 95% CI" in f.reason
    assert abs(f.fraction_reached - 9 / 12) < 1e-12


def test_on_target_with_a_wide_ci_is_not_called_off_target():
    conv, ci = _measured(np.where(np.arange(LAM.size) < 3, 0.88, 1.0), 0.1)  # point 12% low, CI reaches 0.97
    f = D.classify("linear", {"geometric": 0.3 / LAM}, LAM, V0, conv, LAM, 0.1, {"geometric": 0.3 / LAM},
                   converged_ci=ci)
    assert f.classification == "follows" and f.fraction_reached == 1.0
    # the same points without a CI (exact values) are off target: the CI is what spares them
    g = D.classify("linear", {"geometric": 0.3 / LAM}, LAM, V0, conv, LAM, 0.1)
    assert g.classification == "departs" and "3 of 12 modes" in g.reason


def test_a_ci_that_misses_its_point_is_refused():
    import pytest

    from theory.errors import SpecbiasError

    conv = LAM.copy()
    with pytest.raises(SpecbiasError, match="converged_ci"):
        D.classify("linear", {"geometric": 0.3 / LAM}, LAM, V0, conv, LAM, 0.1, converged_ci=(1.1 * conv, 1.2 * conv))
