"""`specbias report`: every file is written, a rerun with the same seed is identical, and an
interrupted report leaves nothing half-written."""
import hashlib

import pytest

from verify.report import build as report
from verify.report import figures

FILES = {"report.md", "report.html", "report.json", "data.npz", "weights.png", "variance.png",
         "emergence.png", "departure.png", "heatmap_linear.png", "heatmap_circulant.png", ".specbias",
         "localconv_tau_star.png", "localconv_controls.png", "localconv_heatmap.png",
         "localconv_mechanism.png", "localconv_exponents.png", "localconv_fig14.png", "linear.nc", "circulant.nc"}


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}




def test_all_files_and_tables(quick_report):
    _, folder = quick_report
    assert {p.name for p in folder.iterdir()} == FILES
    md = (folder / "report.md").read_text()
    for section in ("## Agreement", "## Departure flags", "## Exponents", "![", "| linear |", "| circulant |",
                    "## Local convolution"):
        assert section in md
    assert "FAIL" not in md and "follows, different constant" in md
    assert md.count("Tolerances") == 1  # once, not once per run


@pytest.mark.slow  # a second full quick report (~12 s idle): kept out of the default suite's 5-minute budget
def test_rerun_is_identical(quick_report):
    out, folder = quick_report
    before = _digests(folder)
    again = report.build("r", "quick", seed=3, out=out, archs=["linear", "circulant"], progress=False)
    assert _digests(again) == before


def test_interrupted_report_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(figures, "heatmap", boom)
    with pytest.raises(KeyboardInterrupt):
        report.build("x", "quick", out=tmp_path, archs=["linear"], progress=False)
    assert list(tmp_path.iterdir()) == []
