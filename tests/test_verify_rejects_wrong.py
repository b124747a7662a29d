"""A deliberately wrong closed form (rate 2ηλ instead of 2η(σ² + λ)) must be caught by derive and verify.

The wrong architecture lives in a temporary module file, loaded the way a researcher's would be.
"""
import textwrap

import pytest

import theory
from verify.cli import main

WRONG = textwrap.dedent('''
    import numpy as np
    import sympy as sp
    import theory
    from theory import symbols as S
    from theory.archs.linear import Linear

    class WrongRate(Linear):
        """The one-layer model with the σ² dropped from its rate: ψ = K + (Q − K)e^{−2ηλτ}."""
        name = "wrong_rate"

        def solution(self, **p):
            return S.K + (S.Q - S.K) * sp.exp(-2 * S.eta * S.tau * S.lam)

        def _weight(self, lam, sigma, tau, Q, eta, **p):
            K = lam / (lam + sigma**2)
            return K + (Q - K) * np.exp(-2.0 * eta * tau * lam)

    theory.register(WrongRate())
''')


@pytest.fixture
def wrong_module(tmp_path):
    path = tmp_path / "wrong_rate.py"
    path.write_text(WRONG)
    yield str(path)
    theory.unregister("wrong_rate")


def test_derive_rejects_with_residual_and_counterexample(wrong_module, capsys):
    assert main(["derive", wrong_module]) == 1
    out = capsys.readouterr().out
    assert "FAILED at solution-ode" in out
    assert "residual" in out and "counter-example: " in out and "sigma=" in out


def test_verify_rejects_and_prints_falsifying_example(wrong_module, capsys):
    assert main(["verify", "wrong_rate", "--module", wrong_module, "--profile", "ci"]) == 1
    captured = capsys.readouterr()
    assert "FAIL  " in captured.out and "wrong_rate" in captured.out
    assert "FAILED wrong_rate / derivation" in captured.err
    assert "FAILED wrong_rate / closed-form-vs-quadrature" in captured.err
    # our header, then Hypothesis's minimal example (its wording varies across versions)
    assert "minimal falsifying example (paste into a test):" in captured.err
    assert "generated_variance_equals_quadrature(" in captured.err and "lam=" in captured.err


def test_training_disagrees_with_the_wrong_weights(wrong_module):
    from verify.properties.engine import run_property

    theory.load_module(wrong_module)
    out = run_property("wrong_rate", "theory-vs-numerics", "ci")
    assert not out.ok and out.message.startswith("|Δψ| =")  # the weights, before the variance


def test_registry_refuses_a_second_architecture_under_a_taken_name():
    from theory.archs.linear import Linear

    class Impostor(Linear):
        pass

    with pytest.raises(theory.SpecbiasError, match="already registered"):
        theory.register(Impostor())
    assert type(theory.get("linear")) is Linear
