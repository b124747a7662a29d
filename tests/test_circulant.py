"""`circulant` (theory.md §2.5): Fourier variances of any covariance, and the one-layer law at rate Nη."""
import numpy as np
import pytest

import theory
from theory.archs.circulant import autocovariance, fourier_variances, shift_averaged_covariance
from verify.tolerances import tol

ARCH = theory.get("circulant")
LINEAR = theory.get("linear")
EXACT = tol("exact-identity")
LAM = np.array([1e-3, 0.05, 1.0, 30.0])
TAU = np.array([0.0, 1e-3, 0.1, 10.0])[:, None]


def random_covariance(n, seed=0):
    """A non-stationary covariance: random eigenvectors, log-normal eigenvalues."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (U * np.exp(rng.standard_normal(n))) @ U.T


@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_fourier_variances_are_the_diagonal_of_the_unitary_dft(n):
    Sigma = random_covariance(n)
    F = np.fft.fft(np.eye(n)) / np.sqrt(n)
    np.testing.assert_allclose(fourier_variances(Sigma), np.diag(F.conj().T @ Sigma @ F).real,
                               rtol=EXACT.rel, atol=EXACT.abs)


@pytest.mark.parametrize("n", [3, 8, 13])
def test_shift_averaged_covariance_has_the_fourier_variances_as_eigenvalues(n):
    Sigma = random_covariance(n, seed=n)
    bar = shift_averaged_covariance(Sigma)
    S = np.roll(np.eye(n), 1, axis=0)  # cyclic shift
    direct = sum(np.linalg.matrix_power(S, s) @ Sigma @ np.linalg.matrix_power(S.T, s) for s in range(n)) / n
    np.testing.assert_allclose(bar, direct, rtol=EXACT.rel, atol=EXACT.abs)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(bar)), np.sort(fourier_variances(Sigma)),
                               rtol=EXACT.rel)
    np.testing.assert_allclose(fourier_variances(Sigma).sum(), np.trace(Sigma), rtol=EXACT.rel)


def test_stationary_covariance_keeps_its_eigenvalues_and_batches():
    Sigma = shift_averaged_covariance(random_covariance(9))
    np.testing.assert_allclose(shift_averaged_covariance(Sigma), Sigma, atol=EXACT.abs)
    np.testing.assert_allclose(np.sort(fourier_variances(Sigma)), np.linalg.eigvalsh(Sigma), rtol=EXACT.rel)
    batch = np.stack([random_covariance(5, s) for s in range(3)])
    np.testing.assert_allclose(autocovariance(batch)[1], autocovariance(batch[1]))


@pytest.mark.parametrize("dps", [None, 30])
def test_circulant_with_N_1_is_linear(dps):
    got = ARCH.log_generated_variance(LAM, TAU, Q=0.2, N=1, dps=dps)
    np.testing.assert_allclose(got, LINEAR.log_generated_variance(LAM, TAU, Q=0.2, dps=dps), rtol=EXACT.rel)
    w = ARCH.weight(LAM, 0.3, TAU, Q=0.2, N=1, dps=dps)
    np.testing.assert_allclose(w, LINEAR.weight(LAM, 0.3, TAU, Q=0.2, dps=dps), rtol=EXACT.rel)


def test_weight_sharing_multiplies_every_rate_by_N():
    """λ̃ depends on τ only through Nητ: circulant at τ equals linear at Nτ (and τ* is divided by N)."""
    got = ARCH.generated_variance(LAM, TAU, Q=0.1, N=16)
    np.testing.assert_allclose(got, LINEAR.generated_variance(LAM, 16 * TAU, Q=0.1), rtol=EXACT.rel)
    ts = theory.emergence_time(ARCH, LAM, Q=0.1, N=16)
    np.testing.assert_allclose(ts, theory.emergence_time(LINEAR, LAM, Q=0.1) / 16, rtol=1e-9)  # bisection


def test_derived_ode_shows_the_factor_N():
    d = ARCH.derive()
    assert "N" in str(d.ode) and d.ok
    assert {c.name: c.status for c in d.checks}["weight-sharing"] == "symbolic"


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "x"])
def test_bad_N_is_one_clear_error(bad):
    with pytest.raises(theory.SpecbiasError, match="signal length N must be an integer"):
        ARCH.generated_variance(LAM, 1.0, N=bad)


def test_non_square_covariance_is_rejected():
    with pytest.raises(theory.SpecbiasError, match="square"):
        fourier_variances(np.ones((3, 4)))
