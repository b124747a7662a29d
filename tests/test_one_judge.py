"""One judge of agreement (issue 17): `specbias train` reports the verdict of verify.agreement, the same
per-run bound and the same code as `verify` and `report` (compare()), so one run gets one verdict."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np

from numerics import data as D
from numerics.train import train
from verify.agreement import compare, judge
from verify.cli import main


def _run(keep=True, **kw):
    ds = D.gaussian(4, "lognormal", seed=0)
    return ds, train("linear", ds, taus=np.geomspace(1e-3, 10.0, 4), sigmas=np.geomspace(0.002, 80.0, 3),
                     keep_weights=keep, progress=False, **kw)


def test_train_judge_is_the_report_judge():
    ds, run = _run()
    a, j = compare(run, ds, ds.name), judge(run, ds, ds.name)
    assert j["ok"] == a.ok and j["within_tolerance"] == a.weights_ok
    assert j["log_variance"]["within_tolerance"] == a.variance_ok
    assert j["tolerance_abs"] == a.weight_tol.abs and j["log_variance"]["tolerance_abs"] == a.logvar_tol.abs
    assert np.allclose(j["max_abs_error"], a.weight_error.reshape(len(run.tau), -1).max(-1))


def test_the_cli_prints_the_same_verdict(tmp_path):
    """The verdict `specbias train` prints is compare()'s verdict on the very run it saved."""
    from numerics.run import Run

    argv = ["train", "linear", "--d", "4", "--levels", "3", "--taus", "0.001", "0.1", "10", "--keep-weights",
            "--json", "--out", str(tmp_path)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    cli = json.loads(out.getvalue())["theory"]
    run, ds = Run.load(tmp_path), D.load("lognormal", 4, seed=0)
    a = compare(run, ds)
    assert cli["available"] and cli["ok"] == a.ok and cli["within_tolerance"] == a.weights_ok
    assert cli["log_variance"]["within_tolerance"] == a.variance_ok and cli["tolerance_abs"] == a.weight_tol.abs
    assert run.meta["theory_comparison"]["ok"] == a.ok


def test_a_wrong_run_fails_everywhere():
    """A run whose gains are pushed off the flow by more than the bound fails in both judges."""
    ds, run = _run()
    run.arrays["gains"] = run.gains + 0.5
    a, j = compare(run, ds), judge(run, ds)
    assert not a.weights_ok and not j["within_tolerance"] and not j["ok"] and not a.ok


def test_without_weights_only_the_weights_are_judged():
    ds, run = _run(keep=False)
    j = judge(run, ds)
    assert j["log_variance"] is None and j["ok"] == j["within_tolerance"]
    ds, kept = _run()
    a = compare(kept, ds)
    assert j["within_tolerance"] == a.weights_ok and j["tolerance_abs"] == a.weight_tol.abs
