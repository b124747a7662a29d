"""API conventions (issue 18, item 7): one-line SpecbiasErrors for missing data, verify's message when the
float64 code disagrees with the closed form, derive's symbolic residual and derived-vs-claimed ODE."""
from pathlib import Path

import numpy as np
import pytest

import theory
from verify.properties import architectures as properties
from verify.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "ridge_linear.py"


def test_compare_without_weights_is_one_line():
    from numerics import data, train
    from verify.agreement import compare

    ds = data.gaussian(4, "lognormal", seed=0)
    run = train.train("linear", ds, Q=0.1, taus=[0.0, 0.1], progress=False)  # keep_weights=False
    with pytest.raises(theory.SpecbiasError, match="keep_weights=True") as exc:
        compare(run, ds)
    assert "\n" not in str(exc.value)


def test_float64_typo_is_called_a_mismatch_and_located():
    """A _weight whose rate misses σ² (a typo) against its own claimed solution: the message says the
    float64 code does not match the closed form, and names the mode, λ and both values."""
    class Typo(type(theory.get("linear"))):
        name = "linear_typo_api"

        def _weight(self, lam, sigma, tau, Q, eta, **p):
            K = lam / (lam + sigma**2)
            return K + (Q - K) * np.exp(-2.0 * eta * tau * lam)

    arch = Typo()
    with pytest.raises(AssertionError) as exc:
        properties._float64_matches_mpmath(arch, np.array([1.0, 0.1, 0.01]), 1.0, 0.5, 0.1)
    msg = str(exc.value)
    assert msg.startswith("the float64 code does not match the closed form") and "at mode" in msg
    assert "λ = " in msg and "vs closed form" in msg and "same formula" not in msg
    properties._float64_matches_mpmath(theory.get("linear"), np.array([1.0, 0.1, 0.01]), 1.0, 0.5, 0.1)


def test_derive_prints_residual_and_derived_vs_claimed(tmp_path, capsys):
    text = EXAMPLE.read_text().replace('name = "ridge_linear"', 'name = "ridge_wrongsol"')
    wrong = "return K + (S.Q - K) * sp.exp(-2 * S.eta * S.tau * (S.lam + rho))"  # σ² dropped from the rate
    text = text.replace("return K + (S.Q - K) * sp.exp(-2 * S.eta * S.tau * (S.sigma**2 + S.lam + rho))", wrong)
    assert wrong in text
    path = tmp_path / "ridge_wrongsol.py"
    path.write_text(text)
    try:
        assert main(["derive", str(path)]) == 1
        out = capsys.readouterr().out
        assert "FAILED at solution-ode" in out and "symbolic residual" in out
        assert "derived rate" in out and "the law claims" in out and "claimed solution's" in out
        residual_line = next(line for line in out.splitlines() if "dψ/dτ − f(ψ) =" in line)
        assert "sigma" in residual_line  # the missing σ² term is what remains
    finally:
        theory.unregister("ridge_wrongsol")


def test_emergence_time_broadcasts_q_both_ways():
    """Q of shape (n, 1) with λ of shape (k,) gives τ* (n, k), each row equal to the scalar-Q answer."""
    lam = np.array([1.0, 0.1, 0.01])
    both = theory.emergence_time("linear", lam, Q=np.array([[0.1], [0.3]]))
    assert both.shape == (2, 3)
    for row, q in zip(both, (0.1, 0.3)):
        np.testing.assert_array_equal(row, theory.emergence_time("linear", lam, Q=q))
    with pytest.raises(theory.SpecbiasError, match="does not broadcast"):
        theory.emergence_time("linear", lam, Q=np.array([0.1, 0.2]))
