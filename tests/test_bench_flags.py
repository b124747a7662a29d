"""`bench nonlinear`'s own limits (issue 20 §4): censored crossings are bounds, excluded from the fit and
counted; a peak fraction above 100 % is flagged; the checkpoints used are reported."""
import numpy as np
import pytest

import theory
from numerics.run import Run
from verify.nets.bench_flags import checkpoints_used, peak_flags


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


def test_bench_table_marks_censored_modes_fits_without_them_and_counts_them():
    from verify.cli.bench import nonlinear_result

    run, lam, arch = _linear_run(first_tau=0.3)
    res = nonlinear_result(run)
    cut = np.asarray(res["table"]["censored"], bool)
    assert res["censored"]["censored"] == int(cut.sum()) >= 2 and res["censored"]["first_checkpoint_tau"] == 0.3
    assert np.all(np.asarray(res["table"]["tau_star"])[cut] <= 0.3 * (1 + 1e-12))  # bounds, at the first checkpoint
    # independent: the exact first passage of the closed form on the uncensored modes only
    exact = theory.emergence_time(arch, lam[~cut], criterion="geometric", Q=0.1)
    ref = theory.fit_exponent(lam[~cut], exact, v0=arch.initial_variance(0.1))["increasing"]
    fit = res["fits"]["increasing"]
    assert fit["n"] == ref.n and fit["alpha"] == pytest.approx(ref.alpha, abs=0.02)
    # fitted as exact, the censored bounds drag α far down (0.44 here): they must stay out
    naive = theory.fit_exponent(lam, np.asarray(res["table"]["tau_star"]), v0=run.var_eigen[0])["increasing"]
    assert naive.n > fit["n"] and abs(naive.alpha - ref.alpha) > 0.3
