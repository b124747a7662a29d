"""Checkers of the local-convolution study that each fail on one specific wrong implementation (issue 16
§6): S computed as |α| instead of the spread of ln τ*; a PC given another PC's Fourier weights;
`compression()` not computed from the data; "full width" computed with a local kernel. Every known
answer is an independent computation (dense DFT matrix, explicit shifts, scalar root finding) or a
law of theory.md §2.5 (the full-width circulant is diagonal in Fourier modes, τ* ∝ 1/λ there)."""
import json

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import spearmanr

import theory
from numerics import data, image_sets
from verify import departure as D
from verify.localconv import analysis as L
from verify.localconv import mechanism as M

Q = 0.1
V0 = float(theory.get("linear").initial_variance(Q))


@pytest.fixture(scope="module")
def camera():
    ds = image_sets.load("camera 8×8")
    return ds, L.measurement(ds, "pcs")


def _dense_fourier(ds):
    """Fourier variances Re(F*ΣF)_ff and the weights |F*u|² of the data PCs, from the dense DFT matrix."""
    F = data.fourier_matrix(ds.shape)
    spec = np.real(np.einsum("df,de,ef->f", F.conj(), ds.cov, F))
    return spec, np.abs(F.conj().T @ ds.U) ** 2


def _shift_averaged(ds):
    """Σ̄ = mean over the H·W cyclic image shifts s of Σ[s(i), s(j)] (explicit permutations, C = 1)."""
    _, H, W = ds.shape
    idx = np.arange(H * W).reshape(H, W)
    perms = [np.roll(idx, (a, b), axis=(0, 1)).reshape(-1) for a in range(H) for b in range(W)]
    return np.mean([ds.cov[np.ix_(p, p)] for p in perms], axis=0)


# ---- S is the spread of ln τ*, not the exponent ---------------------------------------------------
def test_simultaneity_is_the_spread_of_tau_star_not_the_exponent():
    """A shuffled inverse law: ln τ* has the spread of ln λ (S = 1 exactly) but no power law (α far
    from ±1); and an inverted law τ* ∝ λ has S = 1 with α = −1: the sign lives in α, the spread in S."""
    lam = np.geomspace(1e-2, 1e2, 12)
    ts = (0.3 / lam)[np.random.default_rng(0).permutation(12)]
    f = D.classify("conv2d", {"geometric": ts}, lam, V0, lam, lam, Q)
    alpha = f.fits["geometric"]["increasing"].alpha
    assert abs(abs(alpha) - 1) > 0.3  # the table tells S and |α| apart
    assert abs(f.simultaneity - 1.0) < 1e-12
    inv = D.classify("conv2d", {"geometric": 0.3 * lam}, lam, V0, lam, lam, Q)
    assert abs(inv.simultaneity - 1.0) < 1e-12 and abs(inv.fits["geometric"]["increasing"].alpha + 1) < 1e-9


def test_flag_index_is_recomputed_from_its_own_tau_star(camera):
    ds, m = camera
    f = L.flag("conv2d", ds, m, 3, "camera")
    ts = f.tau_star["geometric"]
    ok = np.isfinite(ts) & (V0 / m.target <= 0.5)
    assert abs(f.simultaneity - np.std(np.log(ts[ok])) / np.std(np.log(m.target[ok]))) < 1e-12


# ---- each PC its own Fourier weights; order and sign of τ* against λ -------------------------------
@pytest.mark.parametrize("name", ["digits", "camera 8×8"])
def test_each_pc_gets_its_own_fourier_weights(name):
    ds = M.study_sets()[name]()
    m = L.measurement(ds, "pcs")
    modes, w = L.weights(theory.get("conv2d"), ds, m)
    spec, want = _dense_fourier(ds)
    assert np.allclose(modes, spec, rtol=1e-9, atol=1e-12 * spec.max())
    assert np.max(np.abs(w - want)) < 1e-12


@pytest.mark.parametrize("name, P", [("circulant", 0), ("conv2d", 3)])
def test_tau_star_falls_with_lambda_on_stationary_images(name, P):
    """Stationary data: the PCs are Fourier modes, each shift-invariant model's eigenmodes, so τ* falls
    with λ along the PCs with exponent ≈ 1 (theory.md §2.5; exactly the inverse law at full width)."""
    ds = data.stationary2d(8, beta=2.0)
    f = L.flag(name, ds, L.measurement(ds, "pcs"), max(P, 1), "stationary")
    ts, fit = f.tau_star["geometric"], f.fits["geometric"]["increasing"]
    ok = np.isfinite(ts)
    assert spearmanr(ts[ok], f.lam[ok])[0] < -0.95
    assert 0.9 <= fit.alpha <= 1.1, fit


# ---- compression from the data ------------------------------------------------------------------------
@pytest.mark.parametrize("name, expect", [("digits", (0.1, 0.3)), ("camera 8×8", (0.8, 1.0)),
                                          ("stationary 8×8", (0.999, 1.001))])
def test_compression_is_computed_from_the_data(name, expect):
    ds = M.study_sets()[name]()
    bar = np.einsum("dk,de,ek->k", ds.U, _shift_averaged(ds), ds.U)
    lam = np.einsum("dk,de,ek->k", ds.U, ds.cov, ds.U)
    ok = lam > 1e-6 * lam.max()
    want = np.std(np.log(bar[ok])) / np.std(np.log(lam[ok]))
    assert expect[0] < want < expect[1]  # the data sets differ: a constant cannot pass all three
    assert abs(L.compression(ds) - want) < 1e-9


# ---- full width is the data's circulant, distinct from a local kernel ------------------------------
def _full_width(ds, tau):
    """λ̃ along the PCs (T, m) of the full-width circulant, independently: every Fourier mode f is a
    one-layer linear model on Σ̃_f at rate HW·η (theory.md §2.5), mixed with the dense weights |F*u|²."""
    _, H, W = ds.shape
    spec, w = _dense_fourier(ds)
    lt = theory.get("linear").generated_variance(spec[None, :], np.asarray(tau)[:, None], Q=Q, eta=H * W)
    return lt @ w


def _full_width_S(ds, target):
    def g(ln_tau, k):
        return float(np.log(_full_width(ds, [np.exp(ln_tau)])[0, k] / np.sqrt(V0 * target[k])))

    keep = V0 / target <= 0.5
    grid = np.log(np.geomspace(1e-8, 1e8, 400))
    ts = []
    for k in np.nonzero(keep)[0]:
        vals = np.log(_full_width(ds, np.exp(grid))[:, k] / np.sqrt(V0 * target[k]))
        i = int(np.argmax(vals >= 0))
        ts.append(np.exp(brentq(g, grid[i - 1], grid[i], args=(k,), xtol=1e-12)))
    return np.std(np.log(ts)) / np.std(np.log(target[keep]))


def test_full_width_is_the_circulant_of_the_data_not_a_local_kernel(camera):
    ds, m = camera
    tau = np.geomspace(1e-4, 1e2, 7)
    want = _full_width(ds, tau)
    assert np.max(np.abs(np.log(L.trajectory("circulant", ds, m, 0, tau) / want))) < 1e-9
    # the data tell full width from a 3 × 3 kernel: the check above can fail
    assert np.max(np.abs(np.log(L.trajectory("conv2d", ds, m, 3, tau) / want))) > 0.1
    S = _full_width_S(ds, m.target)
    assert abs(M.survey("camera 8×8", ds, kernels=(3,)).S_full - S) < 1e-6
    assert abs(L.flag("circulant", ds, m, 0, "camera").simultaneity - S) < 1e-6
    assert abs(S - M.simultaneity_along("conv2d", ds, m, 3)) > 0.3


def test_report_full_width_rows_follow_the_inverse_law_along_fourier_modes(quick_report):
    """The report's departure table: the full-width circulant along real Fourier modes of digits is the
    inverse law (its eigenmodes, theory.md §2.5); a 3 × 3 kernel there gives α ≈ 0.8."""
    _, folder = quick_report
    tables = json.loads((folder / "report.json").read_text())["local_convolution"]
    rows = [f for f in tables["flags"] if f["model"] == "circulant (full width)" and f["basis"] == "fourier"]
    assert rows and all(0.95 <= f["fits"]["geometric"]["increasing"]["alpha"] <= 1.05 for f in rows)
    assert all(0.95 <= f["simultaneity"] <= 1.05 for f in rows)


def test_report_states_the_mechanism_on_every_study_set(quick_report, camera):
    """The report's mechanism table covers every data set of the study, its claims hold there, and its
    full-width S on camera 8×8 is the independent circulant's."""
    _, folder = quick_report
    table = json.loads((folder / "report.json").read_text())["local_convolution"]["mechanism"]
    assert [r["dataset"] for r in table] == list(M.study_sets())
    assert "Claims checked on these rows: all hold." in (folder / "report.md").read_text()
    ds, m = camera
    row = next(r for r in table if r["dataset"] == "camera 8×8")
    assert abs(row["S_full"] - _full_width_S(ds, m.target)) < 1e-6


def test_shared_linear_reference_equals_a_fresh_one_and_is_not_aliased():
    target = np.geomspace(1e-2, 1e2, 9)
    a = D.linear_reference(target, ("geometric",), Q)
    a["geometric"][:] = 0.0  # a caller's edit must not reach the next caller
    b = D.linear_reference(target, ("geometric",), Q)
    assert np.array_equal(b["geometric"], theory.emergence_time("linear", target, criterion="geometric", Q=Q))
