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
