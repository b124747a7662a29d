"""numerics.data: spectra, rotations, stationary signals and the bundled real data sets."""
import numpy as np
import pytest
import torch

from numerics import data as D
from theory.errors import SpecbiasError
from verify.tolerances import tol


def test_lognormal_spectrum_is_sorted_with_mean_one():
    lam = D.spectrum("lognormal", 256, seed=3)
    assert lam.size == 256 and np.all(np.diff(lam) <= 0)
    assert lam.mean() == pytest.approx(1.0, rel=1e-14)
    # e^{N(0,1)}: the log-variances of the (unnormalised) draw have unit spread
    assert np.std(np.log(lam)) == pytest.approx(1.0, abs=0.15)


def test_powerlaw_and_logspace_spectra():
    lam = D.spectrum("powerlaw", 10, beta=2.0)
    assert lam[0] / lam[3] == pytest.approx(16.0, rel=1e-14)  # (4/1)^2
    assert lam.mean() == pytest.approx(1.0, rel=1e-14)
    ls = D.spectrum("logspace", 6, lo=1e-3, hi=1e2)
    np.testing.assert_allclose(ls, [1e2, 1e1, 1, 1e-1, 1e-2, 1e-3], rtol=1e-12)


def test_gaussian_is_rotated_and_exact():
    ds = D.gaussian(12, "lognormal", seed=1)
    assert np.allclose(ds.U.T @ ds.U, np.eye(12), atol=1e-13)
    assert np.abs(ds.U - np.eye(12)).max() > 0.1  # eigenbasis is not the pixel basis
    np.testing.assert_allclose(ds.cov, (ds.U * ds.lam) @ ds.U.T, atol=1e-13)
    assert ds.lam_max == pytest.approx(ds.lam[0], rel=1e-12)
    plain = D.gaussian(12, "lognormal", seed=1, rotate=False)
    np.testing.assert_allclose(plain.cov, np.diag(plain.lam), atol=0)


def test_gaussian_samples_have_the_moments():
    ds = D.gaussian(6, "powerlaw", mean=np.arange(6.0), seed=2)
    x = ds.sample(200_000, torch.Generator().manual_seed(0)).numpy()
    n = x.shape[0]
    se_mean = np.sqrt(np.diag(ds.cov) / n)
    assert np.all(np.abs(x.mean(0) - ds.mu) <= 5 * se_mean)
    v = ((x - ds.mu) @ ds.U).var(0)  # variance along each eigenvector: SE λ√(2/n)
    z = np.abs(v - ds.lam) / (ds.lam * np.sqrt(2.0 / n))
    assert np.all(z <= tol("monte-carlo-variance").abs)


def test_stationary_signal_has_the_power_spectrum():
    p = D.power_spectrum(16, beta=1.5)
    ds = D.stationary(16, beta=1.5)
    i, j = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    c = ds.cov[0]
    np.testing.assert_allclose(ds.cov, c[(j - i) % 16], atol=1e-14)  # circulant
    var, _, _ = ds.basis("fourier")
    np.testing.assert_allclose(var, p, rtol=1e-12)  # Fourier variances = the power spectrum
    np.testing.assert_allclose(np.sort(ds.lam), np.sort(p), rtol=1e-10)


def test_modulated_is_not_stationary():
    ds = D.modulated(16, depth=0.5)
    assert np.abs(np.diag(ds.cov) - np.diag(ds.cov).mean()).max() > 0.1
    F = D.fourier_matrix((16,))
    M = F.conj().T @ ds.cov @ F
    assert np.abs(M - np.diag(np.diag(M))).max() > 1e-3  # not diagonal in the DFT


def test_fourier_matrix_is_unitary_and_matches_numpy():
    F = D.fourier_matrix((1, 4, 6))
    assert np.allclose(F.conj().T @ F, np.eye(24), atol=1e-13)
    x = np.random.default_rng(0).standard_normal((4, 6))
    # F* x = unitary 2-D DFT up to the sign convention of the exponent
    np.testing.assert_allclose(F.conj().T @ x.reshape(-1), np.fft.fft2(x).reshape(-1) / np.sqrt(24), atol=1e-12)


def test_digits_empirical_moments():
    ds = D.digits()
    assert ds.d == 64 and ds.shape == (1, 8, 8) and not ds.gaussian and ds.X.shape == (1797, 64)
    np.testing.assert_allclose(ds.mu, 0, atol=1e-12)
    assert np.trace(ds.cov) / 64 == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(ds.cov, ds.X.T @ ds.X / 1797, atol=1e-12)
    np.testing.assert_allclose(ds.cov, (ds.U * ds.lam) @ ds.U.T, atol=1e-9)
    raw = D.digits(center=False, normalize=False)
    assert raw.mu.max() > 1 and raw.X.max() == 16


def test_bundled_image_patches_and_faces():
    ds = D.patches("camera", 8)
    assert ds.d == 64 and ds.X.shape == (64 * 64, 64) and ds.shape == (1, 8, 8)
    assert ds.lam[0] / ds.lam[-1] > 100  # natural-image patches: a steep spectrum
    faces = D.lfw()
    assert faces.d == 625 and faces.X.shape == (200, 625)
    with pytest.raises(SpecbiasError, match="not bundled"):
        D.patches("no_such_image")


def test_twin_and_sample_rows():
    ds = D.digits()
    twin = ds.gaussian_twin()
    assert twin.gaussian and np.array_equal(twin.cov, ds.cov)
    x = ds.sample(5, torch.Generator().manual_seed(1)).numpy()
    assert all(any(np.array_equal(r, row) for row in ds.X) for r in x)


def test_bad_inputs():
    with pytest.raises(SpecbiasError, match="unknown spectrum"):
        D.gaussian(4, "nope")
    with pytest.raises(SpecbiasError, match="p_k = p_"):
        D.stationary(4, power=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(SpecbiasError, match="P²"):
        D.load("patches", 10)
