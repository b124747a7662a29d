"""`bench nonlinear`'s own limits (issue 20 §4): censored crossings are bounds, excluded from the fit and
counted; a peak fraction above 100 % is flagged; the checkpoints used are reported."""
import numpy as np
import pytest

import theory
from numerics.run import Run
from verify.nets.bench_flags import censored, checkpoints_used, fits_without_censored, peak_flags


def test_censored_is_the_first_checkpoint_and_nothing_else():
    ts = np.array([0.1, 0.1 * (1 + 1e-9), 0.2, np.nan, 0.05])
    assert censored(ts, 0.1).tolist() == [True, False, False, False, True]


def test_peak_fraction_above_one_is_flagged():
    row = {"train_peak_fraction": 35.3, "sampling_peak_fraction": 0.4, "peak_matmul_n": 16}
    (flag,) = peak_flags(row)
    assert flag.startswith("train at 3530%") and "--peak-size" in flag
    assert peak_flags({"train_peak_fraction": 1.0, "sampling_peak_fraction": 0.99, "peak_matmul_n": 4096}) == []


def test_checkpoints_used_counts_distinct_step_counts():
    assert checkpoints_used(3, 30) == 4  # step counts 0, 1, 2, 3
    assert checkpoints_used(5000, 67) == 67


def _linear_run(first_tau):
    """A run whose variances are the linear closed form (Q = 0.1) on a grid τ = 0, first_tau, ...: modes
    with large λ cross before first_tau; the rest follow τ* ∝ 1/λ."""
    arch = theory.get("linear")
    lam = np.geomspace(0.05, 50, 12)
    tau = np.concatenate([[0.0], np.geomspace(first_tau, 1e3, 400)])
    var = arch.generated_variance(lam[None, :], tau[:, None], Q=0.1)
    boot = np.repeat(var[:, None, :], 12, axis=1)
    return Run({"tau": tau, "var_eigen": var, "var_boot_eigen": boot, "lam_eigen": lam}, {}), lam, arch


def test_censored_modes_are_excluded_from_the_fit_and_counted():
    from verify.nets import analysis as NL

    run, lam, arch = _linear_run(first_tau=0.3)
    em = NL.emergence(run, criteria=("geometric",))["geometric"]
    fits, counts = fits_without_censored(run, em, "geometric")
    cut = censored(em["tau_star"], 0.3)
    assert counts["censored"] == int(cut.sum()) >= 2
    # independent: the exact first passage of the closed form on the uncensored modes only
    exact = theory.emergence_time(arch, lam[~cut], criterion="geometric", Q=0.1)
    ref = theory.fit_exponent(lam[~cut], exact, v0=arch.initial_variance(0.1))["increasing"]
    assert fits["increasing"].n == ref.n
    assert fits["increasing"].alpha == pytest.approx(ref.alpha, abs=0.02)
    naive = em["fits"]["increasing"]  # censored modes fitted as exact bias α
    assert abs(naive.alpha - ref.alpha) > abs(fits["increasing"].alpha - ref.alpha)
