"""The mechanism claim of the local-convolution study on digits (verify.localconv.analysis), as tests that
fail if it is false:

On digits, near-simultaneous emergence along the data's principal components comes from weight sharing
(a shift-invariant generated covariance, diagonal in Fourier space) — not from locality. The full-width
circulant (global) shows it, the locally connected control (local, no sharing) does not, and on
stationary data (PCs = Fourier modes) nothing does. The simultaneity index S of the convolution tracks
the compression of the targets by shift-averaging, std ln uᵀΣ̄u / std ln uᵀΣu. This holds where that
compression is strong (digits, random covariances); on natural-image crops it is weak and the kernel
size matters: the claim across data sets is verify.localconv.mechanism's (tests/test_localconv_data.py).
"""
import pytest

from numerics import data
from verify.departure import SIMULTANEOUS
from verify.localconv import analysis as L


@pytest.fixture(scope="module")
def digits():
    ds = data.digits()
    return ds, L.measurement(ds, "pcs")


@pytest.mark.parametrize("name", ["conv2d", "circulant"])
def test_weight_sharing_gives_near_simultaneous_emergence_on_images(digits, name):
    ds, m = digits
    f = L.flag(name, ds, m, 3, "digits")
    assert f.simultaneity < SIMULTANEOUS and any("near-simultaneous" in r for r in f.reasons)


@pytest.mark.parametrize("name", ["local2d", "linear"])
def test_without_weight_sharing_the_inverse_law_stays(digits, name):
    ds, m = digits
    f = L.flag(name, ds, m, 3, "digits")
    assert f.simultaneity > SIMULTANEOUS and not any("near-simultaneous" in r for r in f.reasons)


def test_stationary_images_show_no_simultaneity():
    ds = data.stationary2d(8)
    f = L.flag("conv2d", ds, L.measurement(ds, "pcs"), 3, "stationary")
    assert f.simultaneity > SIMULTANEOUS


def test_simultaneity_tracks_the_compression_of_targets(digits):
    ds, m = digits
    S = L.flag("conv2d", ds, m, 3, "digits").simultaneity
    assert abs(S - L.compression(ds)) < 0.1


def test_locality_alone_compresses_when_pcs_are_spatially_extended():
    """The refinement of the claim: on a random covariance (Haar eigenvectors: every PC spreads over the
    whole image) the locally connected model cannot reach the PC variances either, and emerges
    near-simultaneously too; weight sharing is sufficient on non-stationary data, locality is not
    necessary, and whether locality alone suffices depends on the data (digits: no)."""
    from verify.properties.localconv import random_images

    ds = random_images(6, seed=1)
    f = L.flag("local2d", ds, L.measurement(ds, "pcs"), 3, "random")
    assert f.simultaneity < SIMULTANEOUS


def test_the_claim_test_can_fail():
    """Feeding the simultaneity property a model it does not apply to (the dense linear model) fails."""
    import theory
    from verify.properties.localconv import _simultaneity

    with pytest.raises(AssertionError, match="non-stationary random covariance"):
        _simultaneity(theory.get("linear"))()
