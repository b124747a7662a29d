"""The default nonlinear preset's two shortcuts on the paper's Gaussian-MLP protocol (issue 16 item 4):
bf16 autocast in training and FAST_SAMPLES CRN samples per checkpoint are accepted only because the τ*
table and α of the shortened run agree with the float32, 2000-sample run of the same seed within that
run's CIs, and both give the same verdict. Two full trainings of the paper's protocol: slow.

The checker (verify.nets.analysis.within_ci) fails on a known-wrong run in tests/test_nonlinear_seeds.py
(test_parity_check_fails_on_a_different_training)."""
import numpy as np
import pytest

from verify.nets import analysis as NL
from verify.nets import report as RN

pytestmark = pytest.mark.slow  # ≈ 9 min of training on 2 idle cores (float32 ≈ 5.5 min, the preset's ≈ 3.2)


def _run(exp, tmp_path):
    run, em, cmp = RN.run_experiment(exp, tmp_path, seed=0, progress=False)
    return run, em, cmp


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fast")
    fast = [e for e in RN.EXPERIMENTS if e.net == "mlp"][0]
    return _run(RN.paper_mlp(), tmp / "ref"), _run(fast, tmp / "fast")


def test_the_preset_differs_from_the_reference_only_by_its_shortcuts():
    fast = [e for e in RN.EXPERIMENTS if e.net == "mlp"][0]
    ref = RN.paper_mlp()
    differ = {k for k in ref.__dataclass_fields__ if getattr(ref, k) != getattr(fast, k)}
    assert differ == {"autocast", "n_samples"}


def test_shortcuts_keep_tau_star_and_alpha_within_the_float32_cis(pair):
    (ref_run, ref_em, _), (run, em, _) = pair
    assert run.meta["autocast"] == "bf16" and ref_run.meta["autocast"] is None
    assert run.meta["sampler"]["n_samples"] < ref_run.meta["sampler"]["n_samples"]
    for crit in ("geometric", "harmonic"):
        check = NL.within_ci(ref_em[crit], em[crit])
        assert check["ok"], (crit, check)


def test_shortcuts_keep_the_verdict(pair):
    (_, _, ref_cmp), (_, _, cmp) = pair
    assert cmp["flag"].classification == ref_cmp["flag"].classification


def test_fewer_samples_leave_the_monte_carlo_part_below_the_regression_part(pair):
    """Sizing the samples to the CI: at FAST_SAMPLES the Monte-Carlo half-width of α (geometric, both
    directions) stays below the regression half-width, so the combined CI is dominated by the modes'
    scatter, not by the sampling."""
    (_, _, _), (_, em, _) = pair
    for d, f in em["geometric"]["fits"].items():
        if f.n < 3:
            continue
        mc, reg = np.diff(f.ci_mc)[0] / 2, np.diff(f.ci_fit)[0] / 2
        assert mc < reg, (d, mc, reg)
