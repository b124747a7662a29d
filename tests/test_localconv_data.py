"""The local-convolution mechanism stated by the data (verify.localconv.mechanism): on digits, natural-image crops
(numerics.image_sets) and random covariances, which measured property of the data predicts
near-simultaneous emergence under weight sharing alone, when the kernel size matters, and P = 1 on its
own. Known answers come from independent computations (dense shift-averaging, scalar root finding)."""
import os

import numpy as np
import pytest
from scipy.optimize import brentq

import theory
from numerics import data, image_sets
from verify.localconv import analysis as L
from verify.localconv import mechanism as M
from verify.departure import SIMULTANEOUS

Q = 0.1


@pytest.fixture(scope="module")
def rows():
    sets = M.study_sets()
    return {n: M.survey(n, sets[n]()) for n in ("digits", "camera 8×8", "brick 8×8", "gravel 8×8")}


def test_natural_sets_ship_inside_scikit_image_with_a_licence():
    import skimage

    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    assert len(image_sets.available()) >= 2
    for name, s in image_sets.SETS.items():
        assert os.path.exists(os.path.join(folder, s.image + ".png")), name
        assert s.licence and s.kind in ("photograph", "texture")
    with pytest.raises(theory.SpecbiasError, match="unknown natural-image set"):
        image_sets.load("lena 8×8")


def test_mechanism_holds_on_digits_and_natural_images(rows):
    assert M.violations(rows.values()) == []
    d, cam = rows["digits"], rows["camera 8×8"]
    # digits: shift-averaging compresses the targets, weight sharing alone is near-simultaneous
    assert d.compression < SIMULTANEOUS and d.S_full < SIMULTANEOUS
    # natural crops: weak compression, the full-width circulant is not near-simultaneous
    for r in (cam, rows["brick 8×8"], rows["gravel 8×8"]):
        assert r.compression >= SIMULTANEOUS and r.S_full >= SIMULTANEOUS, r


def test_locality_matters_where_the_kernel_misses_the_correlations(rows):
    """camera 8×8: a 3 × 3 window misses most of the correlation energy and moves S far from full
    width; digits: the same kernel changes nothing (strong compression)."""
    cam, d = rows["camera 8×8"], rows["digits"]
    assert cam.reach[3] > M.REACH and abs(cam.S[3] - cam.S_full) > 3 * M.TRACKS
    assert all(abs(d.S[P] - d.S_full) < M.TRACKS for P in (3, 5, 7))


@pytest.mark.slow
def test_mechanism_holds_on_every_shipped_data_set():
    rows = [M.survey(n, f()) for n, f in M.study_sets().items()]
    assert M.violations(rows) == []


def test_full_width_tracks_compression_between_stationary_and_random():
    """Covariances blended from stationary (c = 1) to Haar-random (c ≈ 0): S_full follows c through
    the range no shipped data set covers, and the two sit on the same side of ½."""
    st, rd = data.stationary2d(8, beta=2.0), M.study_sets()["random 8×8"]()
    for t in (0.03, 0.1, 0.2):
        ds = data._from_cov("blend", (1 - t) * st.cov + t * rd.cov, np.zeros(64), (1, 8, 8), {})
        c, S = L.compression(ds), M.simultaneity_along("circulant", ds, L.measurement(ds, "pcs"))
        assert abs(S - c) < M.TRACKS and (S < SIMULTANEOUS) == (c < SIMULTANEOUS), (t, c, S)


def test_violations_flag_known_wrong_rows():
    ok = M.Row("ok", 0.9, 0.9, {1: 0.15, 3: 0.95}, {3: 0.1})
    assert M.violations([ok]) == []
    bad = [M.Row("a", 0.2, 0.9, {1: 0.15}, {}),  # compressed, yet full width follows
           M.Row("b", 0.9, 0.9, {1: 0.8}, {}),  # P = 1 not simultaneous
           M.Row("c", 0.9, 0.9, {1: 0.1, 3: 0.5}, {3: 0.1}),  # covering kernel far from full width
           M.Row("d", 0.2, 0.2, {1: 0.1, 3: 0.6}, {3: 0.9})]  # compressed, yet P = 3 departs
    out = M.violations(bad)
    assert [v.split(":")[0] for v in out] == ["a", "b", "c", "d"]


# ---- P = 1: one shared gain, one trajectory ------------------------------------------------------------
def _p1_tau_star(ds, lam_u):
    """τ* along each PC for a single shared gain, independently: λ̃(τ) = λ̃_lin(ν̄, τ; Q, HW·η) with
    ν̄ = tr Σ / d (the 1 × 1 patch variance) for every direction, crossed at √(v₀λ_u) (brentq)."""
    _, H, W = ds.shape
    lin = theory.get("linear")
    nu = float(np.trace(ds.cov) / ds.d)
    v0 = float(lin.initial_variance(Q))

    def g(ln_tau, level):
        return float(np.log(lin.generated_variance(nu, np.exp(ln_tau), Q=Q, eta=H * W))) - np.log(level)

    return np.array([np.exp(brentq(g, np.log(1e-8), np.log(1e8), args=(np.sqrt(v0 * lam),), xtol=1e-13))
                     for lam in lam_u])


@pytest.mark.parametrize("name", ["stationary 8×8", "camera 8×8"])
def test_one_shared_gain_is_one_trajectory_crossed_at_different_thresholds(name):
    """P = 1 is its own case: τ* from conv2d along the PCs equals the scalar first passage above, on
    stationary data as on images, and S < ½ although stationary data have no compression (c = 1)."""
    ds = M.study_sets()[name]()
    m = L.measurement(ds, "pcs")
    keep = m.target > 1e-3 * m.target[0]  # increasing modes well outside the gray zone
    f = L.flag("conv2d", ds, m, 1, name)
    got = f.tau_star["geometric"][keep]
    want = _p1_tau_star(ds, m.target[keep])
    assert np.max(np.abs(np.log(got / want))) < 1e-6
    assert f.simultaneity < SIMULTANEOUS
    if name.startswith("stationary"):
        assert abs(L.compression(ds) - 1.0) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in image_sets.available() if n.endswith("8×8")])
def test_locality_without_sharing_is_not_simultaneous_on_natural_crops(name):
    """The locally connected control (exact propagator) on the 8 × 8 natural crops: S > ½."""
    ds = image_sets.load(name)
    assert L.flag("local2d", ds, L.measurement(ds, "pcs"), 3, name).simultaneity > SIMULTANEOUS
