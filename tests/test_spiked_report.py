"""`specbias report --preset spiked`: the hook, the default report's pointer, and the section numbers."""
import json

import numpy as np
import pytest

from theory.errors import SpecbiasError
from theory.spiked import chains as CH
from verify.cli import main
from verify.report import build as report
from verify.report import data as report_data
from verify.spiked import data as RD
from verify.tolerances import tol


def test_unknown_preset_is_a_one_line_error(capsys, tmp_path):
    assert main(["report", "--preset", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "preset must be one of" in err and "spiked" in err and "'nope'" in err
    with pytest.raises(SpecbiasError):
        report.build(preset="nope", out=tmp_path)


def test_default_report_points_to_the_spiked_report():
    cfg = report_data.PRESETS["default"]
    text = " ".join(b.text for b in report._intro("default", "default", cfg, 0, ["linear"]))
    assert "../spiked/report.md" in text and "--preset spiked" in text
    from verify.cli.report import REPORTS

    assert set(REPORTS) == {"spiked", "nonlinear", "nonlinear-paper", "nonlinear-quick", "nonlinear-knobs"}
    assert all(callable(f) for f in REPORTS.values())


def test_chains_section_numbers_against_independent_values():
    res = RD.chains_section(0, d=8, n=16)
    assert res["kappa_measured"] == pytest.approx(res["kappa_plugin"], rel=1e-2)  # slope of matrix products
    assert res["kappa_plugin"] == pytest.approx(float(CH.kappa(res["mu"][0], res["mu"][1], 1.0)), rel=1e-12)
    se = np.sqrt(2 / 4000) * res["noisy_theory"]  # standard error of a Gaussian sample variance
    z = np.abs(res["noisy_measured"] - res["noisy_theory"]) / se
    assert np.all(z < tol("monte-carlo-variance").abs), z
    assert res["overlap_r2"][-1] == pytest.approx(1.0, abs=1e-9) and res["overlap_pf"][-1] < 0.99


@pytest.mark.slow
def test_spiked_preset_end_to_end(tmp_path):
    assert main(["report", "--preset", "spiked", "--out", str(tmp_path), "--no-progress"]) == 0
    out = tmp_path / "spiked"
    for f in ("report.md", "report.html", "report.json", "data.npz", "overlap.png", "chains.png", "clocks.png",
              "fixation.png", "jacobian.png", "kl.png"):
        assert (out / f).is_file(), f
    tables = json.loads((out / "report.json").read_text())
    rows = tables["sizes"]["rows"]
    assert [r["d"] for r in rows] == [200, 500, 1000] and all(r["ok"] for r in rows)
    assert rows[0]["overlap_finite_size"] > rows[1]["overlap_finite_size"] > rows[2]["overlap_finite_size"]
    assert tables["sizes"]["m_draws"]["ok_with_gamma_eff"] and not tables["sizes"]["m_draws"]["ok_with_d_over_n"]
    assert all(r["failed"] == 0 for r in tables["overlap"])
    for v in tables["fixation"].values():
        t = tol("fixation-heun").rel
        assert abs(v["ratio_min"] - 1) <= t and abs(v["ratio_max"] - 1) <= t
    kl = tables["kl_endpoint"]
    z = np.abs(np.array(kl["mc"]) - np.array(kl["theory"])) / np.array(kl["se"])
    assert np.all(z < tol("spiked-monte-carlo").abs), z
