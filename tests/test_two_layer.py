"""Tied and untied balanced two-layer denoisers (theory.md §2.3–2.4): the logistic clocks."""
import numpy as np
import pytest

import theory

LAM = np.geomspace(1e-3, 1e2, 7)


def test_untied_emerges_exactly_twice_as_late():
    # λ̃ depends on τ only through mηλτ (m = 8 tied, 4 untied), so τ* doubles and α is unchanged
    for criterion in ("geometric", "harmonic"):
        tied = theory.emergence_time("sym_two_layer", LAM, criterion=criterion, Q=0.1)
        untied = theory.emergence_time("two_layer", LAM, criterion=criterion, Q=0.1)
        np.testing.assert_allclose(untied / tied, 2.0, rtol=1e-9)


@pytest.mark.parametrize("name,m", [("sym_two_layer", 8), ("two_layer", 4)])
def test_harmonic_weight_crossing_is_free_of_sigma_and_Q(name, m):
    arch = theory.get(name)
    sigma, Q = np.geomspace(1e-3, 1e2, 6)[:, None], np.array([0.01, 0.3, 0.9])[:, None, None]
    lam = LAM[None, :]
    K = lam / (lam + sigma**2)
    w = arch.weight(lam, sigma, np.log(2) / (m * lam), Q=Q)
    np.testing.assert_allclose(w, 2 * Q * K / (Q + K), rtol=1e-13)


@pytest.mark.parametrize("name", ["sym_two_layer", "two_layer"])
def test_q_zero_learns_nothing_and_q_one_is_stable(name):
    arch = theory.get(name)
    assert np.all(arch.weight(LAM, 1.0, 1e4, Q=0.0) == 0.0)
    assert arch.note_on_Q(0.0) is not None
    lt = arch.generated_variance(LAM[:, None], [0.0, 1e-3, 1e4], Q=1.0)
    assert np.all(np.isfinite(lt))
    np.testing.assert_allclose(lt[:, -1], 80.0**2 * (LAM + 0.002**2) / (LAM + 80.0**2), rtol=1e-12)
