"""The numbers of an agreement report (report.json, data.npz) against independent computations:
emergence times by scipy root finding on a scipy quadrature of the sampling integral (Lemma 4.1) with
the gain written out here (Prop. eq. 7), exponents by an independent least-squares fit with each Q's own
v₀ (Prop. 4.2), the theory's local exponents of theory.md §4.2, and the agreement errors recomputed from
the trained arrays."""
import json

import numpy as np
import pytest
from scipy import integrate, optimize

import theory

S0, ST = 0.002, 80.0


def psi(lam, sigma, tau, Q=0.1):
    """Prop. eq. 7, written out independently of theory/."""
    K = lam / (lam + sigma**2)
    return K + (Q - K) * np.exp(-2.0 * tau * (sigma**2 + lam))


def quad_log_variance(lam, tau, Q=0.1, s0=S0, sT=ST):
    """ln λ̃ = ln σ_T² − 2 ∫ (1 − ψ) d ln σ (Lemma 4.1) by scipy quad."""
    val, _ = integrate.quad(lambda s: 1.0 - psi(lam, np.exp(s), tau, Q), np.log(s0), np.log(sT),
                            limit=400, epsabs=1e-12, epsrel=1e-12)
    return np.log(sT**2) - 2.0 * val


def v0(Q):
    return S0 ** (2 * (1 - Q)) * ST ** (2 * Q)  # Prop. 4.2, τ = 0


@pytest.fixture(scope="module")
def rep(quick_report):
    """The linear part of test_report's quick report (built once per session)."""
    _, folder = quick_report
    return json.loads((folder / "report.json").read_text())["architectures"]["linear"], \
        dict(np.load(folder / "data.npz"))


def test_v0_and_emergence_times(rep):
    table, data = rep
    assert table["v0"] == pytest.approx(v0(0.1), rel=1e-12) and table["v0"] == pytest.approx(3.3e-5, rel=0.01)
    lam, ts = data["linear/lam"], data["linear/tau_star_geometric"]
    for k in np.linspace(0, lam.size - 1, 5).astype(int):
        thr = 0.5 * np.log(v0(0.1) * lam[k])  # geometric threshold, in logs
        if lam[k] < 2 * v0(0.1):
            continue
        root = optimize.brentq(lambda x: quad_log_variance(lam[k], np.exp(x)) - thr, np.log(1e-8), np.log(1e6),
                               xtol=1e-12)
        assert ts[k] == pytest.approx(np.exp(root), rel=1e-7), k


def _fit(lam, ts, Q):
    """Independent least squares of ln τ* on ln λ over increasing modes outside the gray zone."""
    ratio = v0(Q) / lam
    sel = np.isfinite(ts) & (ratio <= 0.5)
    if sel.sum() < 2:
        return np.nan, int(sel.sum())
    slope = np.polyfit(np.log(lam[sel]), np.log(ts[sel]), 1)[0]
    return -slope, int(sel.sum())


def test_exponent_table_uses_each_Qs_own_v0(rep):
    table, data = rep
    lam = data["linear/lam"]
    for key, fits in table["exponents"].items():
        Q, criterion = float(key.split()[0][2:]), key.split()[1]
        ts = theory.emergence_time("linear", lam, criterion=criterion, Q=Q)
        alpha, n = _fit(lam, ts, Q)
        assert fits["increasing"]["n"] == n, key
        if n >= 2:
            assert fits["increasing"]["alpha"] == pytest.approx(alpha, rel=1e-9), key


def test_exponent_within_theorys_local_exponents(rep):
    """theory.md §4.2: one-layer, Q = 0.1, geometric, local α from 1.055 (λ = 1e−3) to 1.005 (λ = 1e2)."""
    table, data = rep
    lam = data["linear/lam"]
    fit = table["exponents"]["Q=0.1 geometric"]["increasing"]
    assert lam.min() >= 1e-3 * 0.5 and lam.max() <= 1e2
    assert 1.005 <= fit["alpha"] <= 1.055
    assert table["fits"]["geometric"]["increasing"]["alpha"] == fit["alpha"]


def test_agreement_errors_recomputed(rep):
    table, data = rep
    a = table["agreement"]
    lam, lev, tau = data["linear/trained_lam"], data["linear/trained_levels"], data["linear/trained_tau"]
    gains, meas = data["linear/trained_gains"], data["linear/trained_log_variance"]
    theory_psi = psi(lam[None, None, :], lev[None, :, None], tau[:, None, None])
    assert a["worst_weight_error"] == pytest.approx(np.max(np.abs(gains - theory_psi)), rel=1e-9, abs=1e-15)
    ref = np.array([[quad_log_variance(lk, t, s0=lev[0], sT=lev[-1]) for lk in lam] for t in tau])
    assert a["worst_log_variance_error"] == pytest.approx(np.max(np.abs(meas - ref)), rel=1e-6, abs=1e-9)
    assert 0 < a["worst_log_variance_error"] <= a["log_variance_tolerance"]["abs"]
    # the measured law of aligned weights is the trapezoid rule of the trained gains in ln σ (Lemma 4.1)
    trap = np.log(lev[-1] ** 2) - 2 * np.trapezoid(1 - gains, np.log(lev), axis=1)
    np.testing.assert_allclose(meas, trap, atol=1e-8)
