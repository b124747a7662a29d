"""Training windows chosen from the theory (issue 18, item 5): the window reaches past every trained mode's
emergence, it is stated, a run too short for its modes says "not emerged" instead of "pass", and a figure
never lists a legend entry without points."""
import json

import numpy as np
import pytest

import theory
from verify.report import build as report
from verify.report import data as R
from verify.report import figures


def test_window_reaches_past_the_slowest_emergence():
    """At the chosen τ_max the slowest mode's closed-form λ̃ has crossed its geometric threshold √(v₀λ)
    (checked on generated_variance, not on the root finder that chose the window)."""
    lam = np.array([1.0, 0.03])
    arch = theory.get("linear")
    w = R.training_window(arch, lam, R.Preset(train_tau_max=1.0), 0.1, {})
    assert w["tau_max"] > 1.0 and not w["capped"]
    v0 = arch.initial_variance(0.1)
    assert arch.generated_variance(lam, w["tau_max"]).min() / np.sqrt(v0 * lam.min()) > 1
    assert arch.generated_variance(lam, w["tau_max"] / (2 * w["margin"]))[1] < np.sqrt(v0 * lam[1])  # not before
    capped = R.training_window(arch, lam, R.Preset(train_tau_max=1.0, window_cap=2.0), 0.1, {})
    assert capped["tau_max"] == 2.0 and capped["capped"]


@pytest.mark.slow  # a full report build (~9 s idle): kept out of the default suite's 5-minute budget
def test_short_window_is_reported_not_passed(tmp_path, monkeypatch):
    short = R.Preset(d=16, train_d=8, checkpoints=6, n_tau=40, train_tau_max=0.003, window_margin=1e-3,
                     window_cap=1.0)
    monkeypatch.setitem(R.PRESETS, "quick", short)
    folder = report.build("w", "quick", seed=1, out=tmp_path, archs=["linear"], progress=False)
    md = (folder / "report.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| linear | gaussian"))
    assert "not emerged:" in row and not row.rstrip().endswith("| pass |")
    assert "| linear | pass | not emerged:" in md  # the summary says it too
    assert "Training windows, chosen from each architecture's theory" in md and "linear τ ≤ 0.003" in md
    table = json.loads((folder / "report.json").read_text())["architectures"]["linear"]
    assert table["not_emerged"] > 0 and table["training_window"]["tau_max"] == pytest.approx(0.003)


def test_emergence_figure_has_no_empty_legend_entry(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: seen.append(fig))
    lam = np.geomspace(0.1, 10, 5)
    fit = theory.fit_exponent(lam, 1 / lam, 1e-4)["increasing"]
    panel = {"title": "t", "lam": lam, "tau_star": 1 / lam, "fit": fit,
             "v0": 1e-4, "lam_meas": lam, "tau_meas": np.full(5, np.nan), "tau_theory_meas": 1 / lam}
    figures.emergence(tmp_path / "e.png", [panel])
    ax = seen[0].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "trained model" not in labels and "theory, trained size" in labels
    assert any("5 of 5 modes did not emerge" in t.get_text() for t in ax.texts)
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("α ="))
    assert line.get_xdata().min() >= lam.min() and line.get_xdata().max() <= lam.max()  # no extrapolation
