"""A researcher's own regression tests of a theory, with only the specbias pytest plugin's fixtures,
strategies and assertions (docs/pytest_plugin.md). Run on an architecture module:

    pytest docs/examples/test_my_theory.py --specbias-module docs/examples/ridge_linear.py

(add `-p verify.pytest_plugin` where the plugin's entry point is not installed)."""
import numpy as np
from hypothesis import given

import theory
from verify.pytest_plugin import assert_float64_matches_mpmath, assert_theory_matches_training, fixture_settings
from verify.pytest_plugin import strategies as sb


@fixture_settings(max_examples=6)
@given(lam=sb.spectra(d=3, max_condition=1e3), tau=sb.times(1e-3, 1e2))
def test_float64_code_matches_the_closed_form(specbias_arch, lam, tau):
    assert_float64_matches_mpmath(specbias_arch, lam, tau)


def test_larger_variance_emerges_first(specbias_arch, specbias_spectrum):
    ts = theory.emergence_time(specbias_arch, specbias_spectrum)
    emerging = np.isfinite(ts) & (specbias_spectrum > specbias_arch.initial_variance(0.1))
    assert emerging.sum() >= 2 and np.all(np.diff(ts[emerging]) > 0)  # the spectrum runs from large to small λ


def test_generated_variance_starts_at_v0(specbias_arch, specbias_spectrum, specbias_taus):
    lt = specbias_arch.generated_variance(specbias_spectrum[:, None], specbias_taus[None, :])
    np.testing.assert_allclose(lt[:, 0], specbias_arch.initial_variance(0.1), rtol=1e-9)


def test_training_follows_the_theory(specbias_arch):
    assert_theory_matches_training(specbias_arch, d=6)
