"""Properties of the 2-D local architectures (registered into the shared suite of verify.properties.engine, so
`specbias verify` and the conformance tests run them for every architecture they apply to):

- trained-on-images-equals-theory: population GD of the torch model on a random non-stationary image
  covariance equals the exact per-support weights of theory.local (both `conv2d` and `local2d`);
- full-kernel-is-circulant: P = H = W (odd) is the full-width circulant, per Fourier mode (`conv2d`);
- all-taps-is-linear: the locally connected model whose P × P support covers the image is the linear
  model W = g(Σ), on random covariances (`local2d`);
- simultaneity-claim: a shift-invariant model measured along the data PCs emerges near-simultaneously
  (S < SIMULTANEOUS) on random non-stationary covariances (Haar-random eigenvectors), and does not on
  random stationary ones (PCs = Fourier modes) — the claim of verify.localconv.analysis (`conv2d`).
"""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import theory
from verify.departure import SIMULTANEOUS
from verify.properties import strategies as vs
from verify.properties.engine import prop
from verify.tolerances import tol


def _image_arch(arch) -> bool:
    return arch.basis == "fourier" and getattr(arch, "dims", 1) == 2


def _shift_invariant(arch) -> bool:
    return _image_arch(arch) and getattr(arch, "shift_invariant", False)


def random_images(side: int, seed: int, decades: float = 3.0):
    """A non-stationary Gaussian data set of (1, side, side) images: Haar-random eigenvectors and
    log-uniform variances over `decades` (numerics.data.Dataset)."""
    from numerics.data import _from_cov

    rng = np.random.default_rng(seed)
    d = side * side
    Q, R = np.linalg.qr(rng.normal(size=(d, d)))
    Q = Q * np.sign(np.diag(R))
    lam = np.sort(10.0 ** rng.uniform(-decades, 0.0, d))[::-1] * d / 2
    return _from_cov("random-images", (Q * lam) @ Q.T, np.zeros(d), (1, side, side), {"seed": seed})


@prop("trained-on-images-equals-theory", applies=_image_arch, max_examples=2,
      skip_reason="only for 2-D image architectures (dims = 2)")
def _trained_images(arch):
    from numerics import train
    from theory.local import LocalOperator

    @given(seed=st.integers(0, 2**16), Q=st.floats(0.05, 0.9), tau=vs.times(1e-2, 1.0))
    def trained_weights_equal_exact_theory(seed, Q, tau):
        ds = random_images(4, seed)
        sig = np.geomspace(0.02, 10.0, 4)
        run = train.train(arch.name, ds, Q=Q, taus=np.array([tau]), keep_weights=True, progress=False,
                          sigmas=sig, params={"P": 3})
        kind = "conv" if _shift_invariant(arch) else "local"
        want = LocalOperator(kind, ds.cov, ds.shape, 3).weights(sig, tau, Q=Q)
        err = float(np.max(np.abs(run.W[-1] - want)))
        t = tol("trajectory-vs-theory")
        assert err <= t.abs, f"trained W vs theory.local: {err:.3g} > {t.abs:g} ({t.reason})"
    return trained_weights_equal_exact_theory


@prop("full-kernel-is-circulant", applies=_shift_invariant,
      skip_reason="only for shift-invariant 2-D architectures")
def _full_kernel(arch):
    from numerics.data import power_spectrum_2d

    @given(side=st.sampled_from([3, 5]), beta=st.floats(0.0, 4.0), tau=vs.times(1e-4, 1e3),
           Q=st.floats(0.0, 1.0))
    def full_width_kernel_is_circulant(side, beta, tau, Q):
        spec = power_spectrum_2d(side, beta=beta)
        got = arch.log_generated_variance(spec, tau, Q=Q, P=side)
        ref = theory.get("circulant").log_generated_variance(spec, tau, Q=Q, N=spec.size)
        t = tol("exact-identity")
        assert np.max(np.abs(got - ref)) <= t.rel * max(1.0, np.max(np.abs(ref))), (got, ref)
    return full_width_kernel_is_circulant


@prop("all-taps-is-linear", applies=lambda arch: _image_arch(arch) and not _shift_invariant(arch),
      skip_reason="only for the locally connected 2-D control")
def _all_taps(arch):
    from theory.local import LocalOperator

    @given(seed=st.integers(0, 2**16), side=st.sampled_from([3, 5]), sigma=vs.log_uniform(1e-3, 50),
           tau=vs.times(1e-3, 1e2), Q=st.floats(0.0, 1.0))
    def all_taps_equal_linear(seed, side, sigma, tau, Q):
        ds = random_images(side, seed)
        W = LocalOperator("local", ds.cov, ds.shape, side).weights(np.array([sigma]), tau, Q=Q)[0]
        psi = theory.get("linear").weight(ds.lam, sigma, tau, Q=Q)
        assert np.max(np.abs(W - (ds.U * psi) @ ds.U.T)) <= tol("exact-identity").rel
    return all_taps_equal_linear


@prop("simultaneity-claim", applies=_shift_invariant, max_examples=4,
      skip_reason="the claim is about shift-invariant (weight-sharing) 2-D architectures")
def _simultaneity(arch):
    from numerics import data
    from verify.localconv import analysis as L

    @given(seed=st.integers(0, 2**16), top=vs.log_uniform(0.1, 10.0), r1=vs.log_uniform(3.0, 30.0),
           r2=vs.log_uniform(3.0, 30.0))
    def simultaneous_on_nonstationary_not_on_stationary(seed, top, r1, r2):
        lam = [top, top / r1, top / (r1 * r2)]  # a stationary spectrum spanning ≥ 1 decade
        ds = random_images(6, seed)
        S = L.flag(arch.name, ds, L.measurement(ds, "pcs"), 3, "random").simultaneity
        assert S < SIMULTANEOUS, f"non-stationary random covariance: S = {S:.2f} ≥ {SIMULTANEOUS}"
        spec = arch.as_spectrum(lam)
        side = int(round(np.sqrt(spec.size)))
        st_ds = data.stationary2d(side, power=spec)
        S = L.flag(arch.name, st_ds, L.measurement(st_ds, "pcs"), 3, "stationary").simultaneity
        assert not S < SIMULTANEOUS, f"stationary spectrum: S = {S:.2f} < {SIMULTANEOUS}"
    return simultaneous_on_nonstationary_not_on_stationary
