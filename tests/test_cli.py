"""Bad input gives one clear line on stderr and a non-zero exit, never a traceback."""
import subprocess
import sys

import pytest

from verify.cli import main

BAD = [
    (["theory", "linear", "--lam", "-1"], "must be > 0"),
    (["theory", "linear", "--lam", "nan"], "NaN"),
    (["theory", "linear", "--sigma0", "90"], "sigma0 must be smaller than sigmaT"),
    (["theory", "linear", "--eta", "0"], "eta"),
    (["theory", "linear", "--tau", "-1"], "tau"),
    (["theory", "linear", "--Q", "1.5"], "Q must lie in"),
    (["theory", "nope"], "valid: linear"),
    (["emergence", "linear", "--param", "L=3"], "takes no parameter"),
    (["derive", "/nonexistent/arch.py"], "no such architecture module"),
]


@pytest.mark.parametrize("argv,msg", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_clear_line(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_console_script_reports_without_traceback():
    out = subprocess.run([sys.executable, "-m", "verify.cli", "theory", "linear", "--lam", "-2"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_theory_table_and_json(capsys):
    assert main(["theory", "linear", "--lam", "1", "0.1", "--tau", "0", "10"]) == 0
    out = capsys.readouterr().out
    assert "τ* (geometric)" in out
    assert main(["emergence", "linear", "--json", "--lam", "1", "0.1", "0.01"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert len(data["tau_star"]) == 3 and data["tau_star"][0] < data["tau_star"][1]


def test_derive_prints_checks(capsys):
    assert main(["derive", "linear"]) == 0
    out = capsys.readouterr().out
    assert "dψ/dτ" in out and "PASS (symbolic)" in out and "FAIL" not in out


def test_mismatched_shapes_and_fixed_point_note(capsys):
    import numpy as np

    import theory

    with pytest.raises(theory.SpecbiasError, match="do not broadcast"):
        theory.get("linear").generated_variance(np.ones(3), np.ones(4))
    assert main(["theory", "sym_two_layer", "--Q", "0", "--lam", "1", "--tau", "1"]) == 0
    assert "fixed point" in capsys.readouterr().out
