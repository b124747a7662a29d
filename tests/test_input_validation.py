"""Every bad input to the theory API is refused with a SpecbiasError (issue 8, §3): never garbage."""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import theory
from theory import SpecbiasError

LIN = theory.get("linear")


@pytest.mark.parametrize("call", [
    lambda: theory.fit_exponent([-1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
    lambda: theory.fit_exponent([np.nan, 2.0, 3.0], [1.0, 2.0, 3.0]),
    lambda: theory.fit_exponent([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], v0=-1.0),
    lambda: theory.fit_exponent([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], confidence=2),
    lambda: theory.fit_exponent([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], confidence=0),
    lambda: theory.fit_exponent([1.0, 2.0, 3.0], [1.0, 2.0]),
    lambda: theory.fit_exponent([1.0, 2.0, 3.0], [1.0, -2.0, 3.0]),
    lambda: theory.fit_exponent([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], v0=[0.1, 0.2]),
    lambda: theory.fit_exponent([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], gray_zone=(2.0, 0.5)),
    lambda: theory.fit_exponent(np.array([1.0, 2.0, 3.0]) + 1j, [1.0, 2.0, 3.0]),
    lambda: LIN.weight(np.array([1.0 + 0.5j, 2.0]), 1.0, 1.0),
    lambda: LIN.log_generated_variance(np.array([1.0 + 0.5j]), 1.0),
    lambda: LIN.log_generated_variance(1.0, 1.0, dps=0),
    lambda: LIN.log_generated_variance(1.0, 1.0, dps=-3),
    lambda: LIN.log_generated_variance(1.0, 1.0, dps="abc"),
    lambda: LIN.weight(1.0, 1.0, 1.0, dps=2.5),
    lambda: LIN.weight(1.0, 1.0, 1.0, dps=True),
    lambda: LIN.log_generated_variance(1.0, 1.0, sigmaT=1e200),
    lambda: LIN.initial_variance(sigmaT=1e200),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], grid=1),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], grid=2.5),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], tau_range=(5.0, 1.0)),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], tau_range=(-1.0, 1.0)),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], tau_range=(1.0, 2.0, 3.0)),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], tau_range=(1e-8, 1e300)),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], tau_range="abc"),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], Q=[0.1, 0.2, 0.3]),
    lambda: theory.emergence_time(LIN, [1.0, 10.0], criterion="median"),
    lambda: theory.kl([1.0, 2.0], [1.0, 2.0], delta_mean=[1.0, 2.0, 3.0]),
    lambda: theory.kl([1.0, 2.0], [1.0, 2.0, 3.0]),
    lambda: theory.kl([1.0, 2.0], [1.0, 2.0], direction="sideways"),
], ids=lambda f: f.__code__.co_firstlineno)
def test_bad_input_is_refused(call):
    with pytest.raises(SpecbiasError) as err:
        call()
    assert "\n" not in str(err.value)


def test_a_mode_that_crosses_is_found_on_the_coarsest_grid():
    """grid = 1 used to return NaN for a mode that crosses; 2 points must find the exact crossing,
    checked against the 50-digit reference ln λ̃ at the returned τ* (geometric threshold √(v₀λ))."""
    lam = np.array([1.0, 10.0])
    coarse = theory.emergence_time(LIN, lam, grid=2)
    assert np.all(np.isfinite(coarse))
    v0 = LIN.initial_variance(0.1)
    ref = LIN.log_generated_variance(lam, coarse, dps=50)
    np.testing.assert_allclose(ref, 0.5 * np.log(v0 * lam), rtol=1e-9)


@pytest.mark.parametrize("rel", [1e-3, 1e-8, 1e-12, 1e-15, 3e-16, 0.0])
def test_kl_of_nearly_equal_variances_is_accurate_and_never_negative(rel):
    """Each term is x − ln(1 + x) ≥ 0; the true value from 50-digit mpmath (x = rel·(1, 1/2))."""
    lam = np.array([1.0, 2.0])
    lt = lam * (1.0 + np.array([rel, rel / 2]))
    got = theory.kl(lam, lt)
    with mp.workdps(50):
        r = [mp.mpf(float(a)) / mp.mpf(float(b)) for a, b in zip(lt, lam)]
        fwd = float(sum(x - 1 - mp.log(x) for x in r) / 2)
        back = float(sum(1 / x - 1 + mp.log(x) for x in r) / 2)
    for name, true in (("generated||data", fwd), ("data||generated", back)):
        assert got[name] >= 0.0
        assert abs(got[name] - true) <= 1e-12 * true + 1e-33, (name, got[name], true)
