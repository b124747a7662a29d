"""A researcher's module through every command that takes an architecture (issue 18, item 3): `--module
FILE` (or FILE as ARCH) for theory, emergence, train, derive, verify and report, and `module:` in a sweep
spec, all through theory.cli.load_modules / theory.load_module. The reference numbers are independent of
the module: at ρ = 0 ridge_linear is the built-in one-layer model (Prop. 4.2)."""
import json
from pathlib import Path

import numpy as np
import pytest

import theory
from verify import sweep
from verify.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[1] / "docs" / "examples" / "ridge_linear.py")


@pytest.fixture
def fresh():
    theory.unregister("ridge_linear")
    yield
    theory.unregister("ridge_linear")


def _json(capsys):
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("how", [["--module", EXAMPLE, "ridge_linear"], [EXAMPLE]])
def test_theory_and_emergence_load_the_module(fresh, capsys, how):
    assert main(["theory", *how, "--lam", "1", "0.1", "--tau", "0", "1", "--param", "rho=0", "--json"]) == 0
    got = _json(capsys)
    assert got["arch"] == "ridge_linear"
    ref = theory.get("linear").generated_variance(np.array([[1.0], [0.1]]), np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(got["generated_variance"], ref, rtol=1e-9)
    theory.unregister("ridge_linear")
    assert main(["emergence", *how, "--lam", "1", "0.1", "0.01", "--param", "rho=0", "--json"]) == 0
    got = _json(capsys)
    np.testing.assert_allclose(got["tau_star"], theory.emergence_time("linear", [1, 0.1, 0.01]), rtol=1e-6)


def test_train_derive_verify_load_the_module(fresh, capsys):
    assert main(["train", "--module", EXAMPLE, "ridge_linear", "--d", "4", "--levels", "4", "--checkpoints", "4",
                 "--json", "--no-progress"]) == 0
    out = _json(capsys)
    assert out["meta"]["arch"] == "ridge_linear" and out["theory"]["within_tolerance"]
    theory.unregister("ridge_linear")
    assert main(["derive", "--module", EXAMPLE, "ridge_linear"]) == 0
    assert "result: all checks pass" in capsys.readouterr().out
    theory.unregister("ridge_linear")
    assert main(["verify", "--module", EXAMPLE, "ridge_linear", "--only", "float64-vs-mpmath", "--json"]) == 0
    assert [r["status"] for r in _json(capsys)["results"]] == ["pass"]


def test_unknown_name_without_the_module_is_one_line(fresh, capsys):
    assert main(["train", "ridge_linear"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown architecture 'ridge_linear'" in err
    assert main(["train", "--model", "mlp", "--module", EXAMPLE]) == 2
    assert "--module does not apply to network training" in capsys.readouterr().err


def test_sweep_spec_module_key(fresh, tmp_path):
    spec = {"name": "m", "defaults": {"d": 4, "levels": 4, "checkpoints": 6, "tau_max": 10.0,
                                      "step_fraction": 0.2, "criteria": ["geometric"]},
            "grid": [{"module": EXAMPLE, "arch": "ridge_linear", "rho": [0.0, 0.1], "seeds": 1}]}
    parsed = sweep.parse(spec)
    assert [r.config["module"] for r in parsed.runs] == [EXAMPLE] * 2
    theory.unregister("ridge_linear")  # as in a fresh Dask worker: the run loads the module itself
    res = sweep.run_sweep(parsed, tmp_path, serial=True, progress=False)
    assert not res.failed and list(res.results["rho"]) == [0.0, 0.1]
    with pytest.raises(theory.SpecbiasError, match="arch = 'ridge_linear'.*give its file as module"):
        theory.unregister("ridge_linear")
        sweep.parse({"grid": [{"arch": "ridge_linear"}]})
    plain = sweep.parse({"grid": [{"arch": "linear"}]})  # no module: the key is absent, old run keys hold
    assert "module" not in plain.runs[0].config
