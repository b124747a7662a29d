"""A report built on a failing derivation (issue 18, item 2): `specbias report` exits 1 and writes nothing,
or, with --allow-failed-derivation, writes the report with the failure at the top; report.json carries
every architecture's derivation status, and the text says "derived and checked" only when it was."""
import json

from test_user_architecture import _write  # the docs/extending.md walk-through module

import theory
from verify.cli import main

WRONG = "K + (Q - K) * np.exp(-2.0 * eta * tau * lam)"  # the rate misses σ²: not the derived ODE's solution


def _report(path, arch, out, *extra):
    return main(["report", "--module", path, "--arch", arch, "--quick", "--name", "r", "--out", str(out),
                 "--no-progress", *extra])


def test_failing_derivation_fails_the_report(tmp_path, capsys):
    path = _write(tmp_path, "eps_wrong", weight=WRONG)
    try:
        assert _report(path, "eps_wrong", tmp_path) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "derivation failed for eps_wrong at numeric-path" in err
        assert "--allow-failed-derivation" in err and not (tmp_path / "r").exists()

        assert _report(path, "eps_wrong", tmp_path, "--allow-failed-derivation") == 0
        md = (tmp_path / "r" / "report.md").read_text()
        assert md.index("## Derivation FAILED") < md.index("## Summary") and "derived and checked" not in md
        assert "| eps_wrong | FAIL at numeric-path |" in md
        status = json.loads((tmp_path / "r" / "report.json").read_text())
        assert status["derivations_ok"] is False
        assert status["architectures"]["eps_wrong"]["derivation"]["failed_at"] == "numeric-path"
    finally:
        theory.unregister("eps_wrong")


def test_passing_derivation_is_stated(tmp_path):
    path = _write(tmp_path, "eps_right")
    try:
        assert _report(path, "eps_right", tmp_path) == 0
        md = (tmp_path / "r" / "report.md").read_text()
        assert "derived and checked in sympy" in md and "Derivation FAILED" not in md
        assert "| eps_right | pass | skipped: no torch model declared (theory only) |" in md
        status = json.loads((tmp_path / "r" / "report.json").read_text())
        assert status["derivations_ok"] is True and status["architectures"]["eps_right"]["derivation"]["ok"]
    finally:
        theory.unregister("eps_right")
