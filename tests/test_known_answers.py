"""theory.md §4.3 regression anchors and §3.2 / §2.2 worked numbers, reproduced from the closed forms."""
import numpy as np
import pytest

import theory
from verify.tolerances import tol

LAM = np.array([1e-3, 1e-2, 1e-1, 1, 10, 1e2])
TABLE = {  # (arch, Q, criterion) → τ* at LAM (η = 1, σ0 = 0.002, σT = 80, exact v₀)
    ("linear", 0.0, "geometric"): [264.67, 28.740, 3.0032, 0.30863, 0.031451, 0.0031954],
    ("linear", 0.1, "harmonic"): [213.77, 12.430, 0.80337, 0.054125, 0.0036598, 2.4335e-4],
    ("sym_two_layer", 0.1, "geometric"): [341.93, 31.991, 3.0885, 0.30217, 0.029773, 0.0029497],
}


@pytest.mark.parametrize("key", list(TABLE), ids=lambda k: f"{k[0]}-Q{k[1]}-{k[2]}")
def test_emergence_table(key):
    arch, Q, criterion = key
    if arch not in theory.available():
        pytest.fail(f"{arch} is not registered")
    got = theory.emergence_time(arch, LAM, criterion=criterion, Q=Q)
    t = tol("known-answer")
    np.testing.assert_allclose(got, TABLE[key], rtol=t.rel)


def test_kl_reference():
    d = 256
    lam = 1.0 / np.arange(1, d + 1)
    lam /= lam.mean()
    lt = theory.get("linear").generated_variance(lam[None, :], np.array([0, 0.1, 1, 10])[:, None], Q=0.1)
    got = theory.kl(lam, lt, direction="generated||data")
    np.testing.assert_allclose(got, [1086, 974.5, 414, 0.637], rtol=2e-3)  # theory.md §4.3 quotes 3–4 digits


def test_initial_variance_values():
    got = theory.get("linear").initial_variance(np.array([0, 0.1, 0.5, 0.6, 1.0]))
    np.testing.assert_allclose(got, [4e-6, 3.3e-5, 0.16, 1.33, 6400], rtol=1e-2)


def test_non_monotone_low_variance_mode():
    lt = theory.get("linear").generated_variance(0.01, [0.01, 0.1, 1, 10, 100], Q=0.5)
    np.testing.assert_allclose(lt, [0.0106, 0.0034, 0.0012, 0.0009, 0.0067], rtol=0.05, atol=5e-5)


def test_kl_directions_are_named():
    both = theory.kl([1.0, 2.0], [2.0, 2.0])
    assert set(both) == {"generated||data", "data||generated"}
    assert both["generated||data"] == pytest.approx(0.5 * (2 - 1 - np.log(2)))
    assert both["data||generated"] == pytest.approx(0.5 * (0.5 - 1 + np.log(2)))
