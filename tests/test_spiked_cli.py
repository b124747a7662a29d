"""`specbias spiked …` and the second paper's properties of the shared suite (Weitzner et al., arXiv
2410.14730; including that they can fail)."""
import json

import numpy as np
import pytest

from theory.spiked import chains as CH
from theory.spiked import covariance as SP
from verify.cli import main
from verify.properties.engine import applicable, run_property

SEED003 = ["spiked-derivation", "spiked-vs-quadrature", "spiked-monte-carlo", "chain-identities", "fixation-heun"]


def test_registered_for_linear_only():
    assert set(SEED003) <= set(applicable("linear"))
    assert not set(SEED003) & set(applicable("two_layer"))


@pytest.mark.parametrize("argv", [
    ["threshold", "--lam", "4", "1", "--d", "500", "--n", "1000"],
    ["overlap", "--lam", "1", "--gamma", "0.5", "--s2", "0.1", "2"],
    ["chains", "--lam", "4", "2", "1", "--T", "16"],
    ["fixation", "--lam", "1", "0.1"],
    ["kl", "--d", "3", "--n", "10"],
    ["derive"],
])
def test_json_is_strict(argv, capsys):
    assert main(["spiked", *argv, "--json"]) == 0
    out = capsys.readouterr().out
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


def test_overlap_json_matches_the_api(capsys):
    main(["spiked", "overlap", "--lam", "2", "--d", "100", "--n", "400", "--s2", "0.3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["overlap2"][0][0] == pytest.approx(float(SP.overlap2(2.0, 0.3, 0.25)), rel=1e-15)


@pytest.mark.parametrize("argv,match", [
    (["threshold", "--d", "10", "--n", "0"], "--n"),
    (["overlap", "--gamma", "0"], "gamma"),
    (["overlap", "--gamma", "-2"], "gamma"),
    (["threshold", "--lam", "1", "2", "3", "--d", "2", "--n", "4"], "exceeds the dimension"),
    (["overlap", "--lam", "-1", "--gamma", "1"], "--lam"),
    (["overlap", "--s2", "-1", "--gamma", "1"], "--s2"),
    (["overlap", "--d", "10", "--n", "5", "--M", "0"], "--M"),
])
def test_bad_input_exits_2_with_one_line(argv, match, capsys):
    assert main(["spiked", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("specbias: error:") and match in err and "\n" not in err


def test_properties_fail_on_a_wrong_formula(monkeypatch):
    right = SP.overlap2
    monkeypatch.setattr(SP, "overlap2", lambda lam, s2, gamma: right(lam, s2, 1 / np.asarray(gamma)))
    assert not run_property("linear", "spiked-vs-quadrature", "ci").ok  # γ = n/d in place of d/n
    monkeypatch.setattr(SP, "overlap2", right)
    monkeypatch.setattr(CH, "phi", lambda x: np.log1p(np.asarray(x, float)) / 2)
    assert not run_property("linear", "chain-identities", "ci").ok
