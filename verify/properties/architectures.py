"""The properties every registered architecture is checked against (`specbias verify`): derivation,
float64 vs mpmath, closed form vs quadrature, finiteness, consistency, emergence order, exponent range,
trained model vs theory and the weight-sharing rate. They register with verify.properties.engine.prop.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

import theory
from theory.sampling import DENOISER
from verify import consistency
from verify.properties import strategies as vs
from verify.properties.engine import prop
from verify.setups import carries_mean, default_data, has_model, property_sizes, training_setup
from verify.tolerances import tol


def _ln_error(a, b) -> float:
    """Largest error of ln λ̃, relative once |ln λ̃| > 1 (λ̃ relative error below that)."""
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


@prop("derivation")
def _derivation(arch):
    def derivation_checks_pass():
        bad = [f"{c.name}: {c.detail}" + (f" at {c.counterexample}" if c.counterexample else "")
               for c in arch.derive().checks if not c.ok]
        assert not bad, "; ".join(bad)
    return derivation_checks_pass


def _float64_matches_mpmath(arch, lam, x, tau, Q, eta=1.0) -> None:
    """ln λ̃ and ψ from the float64 path equal the 30-digit mpmath reference (finite, within tolerance)."""
    t = tol("float64-vs-mpmath")
    fast, ref = (arch.log_generated_variance(lam, tau, Q=Q, eta=eta, dps=d) for d in (None, 30))
    assert np.all(np.isfinite(fast)) and _ln_error(fast, ref) <= t.rel, \
        f"ln λ̃ float64 {fast} vs mpmath {ref} ({t.reason})"
    w, w_ref = (arch.weight(lam, x, tau, Q=Q, eta=eta, dps=d) for d in (None, 30))
    assert np.allclose(w, w_ref, rtol=t.rel, atol=1e-14), f"ψ float64 {w} vs mpmath {w_ref}"


@prop("float64-vs-mpmath", max_examples=8)
def _mpmath(arch):
    @given(lam=st.lists(vs.variances(), min_size=3, max_size=3), tau=vs.times(),
           x=vs.log_uniform(1e-3, 1e2), data=st.data())
    def float64_equals_mpmath(lam, tau, x, data):
        Q = data.draw(vs.gains(arch.name), label="Q")
        _float64_matches_mpmath(arch, arch.as_spectrum(lam), min(x, 1.0) if arch.sampling is not DENOISER
                                else x, tau, Q)
    return float64_equals_mpmath


@prop("float64-vs-mpmath-range-edges", max_examples=4)
def _mpmath_edges(arch):
    @given(point=vs.domain_points(arch))
    def float64_equals_mpmath_over_the_declared_range(point):
        lam, x, tau, eta, Q = point
        _float64_matches_mpmath(arch, lam, x, tau, Q, eta)
    return float64_equals_mpmath_over_the_declared_range


def quad_log_variance(arch, lam, k: int, tau: float, Q: float) -> float:
    """ln λ̃_k by scipy.integrate.quad of the sampling integrand built from `weight` alone."""
    if arch.sampling is not DENOISER:
        return arch.sampling.quad_reference(arch, lam, k, tau, Q)
    f = lambda s: 1.0 - arch.weight(lam, np.exp(s), tau, Q=Q)[k]  # noqa: E731
    val, _ = integrate.quad(f, np.log(0.002), np.log(80.0), limit=400, epsabs=1e-13, epsrel=1e-13)
    return float(np.log(80.0**2) - 2 * val)


def quad_log_variances(arch, lam, tau: float, Q: float) -> np.ndarray:
    """ln λ̃ of every mode at once: scipy.integrate.quad_vec (one adaptive Gauss–Kronrod subdivision
    for the whole vector, max-norm error control) of the same integrand as quad_log_variance; it
    matches the per-mode quad to ~1e−14 and evaluates `weight` once per node instead of once per
    node and mode."""
    if arch.sampling is not DENOISER:
        return np.array([quad_log_variance(arch, lam, k, tau, Q) for k in range(lam.size)])
    f = lambda s: 1.0 - arch.weight(lam, np.exp(s), tau, Q=Q)  # noqa: E731
    val, _ = integrate.quad_vec(f, np.log(0.002), np.log(80.0), limit=2000, epsabs=1e-13, epsrel=1e-13,
                                norm="max")
    return np.log(80.0**2) - 2 * val


@prop("closed-form-vs-quadrature", max_examples=8)
def _quadrature(arch):
    @given(lam=st.lists(vs.variances(), min_size=3, max_size=3), tau=vs.times(), data=st.data())
    def generated_variance_equals_quadrature(lam, tau, data):
        Q = data.draw(vs.gains(arch.name), label="Q")
        lam = arch.as_spectrum(lam)
        fast = arch.log_generated_variance(lam, tau, Q=Q)
        ref = quad_log_variances(arch, lam, tau, Q)
        t = tol("closed-form-vs-quadrature")
        assert _ln_error(fast, ref) <= t.rel, f"ln λ̃ {fast} vs scipy quad {ref} ({t.reason})"
    return generated_variance_equals_quadrature


@prop("finite-in-range")
def _finite(arch):
    def finite_over_whole_range():
        lam = arch.as_spectrum(np.geomspace(1e-4, 1e3, 12))
        tau = np.concatenate([[0.0], np.geomspace(1e-5, 1e4, 10)])
        for Q in np.linspace(*arch.q_range, 5):
            lt = arch.generated_variance(lam[None, :], tau[:, None], Q=Q)
            assert np.all(np.isfinite(lt) & (lt > 0)), f"non-finite λ̃ at Q = {Q}"
            xs = np.linspace(0.0, 1.0, 7) if arch.sampling is not DENOISER else np.geomspace(1e-3, 1e2, 7)
            assert np.all(np.isfinite(arch.weight(lam[None, :], xs[:, None], 1.0, Q=Q))), Q
    return finite_over_whole_range


@prop("consistency")
def _consistency(arch):
    @given(lam=st.lists(vs.variances(1e-3, 1e2), min_size=3, max_size=6), sigma=vs.log_uniform(1e-3, 50),
           tau1=vs.times(1e-3, 10), tau2=vs.times(1e-3, 10), Q=vs.gains(arch.name))
    def consistency_holds(lam, sigma, tau1, tau2, Q):
        sigma = min(sigma, 1.0) if arch.sampling is not DENOISER else sigma  # flow time t ∈ [0, 1]
        bad = [c for c in consistency.check(arch, lam, [sigma], tau1, tau2, Q) if not c.ok]
        assert not bad, "; ".join(f"{c.name}: error {c.error:.3g} > {c.tolerance:g} ({c.reason})"
                                  for c in bad)
    return consistency_holds


@prop("emergence-order")
def _order(arch):
    # distinct to 1e-6 in ln λ: near-equal draws (1 and 1 + 4e−16) round to equal spectrum values at
    # positions that are not mirrored (conv2d's s_a·s_b^{1/π}), which mix other patch eigenmodes
    @given(lam=st.lists(vs.variances(1e-3, 1e2), min_size=3, max_size=6,
                        unique_by=lambda v: round(float(np.log(v)), 6)),
           criterion=vs.criteria())
    def larger_variance_emerges_first(lam, criterion):
        lam = arch.as_spectrum(np.sort(lam))  # sort first: a coupled spectrum must stay valid
        ts = theory.emergence_time(arch, lam, criterion=criterion, Q=0.1)
        order = np.argsort(lam, kind="stable")
        lam, ts = lam[order], ts[order]
        same = np.diff(lam) == 0  # from unique draws: only mirrored pairs λ_k = λ_{N−k} of a spectrum
        assert np.all(np.isnan(ts) | (ts > 0)), f"τ* {ts} not positive"
        assert np.allclose(ts[:-1][same], ts[1:][same], rtol=1e-6, equal_nan=True), \
            f"equal λ, different τ*: {ts[:-1][same]} vs {ts[1:][same]}"
        if arch.emergence_order_caveat:  # declared departure: only the checks above must hold
            return
        inc = (lam > 2 * float(arch.initial_variance(0.1))) & np.isfinite(ts)
        distinct = ~np.isclose(lam[inc][1:], lam[inc][:-1], rtol=1e-9, atol=0.0)  # near-ties: no order
        assert np.all(np.diff(ts[inc])[distinct] < 0), f"τ* {ts[inc]} not decreasing in λ {lam[inc]}"
    return larger_variance_emerges_first


@prop("exponent-range", applies=lambda arch: bool(arch.law.exponent),
      skip_reason="the law declares no exponent range (Law.exponent is empty)")
def _exponent(arch):
    declared = sorted(arch.law.exponent)

    @given(key=st.sampled_from(declared), lo=vs.log_uniform(1e-3, 1e-1), decades=st.floats(1.0, 3.0),
           n=st.integers(6, 12))
    def fitted_exponent_in_predicted_range(key, lo, decades, n):
        criterion, Q = key
        lam = arch.as_spectrum(np.geomspace(lo, min(lo * 10**decades, 1e2), n))
        ts = theory.emergence_time(arch, lam, criterion=criterion, Q=Q)
        fit = theory.fit_exponent(lam, ts, arch.initial_variance(Q))["increasing"]
        rng = arch.law.exponent_range(criterion, Q)
        if fit.n >= 3:
            assert rng[0] <= fit.alpha <= rng[1], (f"{criterion}, Q={Q}: α = {fit.alpha:.4f} outside "
                                                   f"[{rng[0]}, {rng[1]}] (N = {fit.n})")
    return fitted_exponent_in_predicted_range


@prop("theory-vs-numerics", applies=has_model, max_examples=2,
      skip_reason="no torch model declared (set `model` or override `torch_model`)")
def _agreement(arch):
    from numerics import train
    from verify.agreement import compare

    sizes = st.integers(*property_sizes(arch))  # verify.setups decides the data and its sizes

    @given(d=sizes, data=st.data(), seed=st.integers(0, 2**16))
    def trained_model_follows_theory(d, data, seed):
        lam = np.array(data.draw(st.lists(vs.variances(0.05, 5.0), min_size=d, max_size=d), label="lam"))
        Q = data.draw(vs.gains(arch.name).filter(lambda q: q > 0.02), label="Q")
        m = data.draw(st.floats(0.25, 2.0), label="m") if carries_mean(arch) else None
        ds, kw = training_setup(arch, d, lam, seed, m=m)
        run = train.train(arch.name, ds, Q=Q, taus=np.geomspace(1e-3, 10.0, 6), keep_weights=True,
                          progress=False, **kw)
        a = compare(run, ds, ds.name)
        s = a.summary()
        assert a.weights_ok, (f"|Δψ| = {s['worst_weight_error']:.3g} > {a.weight_tol.abs:g} "
                              f"({a.weight_tol.reason})")
        assert a.variance_ok, (f"|Δ ln λ̃| = {s['worst_log_variance_error']:.3g} > {a.logvar_tol.abs:g} "
                               f"({a.logvar_tol.reason})")
    return trained_model_follows_theory


@prop("weight-sharing-multiplies-rate", applies=lambda arch: arch.basis == "fourier" and not arch.coupled,
      max_examples=2, skip_reason="only for full-width weight sharing (basis 'fourier', uncoupled)")
def _shared_rate(arch):
    from numerics import train

    @given(N=st.integers(2, 6), beta=st.floats(0.0, 3.0), tau=vs.times(1e-3, 1.0))
    def learns_N_times_faster_than_linear(N, beta, tau):
        ds = default_data(arch, N, beta=beta)  # a stationary 1/f^β signal (verify.setups)
        lam = ds.basis("fourier")[0]
        sig = np.geomspace(0.01, 10.0, 5)
        shared = theory.get(arch.name).weight(lam[None, :], sig[:, None], tau, **{"N": N})
        pixel = theory.get("linear").weight(lam[None, :], sig[:, None], N * tau)
        assert np.allclose(shared, pixel, rtol=tol("float64-vs-mpmath").rel, atol=1e-15)
        kw = dict(taus=np.array([tau]), progress=False, sigmas=sig)
        conv = train.train(arch.name, ds, **kw).gains[-1]
        dense = train.train("linear", ds, **dict(kw, taus=np.array([N * tau]))).gains[-1]
        t = tol("trajectory-vs-theory")
        assert np.allclose(np.sort(conv, -1), np.sort(dense, -1), atol=t.abs), (
            f"trained {arch.name} at τ vs trained linear at {N}τ differ by "
            f"{np.max(np.abs(np.sort(conv, -1) - np.sort(dense, -1))):.3g}")
    return learns_N_times_faster_than_linear
