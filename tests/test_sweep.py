"""Sweeps: specs fail before anything runs, Dask equals serial bit for bit, a kill loses nothing and
duplicates nothing, a dying worker leaves the run recorded, and the aggregation's numbers are right."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from theory.errors import SpecbiasError
from verify import sweep
from verify.cli import main
from verify.sweep import aggregate
from verify.sweep.execute import run_serial
from verify.sweep.store import Store

TINY = {"d": 4, "levels": 4, "checkpoints": 6, "tau_max": 10.0, "step_fraction": 0.2, "criteria": ["geometric"]}
TIMING = ("wall_s", "cpu_s", "worker", "finished_at")


def tiny(seeds=2, **grid):
    return {"name": "tiny", "defaults": dict(TINY), "grid": [{"arch": "linear", "seeds": seeds, **grid}]}


def strip(record):
    return {k: v for k, v in record.items() if k not in TIMING}


# ---- specs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, named", [
    ({"grid": [{"arch": "linear"}], "bogus": 1}, "'bogus'"),
    ({"grid": [{"arch": "linear", "widht": 3}]}, "'widht'"),
    ({"grid": []}, "grid"),
    ({"grid": [{"arch": "linear", "seed": []}]}, "grid[0].seed"),
    ({"grid": [{"arch": "nope"}]}, "arch = 'nope'"),
    ({"grid": [{"arch": "linear", "Q": [0.1, 1.5]}]}, "Q = 1.5"),
    ({"grid": [{"arch": "deep_linear", "Q": 0.0}]}, "Q = 0.0"),
    ({"grid": [{"arch": "patch_conv", "K": [3, 4]}]}, "K = 4"),
    ({"defaults": {"d": 8}, "grid": [{"arch": "patch_conv", "K": 11}]}, "K = 11"),
    ({"grid": [{"arch": "linear", "spectrum": "pink"}]}, "spectrum must be one of"),
    ({"grid": [{"arch": "linear", "d": 1}]}, "d must be an integer in [2, 4,096]"),
    ({"grid": [{"arch": "linear", "tau_min": 5.0, "tau_max": 1.0}]}, "tau_max"),
])
def test_bad_spec_fails_before_any_run_naming_the_key(data, named, tmp_path):
    with pytest.raises(SpecbiasError, match=None) as info:
        sweep.parse(data)
    assert named in str(info.value), info.value
    path = tmp_path / "bad.toml"
    path.write_text(_toml(data))
    assert main([ "sweep", str(path), "--out", str(tmp_path / "out"), "--serial", "--no-progress"]) == 2
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written


def _toml(data) -> str:
    def val(v):
        return json.dumps(v)
    lines = [f"{k} = {val(v)}" for k, v in data.items() if not isinstance(v, (dict, list))]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += [f"[{k}]"] + [f"{a} = {val(b)}" for a, b in v.items()]
    for block in data.get("grid", []):
        lines += ["[[grid]]"] + [f"{a} = {val(b)}" for a, b in block.items()]
    if data.get("grid") == []:
        lines.append("grid = []")
    return "\n".join(lines) + "\n"


def test_cli_bad_spec_message(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("grid:\n  - arch: linear\n    Q: 7\n")
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("specbias: error: grid[0]: Q = 7") and "Traceback" not in err


def test_keys_identify_runs_and_a_change_invalidates_only_its_own():
    a = sweep.parse(tiny(seeds=3))
    spelled = tiny(seeds=3)
    spelled["defaults"].update(Q=0.1, protocol="population", eta=1)  # the defaults, spelled out
    assert [p.key for p in sweep.parse(spelled).runs] == [p.key for p in a.runs]
    changed = tiny(seeds=3)
    changed["grid"].append({"arch": "linear", "seed": 1, "Q": 0.2})
    b = sweep.parse(changed)
    assert {p.key for p in a.runs} < {p.key for p in b.runs} and len(b.runs) == 4
    assert len({p.config_id for p in a.runs}) == 1 and len({p.key for p in a.runs}) == 3


# ---- execution --------------------------------------------------------------------------------------
def test_dask_two_workers_equals_serial_bit_for_bit(tmp_path):
    from distributed import Client

    spec = sweep.parse(tiny(seeds=2, spectrum=["lognormal", "powerlaw"]))
    run_serial(spec.runs, Store(tmp_path / "serial"))
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        res = sweep.run_sweep(spec, tmp_path / "dask", client=client, progress=False)
    serial = Store(tmp_path / "serial").records([p.key for p in spec.runs])
    assert res.executed == 4 and not res.failed
    assert [strip(r) for r in res.records] == [strip(r) for r in serial]
    assert len(res.results) == 4 and set(res.results["seed"]) == {0, 1}


def test_failing_run_is_recorded_and_retried_next_time(tmp_path):
    spec = sweep.parse(tiny(seeds=1, spectrum=["lognormal", "powerlaw"], protocol="samples", batch=4,
                            tau_max=1e5))
    res = sweep.run_sweep(spec, tmp_path, serial=True, progress=False)
    # minibatch GD up to τ = 1e5 would need ~1e10 steps: numerics.train refuses, the sweep goes on
    assert len(res.failed) == 2 and all("SpecbiasError" in r["error"] for r in res.failed)
    assert list(res.results["status"]) == ["failed", "failed"]
    again = sweep.run_sweep(spec, tmp_path, serial=True, progress=False)
    assert again.executed == 2 and again.skipped == 0


def test_changed_configuration_reruns_only_its_own_runs(tmp_path):
    first = sweep.run_sweep(sweep.parse(tiny(seeds=2)), tmp_path, serial=True, progress=False)
    stored = {p.name: p.read_bytes() for p in (tmp_path / "runs").glob("*.json")}
    again = sweep.run_sweep(sweep.parse(tiny(seeds=2, Q=[0.1, 0.2])), tmp_path, serial=True, progress=False)
    assert (first.executed, again.executed, again.skipped) == (2, 2, 2) and len(again.results) == 4
    assert {p.name: p.read_bytes() for p in (tmp_path / "runs").glob("*.json") if p.name in stored} == stored


def test_kill_halfway_then_resume_runs_each_exactly_once(tmp_path):
    spec_path = tmp_path / "s.toml"
    spec_path.write_text(_toml(tiny(seeds=12)))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-m", "verify.cli", "sweep", str(spec_path), "--out", str(out),
                             "--serial", "--no-progress"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "runs").glob("*.json"))) < 2:
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    before = {p.name: p.read_bytes() for p in (out / "runs").glob("*.json")}
    assert 2 <= len(before) < 12, "the sweep was not killed halfway"
    res = sweep.run_sweep(sweep.load(spec_path), out, serial=True, progress=False)
    assert res.skipped == len(before) and res.executed == 12 - len(before)
    assert {p.name: p.read_bytes() for p in (out / "runs").glob("*.json") if p.name in before} == before
    keys = list(res.results["key"])
    assert len(keys) == 12 and len(set(keys)) == 12 and not res.failed
    assert sorted(res.results["seed"]) == list(range(12))


# ---- aggregation ------------------------------------------------------------------------------------
def test_seed_interval_and_pooled_within_known_values():
    mean, sd, half = aggregate.seed_interval([1.0, 2.0, 3.0, np.nan])
    assert (mean, sd) == (2.0, 1.0)
    # Student t with 2 degrees of freedom: F(t) = 1/2 + t/(2√(2 + t²)), so t_0.975 = √(2·0.95²/(1 − 0.95²))
    assert half == pytest.approx(np.sqrt(2 * 0.95**2 / (1 - 0.95**2)) / np.sqrt(3), rel=1e-12)
    assert aggregate.pooled_within([0.3, 0.4, np.nan]) == pytest.approx(0.25, rel=1e-12)
    assert np.isnan(aggregate.seed_interval([1.0])[2])


@pytest.mark.parametrize("mean, seed_half, within, expected", [
    (1.00, 0.005, 0.004, "holds"), (1.20, 0.01, 0.02, "fails"), (0.90, 0.02, 0.01, "fails"),
    (1.00, 0.10, 0.01, "inconclusive"), (1.00, 0.001, 0.10, "inconclusive"), (np.nan, 0.1, 0.1, "no fit"),
])
def test_verdict_against_declared_range(mean, seed_half, within, expected):
    assert aggregate.verdict(mean, seed_half, within, (0.95, 1.05)) == expected
    assert aggregate.verdict(mean, seed_half, within, None) == "no range"


def test_summary_reports_both_intervals(tmp_path):
    res = sweep.run_sweep(sweep.parse(tiny(seeds=3)), tmp_path, serial=True, progress=False)
    g = next(g for g in res.groups if g.direction == "increasing")
    alphas = res.results["alpha_geometric_increasing"].to_numpy()
    assert g.mean == pytest.approx(alphas.mean(), rel=1e-12) and g.n_ok == 3
    md = (tmp_path / "summary.md").read_text()
    assert f"[{g.mean - g.seed_half:.3f}, {g.mean + g.seed_half:.3f}]" in md
    assert f"[{g.mean - g.within_half:.3f}, {g.mean + g.within_half:.3f}]" in md
    assert (tmp_path / "exponents.png").stat().st_size > 0
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["ok"] == 3 and meta["missing"] == []


# ---- a worker that dies mid-run -----------------------------------------------------------------------
class CrashKind(sweep.RunKind):
    """Exits its worker process: always, once (a marker file remembers), or never."""

    name = "test-crash"
    keys = {"seed": sweep.Key(0, lambda _, v: int(v)), "crash": sweep.Key("never", lambda _, v: str(v)),
            "marker": sweep.Key("", lambda _, v: str(v))}

    def run(self, config):
        marker = Path(config["marker"]) / f"{config['seed']}-{config['crash']}"
        if config["crash"] == "always" or (config["crash"] == "once" and not marker.exists()):
            marker.touch()
            os._exit(1)
        return sweep.Result([{"criterion": "geometric", "direction": "increasing", "alpha": float(config["seed"]),
                              "ci_lo": 0.0, "ci_hi": 1.0, "r2": 1.0, "n": 3}])


@pytest.mark.slow
def test_worker_dying_mid_run_is_retried_or_recorded(tmp_path):
    import cloudpickle
    import dask
    from distributed import Client, LocalCluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    sweep.register_kind(CrashKind())
    try:
        spec = sweep.parse({"kind": "test-crash", "defaults": {"marker": str(tmp_path)},
                            "grid": [{"crash": ["never", "once", "always"], "seeds": 2}]})
        # two retries per run; one task per worker at a time, so a death hits only the run that caused it
        with dask.config.set({"distributed.scheduler.allowed-failures": 2,
                              "distributed.scheduler.worker-saturation": 1.0}), \
                LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            res = sweep.run_sweep(spec, tmp_path / "out", client=client, progress=False)
    finally:
        sweep.unregister_kind("test-crash")
    status = {(r["config"]["crash"], r["config"]["seed"]): r["status"] for r in res.records}
    assert len(res.records) == 6 and len(set(res.results["key"])) == 6  # nothing silently missing
    assert all(status[("always", s)] == "failed" for s in (0, 1))
    assert all("worker died" in r["error"] for r in res.failed)
    # a run whose worker died once was retried by the scheduler and finished
    assert all(status[(c, s)] == "ok" for c in ("never", "once") for s in (0, 1)), status
