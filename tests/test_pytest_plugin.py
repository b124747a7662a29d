"""The pytest plugin (issue 18, item 9): a researcher's test file that uses only the plugin's fixtures,
strategies and assertions (docs/examples/test_my_theory.py) runs under plain pytest in a subprocess; it
passes for a right theory and FAILS for a wrong one (a typo in the float64 code). The project's own tests
use the plugin's fixtures too (conftest.py loads it)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "docs" / "examples" / "test_my_theory.py"
RIDGE = ROOT / "docs" / "examples" / "ridge_linear.py"


def _pytest(module, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), SPECBIAS_HYPOTHESIS_DB="none")
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "verify.pytest_plugin", str(FILE), "-q",
                           "-p", "no:cacheprovider", "--specbias-module", str(module), *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)


def _typo(tmp_path) -> Path:
    """ridge_linear with σ² dropped from the rate of its float64 _weight (the claimed solution is right)."""
    right = "return K + (Q - K) * np.exp(-2.0 * eta * tau * (sigma**2 + lam + rho))"
    text = RIDGE.read_text()
    assert right in text
    path = tmp_path / "ridge_typo.py"
    path.write_text(text.replace(right, "return K + (Q - K) * np.exp(-2.0 * eta * tau * (lam + rho))"))
    return path


@pytest.mark.slow  # two pytest subprocesses (~8 s idle); CI runs it with -m slow
def test_researchers_file_passes_for_a_right_theory_and_fails_for_a_wrong_one(tmp_path):
    right = _pytest(RIDGE)
    assert right.returncode == 0 and "4 passed" in right.stdout, right.stdout[-1500:]
    wrong = _pytest(_typo(tmp_path), "-k", "training or emerges")  # the fast half; all of it: the slow test
    assert wrong.returncode == 1 and "1 failed, 1 passed" in wrong.stdout, wrong.stdout[-1500:]
    assert "does not follow the closed form" in wrong.stdout


@pytest.mark.slow
def test_float64_property_fails_for_the_typo_with_its_location(tmp_path):
    wrong = _pytest(_typo(tmp_path), "-k", "float64")
    assert wrong.returncode == 1 and "the float64 code does not match the closed form" in wrong.stdout


def test_project_tests_use_the_fixtures(specbias_load, specbias_taus, request):
    """specbias_load with a module path registers it for this test only; the time grid starts at τ = 0."""
    import theory

    arch = specbias_load(str(RIDGE))
    assert arch.name == "ridge_linear" and "ridge_linear" in theory.available()
    assert specbias_taus[0] == 0.0 and np.all(np.diff(specbias_taus) > 0)


@pytest.mark.specbias_arch("circulant")
def test_marker_selects_the_architecture(specbias_arch, specbias_spectrum, specbias_levels):
    assert specbias_arch.name == "circulant" and specbias_spectrum.size == 8
    assert specbias_levels[0] == pytest.approx(0.002)
