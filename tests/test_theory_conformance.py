"""Conformance suite run by every registered architecture (a new one inherits it unchanged).

Symbolic derivation checks, float64 vs mpmath, closed form vs independent scipy quadrature,
finiteness over the whole range, and the ordering of emergence times.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

import theory
from verify import strategies as vs
from verify.tolerances import tol

ARCHS = theory.available()


def spectrum_for(arch, lam):
    """A coupled architecture needs a whole valid spectrum; others get the modes as given."""
    return arch.as_spectrum(lam)


@pytest.mark.parametrize("name", ARCHS)
def test_derivation_checks_pass(name):
    d = theory.get(name).derive()
    bad = [f"{c.name}: {c.detail} {c.counterexample or ''}" for c in d.checks if not c.ok]
    assert not bad, bad
    assert any(c.status == "symbolic" for c in d.checks)


@pytest.mark.parametrize("name", ARCHS)
@given(lam=st.lists(vs.variances(), min_size=4, max_size=4), tau=vs.times(), data=st.data())
def test_float64_equals_mpmath(name, lam, tau, data):
    arch = theory.get(name)
    Q = data.draw(vs.gains(name))
    lam = spectrum_for(arch, lam)
    fast = arch.log_generated_variance(lam, tau, Q=Q)
    ref = arch.log_generated_variance(lam, tau, Q=Q, dps=30)
    t = tol("float64-vs-mpmath")
    assert np.all(np.abs(fast - ref) <= t.rel * np.maximum(1.0, np.abs(ref))), (fast, ref)
    sigma = data.draw(vs.log_uniform(1e-3, 1e2))
    w, w_ref = arch.weight(lam, sigma, tau, Q=Q), arch.weight(lam, sigma, tau, Q=Q, dps=30)
    assert np.allclose(w, w_ref, rtol=t.rel, atol=1e-14), (w, w_ref)


def _quad_log_variance(arch, lam, k, tau, Q):
    """ln λ̃_k by scipy quad over the architecture's sampling variable, using only `weight`."""
    smp = arch.sampling
    if smp is theory.get("linear").sampling:
        f = lambda s: 1.0 - arch.weight(lam, np.exp(s), tau, Q=Q)[k]  # noqa: E731
        val, _ = integrate.quad(f, np.log(0.002), np.log(80.0), limit=400, epsabs=1e-13, epsrel=1e-13)
        return np.log(80.0**2) - 2 * val
    return smp.quad_reference(arch, lam, k, tau, Q)


@pytest.mark.parametrize("name", ARCHS)
@given(lam=st.lists(vs.variances(), min_size=3, max_size=3), tau=vs.times(), data=st.data())
def test_generated_variance_equals_quadrature(name, lam, tau, data):
    arch = theory.get(name)
    Q = data.draw(vs.gains(name))
    lam = spectrum_for(arch, lam)
    fast = arch.log_generated_variance(lam, tau, Q=Q)
    ref = np.array([_quad_log_variance(arch, lam, k, tau, Q) for k in range(lam.size)])
    t = tol("closed-form-vs-quadrature")
    assert np.all(np.abs(fast - ref) <= t.rel * np.maximum(1.0, np.abs(ref))), (fast, ref)


@pytest.mark.parametrize("name", ARCHS)
def test_finite_over_whole_range(name):
    arch = theory.get(name)
    lam = spectrum_for(arch, np.geomspace(1e-4, 1e3, 16))
    tau = np.concatenate([[0.0], np.geomspace(1e-5, 1e4, 12)])
    for Q in np.linspace(*arch.q_range, 5):
        lt = arch.generated_variance(lam[None, :], tau[:, None], Q=Q)
        assert np.all(np.isfinite(lt)) and np.all(lt > 0), (Q, lt)
        w = arch.weight(lam[None, :], np.geomspace(1e-3, 1e2, 7)[:, None], 1.0, Q=Q)
        assert np.all(np.isfinite(w))


@pytest.mark.parametrize("name", ARCHS)
@given(lam=st.lists(vs.variances(1e-3, 1e2), min_size=5, max_size=5, unique=True))
def test_emergence_order_follows_variance(name, lam):
    arch = theory.get(name)
    lam = np.sort(spectrum_for(arch, lam))
    ts = theory.emergence_time(arch, lam, Q=0.1)
    v0 = float(arch.initial_variance(0.1))
    inc = (lam > 2 * v0) & np.isfinite(ts)
    assert np.all(np.diff(ts[inc]) < 0), (lam[inc], ts[inc])  # larger λ emerges first
