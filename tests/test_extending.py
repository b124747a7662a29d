"""The worked example of docs/extending.md: a researcher's architecture in one file, verified end to end."""
from pathlib import Path

import numpy as np
import pytest

import theory
from verify.cli import main
from verify.departure import classify_theory

EXAMPLE = str(Path(__file__).resolve().parents[1] / "docs" / "examples" / "ridge_linear.py")


@pytest.fixture(scope="module")
def ridge():
    (arch,) = theory.load_module(EXAMPLE)
    yield arch
    theory.unregister("ridge_linear")


def test_derive_passes_every_check(ridge, capsys):
    assert main(["derive", EXAMPLE]) == 0
    assert "result: all checks pass" in capsys.readouterr().out


def test_verify_runs_the_inherited_suite(ridge, capsys):
    assert main(["verify", "ridge_linear", "--profile", "ci"]) == 0
    out = capsys.readouterr().out
    for prop in ("derivation", "float64-vs-mpmath", "closed-form-vs-quadrature", "consistency"):
        assert f"ridge_linear  {prop}" in out


def test_reduces_to_linear_without_weight_decay(ridge):
    lam, tau = np.geomspace(1e-3, 1e2, 7), np.geomspace(1e-3, 1e3, 5)[:, None]
    np.testing.assert_allclose(ridge.generated_variance(lam, tau, rho=0.0),
                               theory.get("linear").generated_variance(lam, tau), rtol=1e-12)


def test_weight_decay_is_flagged_where_it_breaks_the_law(ridge):
    lam = np.geomspace(1e-3, 1e2, 24)
    flag = classify_theory("ridge_linear", lam, rho=0.01)
    assert flag.classification == "departs" and "target not reached" in flag.reason
    assert classify_theory("linear", lam).classification == "follows"


def test_report_covers_the_new_architecture(ridge, tmp_path):
    from verify.report import build as report

    folder = report.build("ridge", "quick", out=tmp_path, archs=["ridge_linear"], progress=False)
    md = (folder / "report.md").read_text()
    assert "| ridge_linear |" in md and "target not reached" in md and (folder / "heatmap_ridge_linear.png").exists()
