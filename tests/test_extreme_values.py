"""Extreme-but-valid inputs (issue 8, §3): inside an architecture's declared `domain` the float64 path
is finite and equals an independent high-precision computation; outside it the input is refused with a
SpecbiasError naming the range. The true values here come from mpmath written in this file (matrix
exponentials, quadrature, exact solutions), never from the code under test."""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import theory
from theory import SpecbiasError
from theory.archs.patch_conv import decompose

LIN, LM, FM, DL, PC = (theory.get(n) for n in ("linear", "linear_mean", "flow_matching", "deep_linear",
                                               "patch_conv"))


@pytest.mark.parametrize("call, what", [
    (lambda: LIN.weight(1.0, 1e200, 0.0), "sigma must lie in"),
    (lambda: LIN.weight(1e308, 1e154, 1.0), "lam must lie in"),
    (lambda: LM.log_generated_variance([1e154, 1e200], 1.0), "lam must lie in"),
    (lambda: LM.weight(1.0, 1.0, 1.0, m=1e200), "|m| <= 1e50"),
    (lambda: FM.log_generated_variance(1e300, 1e-300), "lam must lie in"),
    (lambda: DL.log_generated_variance([1e-240, 1e-300], 1.0), "lam must lie in"),
    (lambda: DL.weight(1e-300, 1.0, 1.0), "lam must lie in"),
    (lambda: PC.log_generated_variance(PC.as_spectrum(np.geomspace(1e-40, 1e10, 6)), 1.0), "span"),
    (lambda: LIN.log_generated_variance(1.0, 1e101), "tau must lie in"),
    (lambda: LIN.weight(1.0, 1.0, 1.0, eta=1e60), "eta must lie in"),
])
def test_outside_the_declared_range_is_refused(call, what):
    with pytest.raises(SpecbiasError) as err:
        call()
    assert what in str(err.value) and "\n" not in str(err.value)


def _linear_weight_mp(lam, sigma, tau, Q, eta=1):
    """Prop. eq. 7 at 400 digits: K + (Q − K) e^{−2ητ(σ² + λ)}, K = λ/(λ + σ²)."""
    with mp.workdps(400):
        lam, sigma, tau = mp.mpf(lam), mp.mpf(sigma), mp.mpf(tau)
        K = lam / (lam + sigma**2)
        return float(K + (Q - K) * mp.exp(-2 * eta * tau * (sigma**2 + lam)))


@pytest.mark.parametrize("lam, sigma, tau, Q", [(1.0, 1e50, 0.0, 0.0), (1e100, 1e50, 1.0, 1.0),
                                                (1e-100, 1e-50, 1e100, 0.3), (1e100, 1e-50, 1e-300, 0.3)])
def test_linear_weight_at_the_range_edges(lam, sigma, tau, Q):
    """weight(1, 1e200, 0) was NaN and weight(1e308, 1e154, 1) gave 0: their in-range edges."""
    got = float(LIN.weight(lam, sigma, tau, Q=Q))
    assert got == pytest.approx(_linear_weight_mp(lam, sigma, tau, Q), rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("lam", [1e-100, 1e100])
@pytest.mark.parametrize("tau", [1e-3, 1.0])
def test_linear_mean_weight_equals_matrix_exponential(lam, tau):
    """w(τ) = first entry of θ* + e^{−2ητM}(θ(0) − θ*), e^{−2ητM} by mp.expm at 300 digits (§2.2)."""
    m, Q, sigma = 1.0, 0.2, 1.0
    with mp.workdps(300):
        s = mp.mpf(lam) + sigma**2
        M = mp.matrix([[s + m**2, m], [m, 1]])
        K = mp.mpf(lam) / s
        E = mp.expm(-2 * tau * M)
        ref = float(K + E[0, 0] * (Q - K) + E[0, 1] * (0 - (1 - K) * m))
    assert float(LM.weight(lam, sigma, tau, Q=Q, m=m)) == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_flow_matching_at_huge_variance_and_tiny_time():
    """λ = 1e100, τ = 1e−100 (Aλ = 2: far from both limits): ln λ̃ = 2∫₀¹ w dt by mpmath quadrature
    of w = w* + (Q − w*)e^{−2τg}, g = t²λ + (1 − t)² (§2.7), split where t²λ ~ (1 − t)²."""
    lam, tau, Q = mp.mpf(1e100), mp.mpf(1e-100), mp.mpf("0.25")
    with mp.workdps(60):
        def w(t):
            g = t**2 * lam + (1 - t) ** 2
            w_opt = (t * lam - (1 - t)) / g
            return w_opt + (Q - w_opt) * mp.exp(-2 * tau * g)
        knots = [mp.mpf(0)] + [mp.mpf(10) ** k for k in range(-60, 1, 2)]
        ref = float(2 * mp.quad(w, knots))
    assert float(FM.log_generated_variance(1e100, 1e-100, Q=0.25)) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("L", [3, 4])
def test_deep_linear_at_the_smallest_variance(L):
    """λ = 1e−100 (λ ≤ 1e−240 returned inf): with λ ≪ σ² the flow is dψ/dτ = −2ηLσ²ψ^{3−2/L} to
    relative 1e−100, whose exact solution is ψ = (Q^{−q'} + 2ηLσ²q'τ)^{−1/q'}, q' = 1 − 2/L + 1."""
    lam, sigma, tau, Q = 1e-100, 1.0, 0.7, 0.4
    qp = 2.0 - 2.0 / L
    exact = (Q**-qp + 2 * L * sigma**2 * qp * tau) ** (-1 / qp)
    assert float(DL.weight(lam, sigma, tau, Q=Q, L=L)) == pytest.approx(exact, rel=1e-12)
    assert np.isfinite(DL.log_generated_variance([1e-100, 1.0, 1e100], 1.0, L=L)).all()


def _patch_gain_mp(spectrum, K, sigma, tau, Q, eta=1):
    """γ_k from the filter w(τ) = w* + e^{−2Nητ(σ²I + Σ_patch)}(Q e₀ − w*) by mp.expm (§2.6), with
    Σ_patch from the autocovariance computed here: no eigen-decomposition at all."""
    n, r = len(spectrum), K // 2
    with mp.workdps(80):
        lam = [mp.mpf(x) for x in spectrum]
        acov = [mp.fsum(lam[k] * mp.cos(2 * mp.pi * k * d / n) for k in range(n)) / n for d in range(n)]
        S = mp.matrix([[acov[(b - a) % n] for b in range(K)] for a in range(K)])
        A = S + sigma**2 * mp.eye(K)
        e0 = mp.matrix([1 if i == r else 0 for i in range(K)])
        w_opt = mp.lu_solve(A, S * e0)
        w = w_opt + mp.expm(-2 * n * eta * tau * A) * (Q * e0 - w_opt)
        return np.array([float(mp.fsum(w[i] * mp.cos(2 * mp.pi * (i - r) * k / n) for i in range(K)))
                         for k in range(n)])


def test_patch_conv_at_the_widest_declared_spectrum():
    """A spectrum spanning 1e12 (the declared cap; ≥ 1e20 gave 0/−inf/NaN) at top 1e10: gains equal
    the matrix-exponential reference, and ln λ̃ is finite."""
    spec = PC.as_spectrum(np.array([1e10, 3e4, 1e-2, 2.0, 1e-2]))
    assert spec.max() / spec.min() == pytest.approx(1e12)
    for sigma, tau in ((1e-3, 1e-9), (1.0, 1e-6), (30.0, 1e-3)):
        got = PC.weight(spec, sigma, tau, Q=0.3)
        np.testing.assert_allclose(got, _patch_gain_mp(list(spec), 5, sigma, tau, 0.3), rtol=1e-9,
                                   atol=1e-12)
    assert np.isfinite(PC.log_generated_variance(spec, np.array([[0.0], [1e-6], [1.0], [1e6]]))).all()


def test_patch_eigenvalues_stay_inside_the_spectrum_range():
    """Σ_patch compresses the circulant, so its eigenvalues lie in [min λ, max λ] (interlacing); eigh
    alone gave a negative ν (then NaN) on a spectrum spanning 1e50."""
    spec = PC.as_spectrum(np.geomspace(1e-40, 1e10, 6))
    nu, _ = decompose(spec, 5)
    assert nu.min() >= spec.min() and nu.max() <= spec.max()


@pytest.mark.parametrize("name", ["two_layer", "sym_two_layer"])
def test_logistic_reference_at_tiny_variance(name):
    """λ = 1e−300: the reference at dps = 50 was wrong (1 − e^{−8ηλτ} rounds to 0 at 50 digits). True
    value: ln σ_T² − 2∫(1 − ψ(e^s)) ds with ψ = KQ/((K − Q)E + Q) (Prop. 5.1) at 700 digits."""
    arch = theory.get(name)
    lam, tau, Q = mp.mpf(1e-300), mp.mpf(1), mp.mpf("0.1")

    def one_minus_psi(s):
        with mp.workdps(700):
            sig2 = mp.exp(2 * s)
            K = lam / (lam + sig2)
            E = mp.exp(-arch.rate * lam * tau)
            value = 1 - K * Q / ((K - Q) * E + Q)
        return +value
    with mp.workdps(25):
        ref = float(mp.log(mp.mpf(80) ** 2)
                    - 2 * mp.quad(one_minus_psi, mp.linspace(mp.log(0.002), mp.log(80), 9)))
    assert float(arch.log_generated_variance(1e-300, 1.0, dps=50)) == pytest.approx(ref, rel=1e-12)
    assert float(arch.log_generated_variance(1e-300, 1.0)) == pytest.approx(ref, rel=1e-12)
    assert float(arch.weight(1e-300, 1e50, 1e-100, Q=1.0, eta=1e50)) == pytest.approx(
        1 / (arch.rate * 1e-100 * 1e50 * 1e100), rel=1e-12)  # K/(1 − E) → 1/(mητσ²): E underflowed


class _RoundsAtTheTop(theory.get("linear").__class__):
    """A float64 path that silently loses digits near the top of its declared λ range (float32)."""

    name = "rounds_at_the_top"

    def _weight(self, lam, sigma, tau, Q, eta, **p):
        w = super()._weight(lam, sigma, tau, Q, eta, **p)
        return np.where(lam > 1e50, np.float32(w), w)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        lv = super()._log_variance(lam, tau, Q, eta, sigma0, sigmaT, **p)
        return np.where(lam > 1e50, np.float32(lv), lv)


def test_range_edge_property_catches_a_path_that_is_wrong_at_the_edge():
    from verify.properties.engine import run_property

    theory.register(_RoundsAtTheTop())
    try:
        wrong = run_property("rounds_at_the_top", "float64-vs-mpmath-range-edges", "ci")
        right = run_property("linear", "float64-vs-mpmath-range-edges", "ci")
    finally:
        theory.unregister("rounds_at_the_top")
    assert not wrong.ok and "mpmath" in wrong.message
    assert right.ok, right.message
