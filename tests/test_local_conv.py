"""2-D convolution, locally connected control and measurement in any basis: known answers from
independent routes (dense matrix algebra, the Magnus propagator, mpmath, trained torch models)."""
import time

import numpy as np
import pytest

import theory
from numerics import data, train
from theory import along as A
from theory import basis as B
from theory.local import LocalOperator
from verify.tolerances import tol

EXACT = tol("exact-identity")


def _digits():
    return data.digits()


def test_conv2d_P_equal_image_is_circulant():
    arch = theory.get("conv2d")
    lam = data.power_spectrum_2d(5, beta=2.0)  # 5 × 5, odd: P = 5 is the full width
    tau = np.geomspace(1e-3, 10, 5)[:, None]
    got = arch.log_generated_variance(lam[None, :], tau, P=5)
    ref = theory.get("circulant").log_generated_variance(lam[None, :], tau, N=25)
    assert np.max(np.abs(got - ref)) < EXACT.rel


def test_conv2d_float64_equals_mpmath():
    arch = theory.get("conv2d")
    lam = arch.as_spectrum([2.0, 0.5, 0.05])
    fast = arch.log_generated_variance(lam, 0.3, Q=0.2)
    ref = arch.log_generated_variance(lam, 0.3, Q=0.2, dps=30)
    assert np.max(np.abs(fast - ref)) < tol("float64-vs-mpmath").rel


def test_conv2d_channels_are_independent_copies():
    arch = theory.get("conv2d")
    one = arch.as_spectrum([2.0, 0.5, 0.05])
    two = arch.as_spectrum([2.0, 0.5, 0.05], C=2)
    a = arch.log_generated_variance(one, 0.7)
    b = arch.log_generated_variance(two, 0.7, C=2)
    assert np.max(np.abs(np.concatenate([a, a]) - b)) < EXACT.rel


@pytest.mark.parametrize("kw, match", [({"P": 7}, "exceeds the image"), ({"C": 0}, "channels C"),
                                       ({"P": 4}, "odd"), ({"C": 2}, "multiple of C")])
def test_conv2d_bad_shapes_one_line(kw, match):
    arch = theory.get("conv2d")
    lam = data.power_spectrum_2d(5)  # 25 values: 5 × 5, one channel
    with pytest.raises(theory.SpecbiasError, match=match) as err:
        arch.log_generated_variance(lam, 1.0, **kw)
    assert "\n" not in str(err.value)


def test_basis_must_be_orthonormal():
    U = np.eye(4)[:, :3].copy()
    U[0, 0] = 1.01
    with pytest.raises(theory.SpecbiasError, match="not orthonormal"):
        B.fourier_weights(U, (4,))


def test_fourier_weights_equal_dense_projection():
    """Σ_f |û(f)|² λ̃_f against uᵀ (F diag λ̃ F*) u built densely from the 2-D DFT matrix."""
    ds = _digits()
    lt = np.random.default_rng(0).lognormal(size=64)
    lt = 0.5 * (lt + lt.reshape(8, 8)[(-np.arange(8)) % 8][:, (-np.arange(8)) % 8].reshape(-1))
    F = data.fourier_matrix(ds.shape)
    dense = np.real(F @ np.diag(lt) @ F.conj().T)
    got = B.along(lt, B.fourier_weights(ds.U, ds.shape))
    assert np.allclose(got, B.covariance_along(dense, ds.U), rtol=EXACT.rel, atol=0)


def test_closed_form_along_pcs_equals_propagator():
    """conv2d's eigen-mix along the digits' PCs vs the Magnus propagator of theory.local (independent)."""
    ds = _digits()
    tau = np.array([1e-3, 0.05, 2.0])
    lt = A.variance_along("conv2d", ds.basis("fourier")[0], tau, B.fourier_weights(ds.U, ds.shape), P=3)
    cov = LocalOperator("conv", ds.cov, ds.shape, 3).generated_covariance(tau)
    assert np.max(np.abs(np.log(B.covariance_along(cov, ds.U) / lt))) < 1e-8  # Magnus-4 h⁴ error


def test_locally_connected_with_all_taps_is_linear():
    """P = image side (5 × 5, circular supports hold every pixel once): W_σ(τ) = g(Σ), the linear model."""
    ds = data.patches(P=5, max_patches=300)
    op = LocalOperator("local", ds.cov, ds.shape, 5)
    sig, tau = np.array([0.05, 1.0, 7.0]), 0.4
    lin = theory.get("linear").weight(ds.lam[None, :], sig[:, None], tau, Q=0.1)  # per eigenmode
    dense = np.einsum("ik,sk,jk->sij", ds.U, lin, ds.U)
    assert np.max(np.abs(op.weights(sig, tau) - dense)) < EXACT.rel


def test_speed_64_pcs_200_times():
    ds = _digits()
    spec, w = ds.basis("fourier")[0], B.fourier_weights(ds.U, ds.shape)
    tau = np.geomspace(1e-4, 1e3, 200)
    A.variance_along("conv2d", spec, tau[:2], w, P=3)  # warm caches
    t0 = time.process_time()
    out = A.variance_along("conv2d", spec, tau, w, P=3)
    assert out.shape == (200, 64) and time.process_time() - t0 < 1.0


def test_trained_locally_connected_follows_exact_theory_on_images():
    """Population GD of the torch locally connected model on non-stationary image patches vs the
    exact per-support weights W_σ(τ) = g(Σ_{S_i}) e_c."""
    ds = data.patches(P=5, max_patches=300)
    sig = np.geomspace(0.01, 20.0, 6)
    run = train.train("local2d", ds, Q=0.1, taus=np.array([0.05, 1.0]), keep_weights=True, progress=False,
                      sigmas=sig)
    op = LocalOperator("local", ds.cov, ds.shape, 3)
    err = max(np.max(np.abs(run.W[j] - op.weights(sig, t))) for j, t in enumerate(run.tau))
    assert err < tol("trajectory-vs-theory").abs


def test_trained_conv2d_is_not_the_locally_connected_theory():
    """The check above can fail: the shared kernel on the same data is far from the per-position one."""
    ds = data.patches(P=5, max_patches=300)
    sig = np.geomspace(0.01, 20.0, 6)
    run = train.train("conv2d", ds, Q=0.1, taus=np.array([0.05]), keep_weights=True, progress=False, sigmas=sig)
    op = LocalOperator("local", ds.cov, ds.shape, 3)
    assert np.max(np.abs(run.W[0] - op.weights(sig, 0.05))) > 5 * tol("trajectory-vs-theory").abs
    conv = LocalOperator("conv", ds.cov, ds.shape, 3)
    assert np.max(np.abs(run.W[0] - conv.weights(sig, 0.05))) < tol("trajectory-vs-theory").abs


def test_two_channels_closed_form_equals_propagator():
    """C = 2 independent stationary channels: the per-channel eigen-mix vs the Magnus propagator."""
    ds = data.stationary2d(4, C=2, beta=1.5)
    U = B.real_fourier_basis(ds.shape)
    tau = np.array([0.01, 0.3])
    cf = A.variance_along("conv2d", ds.basis("fourier")[0], tau, B.fourier_weights(U, ds.shape), P=3, C=2)
    pr = B.covariance_along(LocalOperator("conv", ds.cov, ds.shape, 3).generated_covariance(tau), U)
    assert np.max(np.abs(np.log(cf / pr))) < 1e-8


def test_trained_conv2d_with_correlated_channels_follows_theory_local():
    """Correlated channels (no closed form): trained 2-channel kernels vs g(Σ̄_patch) e_c."""
    from verify.properties.localconv import random_images

    base = random_images(4, seed=3)  # 16 pixels; two channels correlated through a random 32 × 32 mix
    rng = np.random.default_rng(0)
    M = rng.normal(size=(32, 16)) / 4
    ds = data._from_cov("two-channel", M @ base.cov @ M.T + 0.01 * np.eye(32), np.zeros(32), (2, 4, 4), {})
    sig = np.geomspace(0.02, 10.0, 4)
    run = train.train("conv2d", ds, Q=0.2, taus=np.array([0.1]), keep_weights=True, progress=False,
                      sigmas=sig, params={"P": 3, "C": 2})
    want = LocalOperator("conv", ds.cov, ds.shape, 3).weights(sig, 0.1, Q=0.2)
    assert np.max(np.abs(run.W[-1] - want)) < tol("trajectory-vs-theory").abs
