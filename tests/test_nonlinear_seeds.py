"""The nonlinear verdict over seeds (verify.nets.seeds) and the reduced-protocol label
(verify.nets.report): a contradiction of the paper is stated only from the paper's protocol over
≥ 3 seeds that all disagree; the seed-to-seed interval is the t-interval."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from verify.nets import seeds as NS
from verify.nets import report as RN


def test_seed_interval_is_the_t_interval():
    out = NS.seed_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 / np.sqrt(3)  # t_{0.975, 2} from tables; sd = 1
    assert out["mean"] == 2.0 and out["sd"] == 1.0 and out["n"] == 3
    assert np.allclose(out["ci"], (2 - half, 2 + half), rtol=1e-12)
    assert NS.seed_interval([np.nan, 1.0])["n"] == 1 and np.isnan(NS.seed_interval([1.0])["ci"][0])
    assert NS.seed_interval([])["n"] == 0


def _em(alpha):
    fit = SimpleNamespace(alpha=alpha)
    return {"geometric": {"fits": {"increasing": fit, "decreasing": fit}}}


def _exp(protocol="paper", paper="follows"):
    return RN.Experiment("x", "mlp", "lognormal", 8, paper, protocol=protocol)


@pytest.mark.parametrize("protocol,verdicts,contradicts", [
    ("paper", ["departs"] * 3, True),
    ("paper", ["departs"] * 2, False),  # too few seeds
    ("paper", ["departs", "departs", "follows"], False),  # the seeds disagree among themselves
    ("reduced", ["departs"] * 3, False),  # a reduced protocol never contradicts the paper
    ("paper", ["follows", "follows, different constant", "follows"], False),
])
def test_contradiction_only_from_three_paper_seeds_that_all_disagree(protocol, verdicts, contradicts):
    per = [(s, v, _em(1.0 + 0.1 * s)) for s, v in enumerate(verdicts)]
    out = NS.summarise(_exp(protocol), per)
    assert out["contradicts_paper"] is contradicts
    text = NS.verdict_text(out)
    assert ("contradicts the paper" in text) is contradicts
    assert out["all_agree"] is all(v.startswith("follows") for v in verdicts)
    assert out["alpha"]["geometric/increasing"]["per_seed"] == [1.0 + 0.1 * s for s in range(len(verdicts))]


def test_context_names_the_authors_slopes_and_the_linear_prediction():
    exp = RN.Experiment("x", "mlp", "lognormal", 8, "follows", protocol="paper",
                        paper_slopes=(("d = 128", 0.76, 1.64),))
    per = [(s, "departs", _em(a)) for s, a in enumerate((0.7, 0.8, 0.9))]
    out = NS.summarise(exp, per, [(1.31, (1.01, 1.61))] * 3)
    text = NS.context_text(out)
    half = 4.302652729911275 * 0.1 / np.sqrt(3)  # t_{0.975, 2} · sd / √3, sd = 0.1
    assert f"mean α over seeds 0.800 [{0.8 - half:.3f}, {0.8 + half:.3f}]" in text
    assert "d = 128: 0.76 / 1.64" in text and "predicts 1.310, 1.310, 1.310" in text and "[1.01, 1.61]" in text
    assert NS.context_text(NS.summarise(_exp(), [(0, "departs", _em(np.nan))])) == ""


def test_one_run_never_states_a_contradiction():
    for protocol in ("reduced", "paper"):
        text = RN.paper_sentence(_exp(protocol), False, "departs")
        assert "contradicts" not in text
    assert "REDUCED" in RN.paper_sentence(_exp("reduced"), False, "departs")
    assert "agrees" in RN.paper_sentence(_exp("reduced"), True, "follows")


def test_an_experiment_protocol_is_paper_or_reduced():
    from theory.errors import SpecbiasError

    with pytest.raises(SpecbiasError, match="protocol"):
        _exp("full")


def test_the_nonlinear_preset_trains_the_mlp_on_the_papers_protocol_and_the_quick_one_is_reduced():
    """protocols.md §4 (the paper's Gaussian-MLP protocol) written out here, not read from the code: the
    default preset's MLP and nonlinear-paper's train exactly that; the default differs only by its two
    measured shortcuts (bf16 autocast in training, fewer CRN samples); the quick preset's MLP is REDUCED."""
    quick = [e for e in RN.QUICK if e.net == "mlp"]
    assert quick and all(e.protocol == "reduced" for e in quick)
    paper, fast = RN.paper_experiments()[0], [e for e in RN.EXPERIMENTS if e.net == "mlp"]
    assert len(fast) == 1 and fast[0].protocol == "paper"
    for e in (paper, fast[0]):
        assert e.protocol == "paper" and e.n_train == 10_000 and e.steps == 5000 and e.data == "lognormal"
        assert e.protocol_options == {"lr": 1e-4, "batch": 1024}
        assert e.net_options == {"width": 256, "depth": 4, "mapping": False, "fourier_scale": 1.0}
    assert paper.autocast is None and paper.n_samples == 2000
    assert fast[0].autocast == "bf16" and fast[0].n_samples < paper.n_samples
    assert [e.net for e in RN.EXPERIMENTS] == ["mlp", "unet"] and [e.net for e in RN.QUICK] == ["mlp", "unet"]


@pytest.mark.slow  # ~20 s each: three tiny trainings and one set of figures
@pytest.mark.parametrize("preset", ["nonlinear", "nonlinear-paper"])
def test_paper_preset_over_three_tiny_seeds(tmp_path, monkeypatch, preset):
    from verify.cli import main

    tiny = RN.Experiment("mlp-tiny-paper", "mlp", "lognormal", 8, "follows", {"width": 16, "depth": 1},
                         {"lr": 3e-3, "batch": 64}, steps=40, checkpoints=8, n_samples=200, protocol="paper",
                         n_train=500, autocast="bf16" if preset == "nonlinear" else None)
    monkeypatch.setattr(RN, "paper_experiments", lambda: (tiny,))
    monkeypatch.setattr(RN, "EXPERIMENTS", (tiny,))
    assert main(["report", "--preset", preset, "--out", str(tmp_path), "--no-progress", "--seed", "4"]) == 0
    payload = json.loads((tmp_path / preset / "report.json").read_text())
    assert payload["experiments"][0]["meta"]["protocol"]["lr"] == 3e-3
    exps = payload["experiments"]
    assert [e.get("seed") for e in exps[:3]] == [4, 5, 6] and payload["seeds"] == 3
    summary = exps[3]
    assert summary["seeds"] == [4, 5, 6] and summary["classifications"] == [e["classification"] for e in exps[:3]]
    a = summary["alpha"]["geometric/increasing"]
    per = [e["fits"]["geometric"]["increasing"]["alpha"] for e in exps[:3]]
    assert a["per_seed"] == per
    ok = [v for v in per if v is not None and np.isfinite(v)]
    if len(ok) >= 2:
        want = stats.t.interval(0.95, len(ok) - 1, loc=np.mean(ok), scale=stats.sem(ok))
        assert np.allclose(a["ci"], want, rtol=1e-10)
    text = (tmp_path / preset / "report.md").read_text()
    assert "over seeds" in text and "REDUCED" not in text.split("## ")[1]


# ---- mixed precision (issue 16 item 4): accepted only where τ* and α agree with float32 within CIs ----------
def _tiny(autocast=None, lr=3e-3):
    from numerics import data
    from numerics.nets import train as train_net

    return train_net.train_net("mlp", data.gaussian(8, "lognormal", seed=0), "edm", steps=150, checkpoints=12,
                               net_options={"width": 32, "depth": 1}, protocol_options={"lr": lr, "batch": 128},
                               n_samples=400, progress=False, autocast=autocast)


@pytest.fixture(scope="module")
def fp32_run():
    from verify.nets import analysis as NL

    run = _tiny()
    return run, NL.emergence(run, criteria=("geometric",))["geometric"]


def test_bf16_autocast_training_agrees_with_float32_within_cis(fp32_run):
    """Measured 2026-12-06 on the nonlinear preset's reduced MLP (d = 64, 3000 steps, seed 0; shared
    machine, load 4–8): every τ* inside float32's bootstrap interval (median |ln ratio| 4e-4, max 0.006),
    α geometric increasing 1.0109 vs 1.0111 [0.674, 1.348], the same verdict and top-3 levels to 1e-3."""
    from verify.nets import analysis as NL

    run, ref = fp32_run
    amp = _tiny("bf16")
    assert amp.meta["autocast"] == "bf16" and amp.meta["dtype"] == "float32"
    assert not np.array_equal(amp.var_eigen, run.var_eigen)  # bf16 really changed the training
    check = NL.within_ci(ref, NL.emergence(amp, criteria=("geometric",))["geometric"])
    assert check["ok"], check


def test_parity_check_fails_on_a_different_training(fp32_run):
    """The known-wrong input: a run at 10× the learning rate must not pass as float32's twin."""
    from verify.nets import analysis as NL

    _, ref = fp32_run
    other = NL.emergence(_tiny(lr=3e-2), criteria=("geometric",))["geometric"]
    assert not NL.within_ci(ref, other)["ok"]


def test_bad_autocast_raises():
    from numerics import data
    from numerics.nets import train as train_net
    from theory.errors import SpecbiasError

    ds = data.gaussian(4, "lognormal", seed=0)
    for bad, kw in (("int8", {}), ("fp16", {"device": "cpu"}), ("bf16", {"dtype": "float64"})):
        with pytest.raises(SpecbiasError, match="autocast"):
            train_net.train_net("mlp", ds, "edm", steps=2, checkpoints=2, progress=False, autocast=bad, **kw)
