"""Emergence conventions (verify.nets.conventions): the authors' reproduce their own code's slopes; each
specbias switch of the ablation ladder has the effect computed here independently; specbias's conventions
are verify.nets.analysis.emergence's.

Fixture tests/data/authors_conventions.npz (made by tests/data/make_authors_conventions.py, outside the
project's code): 40 synthetic trajectories in specbias's layout (row 0 = τ = 0, then 287 checkpoints at
the authors' kind of spacing: every step below 10, then 2, 4, …, 32 up to 5000), with a first-step
transient and checkpoint noise, analysed by the authors' own functions — compute_crossing_points
(smooth_sigma = 1) and fit_regression_log_scale of Animadversio/DiffusionLearningCurve at commit
94965885b5d94a8fcba0c3b6a31b895d3eb5deee (core/trajectory_convergence_lib.py), with the exclusion mask
and the per-direction calls of their Figure_nn_Gaussian_learning_curve notebook — on rows 1.. (their
trajectory starts at the first recorded checkpoint), float64 throughout. Their slope is d ln τ*/d ln λ,
so α = −slope; their τ is the step, ours step × lr (the slope is the same).
tests/data/authors_conventions_mlp.npz: the same, on the trajectories of a real specbias run (the nonlinear
preset's reduced MLP, d = 64, 64 modes, 36 checkpoints, seed 0).
"""
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import theory
from verify.nets import conventions as C
from verify.nets import analysis as NL

DATA = Path(__file__).parent / "data"
FIXTURES = ("authors_conventions.npz", "authors_conventions_mlp.npz")
CRITS = ("geometric", "harmonic", "arithmetic")
DIRS = {"increasing": "increase", "decreasing": "decrease"}


def load(name):
    z = np.load(DATA / name)
    return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def fx():
    return load(FIXTURES[0])


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("crit", CRITS)
def test_authors_conventions_reproduce_the_authors_slopes(name, crit):
    fx = load(name)
    tau = fx["steps"] * fx["lr"]
    out = C.analyse(tau, fx["var"], fx["lam"], crit, "authors")
    want = fx[f"emergence_step_{crit}"] * fx["lr"]
    assert np.array_equal(np.isnan(out["tau_star"]), np.isnan(want))
    assert np.allclose(out["tau_star"][~np.isnan(want)], want[~np.isnan(want)], rtol=1e-12, atol=0)
    assert np.array_equal(out["excluded"], fx[f"excluded_{crit}"])
    for d, theirs in DIRS.items():
        f = out["fits"][d]
        assert f.n == fx[f"n_{crit}_{theirs}"]
        assert abs(f.alpha + fx[f"slope_{crit}_{theirs}"]) < 1e-6
        assert abs(f.r2 - fx[f"r2_{crit}_{theirs}"]) < 1e-6


@pytest.mark.parametrize("label,conv", C.rungs()[1:])
def test_reproduction_fails_when_any_one_convention_differs(fx, label, conv):
    """The reproduction check can fail: every single specbias switch moves the slopes off the authors'."""
    tau = fx["steps"] * fx["lr"]
    fits = C.analyse(tau, fx["var"], fx["lam"], "geometric", conv)["fits"]
    err = max(abs(fits[d].alpha + fx[f"slope_geometric_{t}"]) for d, t in DIRS.items())
    assert err > 1e-3, label


# ---- synthetic trajectories with known crossings ---------------------------------------------------------
LAM = np.geomspace(0.02, 20.0, 13)
V0 = 1.0
TAU = np.concatenate([[0.0], np.geomspace(1e-4, 1e3, 400)])


def law(tau, lam=LAM, v0=V0):
    """ln v = ln v0 + (ln λ − ln v0) f(λτ), f(x) = x/(1 + x): the geometric threshold √(v0 λ) is crossed
    exactly at τ* = 1/λ (f = 1/2), so α = 1 under exact v₀ and interpolated crossings."""
    x = lam * np.asarray(tau)[:, None]
    return np.exp(np.log(v0) + (np.log(lam) - np.log(v0)) * x / (1 + x))


def alpha(out, d="increasing"):
    return out["fits"][d].alpha


def test_specbias_conventions_recover_the_exact_exponent():
    out = C.analyse(TAU, law(TAU), LAM, "geometric", "specbias")
    assert np.allclose(out["tau_star"], 1 / LAM, rtol=2e-3)
    for d in ("increasing", "decreasing"):
        assert abs(alpha(out, d) - 1) < 1e-3


def test_first_step_v0_switch_moves_the_threshold_as_computed():
    """A first step that sets every mode to J: the authors' threshold is √(Jλ); its crossing of the law
    solves f(λτ) = (ln J + ln λ − 2 ln v0)/(2(ln λ − ln v0)) — computed here in closed form."""
    J, lam = 0.5, np.geomspace(3.0, 30.0, 8)  # increasing modes, outside the gray zone under both v₀
    var = law(TAU, lam)
    var[1] = J
    conv = C.Conventions("first-step", 0.0, "per-mode", "interpolated")
    out = C.analyse(TAU, var, lam, "geometric", conv)
    F = (np.log(J) + np.log(lam) - 2 * np.log(V0)) / (2 * (np.log(lam) - np.log(V0)))
    want = F / (1 - F) / lam
    assert np.allclose(out["tau_star"], want, rtol=5e-3)
    want_alpha = -np.polyfit(np.log(lam), np.log(want), 1)[0]
    assert out["fits"]["increasing"].n == lam.size
    assert abs(alpha(out) - want_alpha) < 5e-3 and abs(want_alpha - 1) > 0.05
    exact = C.analyse(TAU, var, lam, "geometric", replace(conv, v0="exact"))
    assert abs(alpha(exact) - 1) < 2e-3


def test_smoothing_switch_removes_a_one_checkpoint_spike():
    """A single-checkpoint spike past the threshold early on: without smoothing τ* is the spike's time;
    with the authors' σ = 1 the spike (weight 0.40 of the kernel) stays below it and τ* is the law's."""
    var = law(TAU)
    j = 100
    var[j] = np.sqrt(V0 * LAM) * 1.5 ** np.sign(LAM - V0)  # past the threshold by a factor 1.5
    raw = C.analyse(TAU, var, LAM, "geometric", C.Conventions("exact", 0.0, "per-mode", "checkpoint"))
    sm = C.analyse(TAU, var, LAM, "geometric", C.Conventions("exact", 1.0, "per-mode", "checkpoint"))
    early = (1 / LAM > TAU[j + 1]) & (np.abs(np.log(LAM / V0)) > 1.5)  # the spike's 40% share stays short
    assert early.sum() >= 3
    assert np.all(raw["tau_star"][early] == TAU[j])
    assert np.all(sm["tau_star"][early] > TAU[j + 1])
    assert np.allclose(sm["tau_star"][early], 1 / LAM[early], rtol=0.1)


def test_exclusion_switch_counts_the_modes_by_hand():
    """v₀ differs per mode: the mean-v₀ band and the per-mode band exclude different modes."""
    v0 = np.where(np.arange(LAM.size) % 2, 0.1, 3.0)
    var = law(TAU, v0=v0)
    mean_v0 = v0.mean()
    by_mean = (LAM / mean_v0 > 0.5) & (LAM / mean_v0 < 2)
    by_mode = (v0 / LAM > 0.5) & (v0 / LAM < 2)
    assert not np.array_equal(by_mean, by_mode)
    for ex, want in (("mean", by_mean), ("per-mode", by_mode)):
        out = C.analyse(TAU, var, LAM, "geometric", C.Conventions("exact", 0.0, ex, "interpolated"))
        assert np.array_equal(out["excluded"], want)
        n = sum(out["fits"][d].n for d in ("increasing", "decreasing"))
        assert n == int(np.sum(~want & np.isfinite(out["tau_star"])))


def test_checkpoint_crossing_is_the_first_grid_point_past_the_interpolated_one():
    coarse = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 25)])
    a = C.analyse(coarse, law(coarse), LAM, "geometric", C.Conventions("exact", 0.0, "per-mode", "checkpoint"))
    b = C.analyse(coarse, law(coarse), LAM, "geometric", "specbias")
    idx = np.searchsorted(coarse, 1 / LAM, side="right")
    assert np.array_equal(a["tau_star"], coarse[idx])
    assert np.allclose(b["tau_star"], 1 / LAM, rtol=0.02)


def test_specbias_conventions_are_nonlinear_emergence():
    rng = np.random.default_rng(3)
    var = law(TAU) * np.exp(0.02 * rng.standard_normal((TAU.size, LAM.size)))
    boot = var[:, None, :] * np.exp(0.01 * rng.standard_normal((TAU.size, 20, LAM.size)))
    run = SimpleNamespace(tau=TAU, arrays={"var_eigen": var, "var_boot_eigen": boot, "lam_eigen": LAM})
    ours = NL.emergence(run, criteria=("geometric",))["geometric"]
    mine = C.analyse_run(run, "geometric", "specbias")
    assert np.allclose(ours["tau_star"], mine["tau_star"], rtol=1e-12, equal_nan=True)
    for d in ("increasing", "decreasing"):
        assert ours["fits"][d].alpha == pytest.approx(mine["fits"][d].alpha, abs=1e-12)
        assert np.allclose(ours["fits"][d].ci, mine["fits"][d].ci, atol=1e-12)
    authors = C.emergence(run, criteria=("geometric",), conventions="authors")["geometric"]
    assert authors["fits"]["increasing"].alpha != ours["fits"]["increasing"].alpha


def test_ladder_rows_and_shifts():
    var = law(TAU)
    var[1] = 0.5
    df = C.ladder(TAU, var, LAM)
    labels = [r[0] for r in C.rungs()]
    assert list(df.conventions.unique()) == labels and len(df) == 2 * len(labels)
    inc = df[df.direction == "increasing"].set_index("conventions")
    assert inc.loc["authors", "shift"] == 0
    assert abs(inc.loc["specbias (all switched)", "alpha"] - 1) < 2e-3
    assert abs(inc.loc["authors + exact τ = 0 v₀", "shift"]) > 0.02  # the first-step jump matters
    rows = C.ladder_rows(df)
    assert rows[0][0] == "conventions" and len(rows) == len(df) + 1


@pytest.mark.parametrize("bad", [{"v0": "after"}, {"exclusion": "none"}, {"crossing": "linear"},
                                 {"smooth": -1.0}, {"smooth": float("nan")}])
def test_bad_conventions_raise(bad):
    with pytest.raises(theory.SpecbiasError):
        C.Conventions(**bad)


def test_bad_inputs_raise():
    with pytest.raises(theory.SpecbiasError, match="unknown conventions"):
        C.get("theirs")
    with pytest.raises(theory.SpecbiasError, match="criterion"):
        C.analyse(TAU, law(TAU), LAM, "band")
    with pytest.raises(theory.SpecbiasError, match="τ = 0"):
        C.analyse(TAU[1:], law(TAU[1:]), LAM)


def test_ladder_of_a_two_checkpoint_run_is_empty():
    run = SimpleNamespace(tau=TAU[:2], arrays={"var_eigen": law(TAU[:2]), "var_boot_eigen": np.zeros((2, 0, LAM.size)),
                                               "lam_eigen": LAM})
    df = C.ladder_run(run)
    assert df.empty and C.ladder_rows(df) == [C.ladder_rows(df)[0]]


def test_emergence_of_a_run_under_the_authors_conventions_has_the_three_thresholds():
    var = law(TAU)
    run = SimpleNamespace(tau=TAU, arrays={"var_eigen": var, "var_boot_eigen": var[:, None, :], "lam_eigen": LAM})
    em = C.emergence(run)
    assert set(em) == set(theory.emergence.CRITERIA)
    assert set(em["geometric"]) >= {"tau_star", "tau_star_boot", "v0", "fits"}
    with pytest.raises(theory.SpecbiasError, match="criterion"):
        C.emergence(run, criteria=("band",))


def test_ladder_with_a_fresh_noise_run_adds_the_crn_rung():
    """With fresh latents the authors' rung and the single switches use the fresh run; 'fixed CRN latents'
    and the last rung use the CRN run (here: the same trajectory plus noise, so their α must differ)."""
    var = law(TAU)
    fresh = var * np.exp(0.2 * np.random.default_rng(5).standard_normal(var.shape))
    df = C.ladder(TAU, var, LAM, fresh=(fresh, None))
    inc = df[df.direction == "increasing"].set_index("conventions")
    assert list(inc.index[:2]) == ["authors", "authors + fixed CRN latents"] and len(inc) == 7
    assert inc.loc["authors", "latents"] == "fresh"
    assert inc.loc["authors + fixed CRN latents", "latents"] == "fixed (CRN)"
    want = C.analyse(TAU, fresh, LAM, "geometric", "authors")["fits"]["increasing"].alpha
    assert inc.loc["authors", "alpha"] == want
    assert inc.loc["authors + fixed CRN latents", "alpha"] == C.analyse(TAU, var, LAM)["fits"]["increasing"].alpha
    assert inc.loc["authors + fixed CRN latents", "alpha"] != want
    assert abs(inc.loc["specbias (all switched)", "alpha"] - 1) < 2e-3


@pytest.mark.slow  # ~10 s: two tiny trainings
def test_fresh_noise_run_trains_the_same_network_and_feeds_the_ladder():
    from numerics import data
    from numerics.nets import train as train_net

    kw = dict(steps=60, checkpoints=8, net_options={"width": 16, "depth": 1}, n_samples=200, bootstrap=20,
              progress=False)
    ds = data.gaussian(8, "lognormal", seed=0)
    crn = train_net.train_net("mlp", ds, "edm", **kw)
    fresh = train_net.train_net("mlp", ds, "edm", crn_on=False, **kw)
    assert np.array_equal(crn.arrays["loss"], fresh.arrays["loss"], equal_nan=True)  # the same training stream
    assert not np.array_equal(crn.var_eigen[1:], fresh.var_eigen[1:])  # measured with other latents
    df = C.ladder_run(crn, fresh=fresh)
    assert "authors + fixed CRN latents" in set(df.conventions)
    with pytest.raises(theory.SpecbiasError, match="common random numbers"):
        C.ladder_run(crn, fresh=crn)
