"""The knob ablation of the reduced MLP protocol (verify.nets.knobs): one knob at a time set to the
paper's value (protocols.md §4), the paper's protocol last, and the converged level of the top modes."""
import json
from dataclasses import fields

import numpy as np
import pytest

from verify.nets import knobs as NK
from verify.nets import report as RN


def _diff(a, b) -> set:
    out = set()
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, dict):
            out |= {k for k in set(x) | set(y) if x.get(k) != y.get(k)}
        elif x != y and f.name != "name":
            out.add(f.name)
    return out


def test_each_knob_experiment_changes_exactly_its_knob():
    exps = RN.knob_experiments()
    base, paper = exps[0], RN.paper_mlp()
    assert base.protocol == "reduced" and base.net == "mlp"
    want = {"lr": {"lr"}, "batch": {"batch"}, "width": {"width"}, "depth": {"depth"},
            "embedding": {"mapping", "fourier_scale"}, "steps": {"steps"}, "finite-set": {"n_train"}}
    for e in exps[1:-1]:
        knob = e.name.removeprefix(base.name.removesuffix("-reduced") + "-")
        assert _diff(base, e) == want[knob], knob
    last = exps[-1]
    assert last.protocol == "paper" and last.protocol_options == paper.protocol_options
    assert last.net_options == paper.net_options and last.steps == paper.steps and last.n_train == paper.n_train
    assert (last.checkpoints, last.n_samples, last.heun_steps) == (base.checkpoints, base.n_samples, base.heun_steps)
    assert len({e.name for e in exps}) == len(exps) == len(NK.KNOBS) + 2


def test_top_levels_by_hand():
    lam = np.array([0.5, 4.0, 1.0, 2.0])
    bias = np.array([1.0, 1.1, 1.0, 1.05])
    var = np.tile(lam * bias, (6, 1))
    var[-1, 1] *= 0.8
    out = NK.top_levels(var, lam, bias, top=3, last=5)
    assert np.allclose(out["end"], [0.8, 1.0, 1.0])
    assert np.allclose(out["plateau"], [(4 + 0.8) / 5, 1.0, 1.0])


@pytest.mark.slow  # ~15 s: two tiny trainings and figures
def test_knob_preset_writes_the_summary(tmp_path, monkeypatch):
    from verify.cli import main

    tiny = RN.Experiment("mlp-tiny", "mlp", "lognormal", 8, "follows", {"width": 16, "depth": 1},
                         {"lr": 3e-3, "batch": 64}, steps=40, checkpoints=8, n_samples=200)
    paper = RN.Experiment("mlp-tiny-p", "mlp", "lognormal", 8, "follows", {"width": 24, "depth": 1},
                          {"lr": 1e-3, "batch": 128}, steps=40, protocol="paper", n_train=300)
    monkeypatch.setattr(NK, "KNOBS", {"lr": "protocol_options"})
    monkeypatch.setattr(RN, "knob_experiments", lambda: NK.knob_experiments(tiny, paper))
    assert main(["report", "--preset", "nonlinear-knobs", "--out", str(tmp_path), "--no-progress"]) == 0
    folder = tmp_path / "nonlinear-knobs"
    payload = json.loads((folder / "report.json").read_text())
    assert [e["experiment"] for e in payload["experiments"]] == ["mlp-tiny-reduced", "mlp-tiny-lr", "mlp-tiny-paper"]
    assert all(len(e["top_levels"]["end"]) == 3 for e in payload["experiments"])
    text = (folder / "report.md").read_text()
    assert "Knob ablation of the reduced protocol" in text and "| mlp-tiny-lr |" in text
