"""Sweeps that talk about their cluster (issue 18 §6, issue 20 §3/§7): a bad or unreachable scheduler is
one line naming the address and the timeout, a corrupt run record is reported and re-run (never blocking
the resume), no worker left ends in a clear timeout, and every record carries its `attempt`."""
import json
import time

import pytest

from theory.errors import SpecbiasError
from verify import sweep
from verify.cli import main
from verify.sweep.cluster import check_address, run_dask
from verify.sweep.store import COLUMNS, Store

TINY = {"d": 4, "levels": 4, "checkpoints": 6, "tau_max": 10.0, "step_fraction": 0.2, "criteria": ["geometric"]}


def tiny(seeds=3):
    return sweep.parse({"name": "tiny", "defaults": dict(TINY), "grid": [{"arch": "linear", "seeds": seeds}]})


def _one_line(capsys, *frags):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("specbias: error:"), err
    assert "internal error" not in err and all(f in err for f in frags), err
    return err


@pytest.mark.parametrize("address", ["garbage", "tcp://host", "foo://x:1", "tcp://h:99999", "tcp://h:abc",
                                     "tcp://:8786", "inproc://x", ""])
def test_malformed_scheduler_is_refused_before_anything(address, tmp_path, capsys):
    t0 = time.perf_counter()
    assert main(["sweep", "--example", "--scheduler", address, "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    _one_line(capsys, "--scheduler")
    assert time.perf_counter() - t0 < 10 and not (tmp_path / "o").exists()  # module imports included


def test_well_formed_addresses_pass_the_check():
    assert check_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert check_address("tls://node-3.cluster:8786") == "tls://node-3.cluster:8786"


def test_unreachable_scheduler_names_address_and_timeout(tmp_path, capsys):
    t0 = time.perf_counter()
    assert main(["sweep", "--example", "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "1",
                 "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    _one_line(capsys, "tcp://127.0.0.1:1", "1 s")
    assert time.perf_counter() - t0 < 20 and not (tmp_path / "o").exists()  # was 35 s, "internal error"


@pytest.mark.parametrize("damage", [
    lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]),  # truncated by a full disk
    lambda p: p.write_text(json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "key"})),
    lambda p: p.write_text('["not", "a", "record"]'),
    lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
], ids=["truncated", "key-less", "not-an-object", "binary"])
def test_corrupt_record_is_reported_and_rerun_never_blocking_resume(damage, tmp_path, caplog):
    spec = tiny()
    first = sweep.run_sweep(spec, tmp_path, serial=True, progress=False)
    victim = tmp_path / "runs" / f"{spec.runs[1].key}.json"
    damage(victim)
    with caplog.at_level("WARNING", logger="specbias.sweep"):
        again = sweep.run_sweep(spec, tmp_path, serial=True, progress=False)
    assert (again.executed, again.skipped) == (1, 2) and not again.failed
    assert any(str(victim) in r.getMessage() and "corrupt" in r.getMessage() for r in caplog.records)
    assert json.loads(victim.read_text())["key"] == spec.runs[1].key  # rewritten whole
    assert list(again.results["key"]) == list(first.results["key"])


def test_attempt_column_is_filled_and_documented(tmp_path):
    res = sweep.run_sweep(tiny(2), tmp_path, serial=True, progress=False)
    assert list(res.results["attempt"]) == [1, 1]
    assert "attempt" in COLUMNS
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["cluster"]["lost"] == 0 and "attempt" in meta["columns"]


def test_no_worker_left_is_a_clear_timeout_and_keeps_what_was_stored(tmp_path):
    from distributed import Client, LocalCluster

    spec = tiny(2)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        with pytest.raises(SpecbiasError, match=r"no Dask worker left .* for 2 s with 2 run\(s\) not finished"):
            run_dask(spec.runs, Store(tmp_path), client, no_worker_timeout=2)
        assert time.perf_counter() - t0 < 15
    assert not (tmp_path / "runs").exists()


def test_ci_runs_the_slow_tests_after_the_readmes_fast_command():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    ci = (root / ".ci" / "run").read_text()
    assert ci.index('bash -c "$TEST"') < ci.index("python -m pytest -m slow")
    readme = (root / "README.md").read_text()
    assert "```bash\npython -m pytest\n```" in readme  # the README's command stays the fast default


def test_planning_builds_data_once_per_configuration_not_per_run(monkeypatch):
    """`sweep --dry-run` spent ~37 ms per run building each run's data, and the 'varied' keys were found in
    time quadratic in the runs (about an hour at the allowed maximum)."""
    from verify.sweep import train_kind

    train_kind._closed_form_problem.cache_clear()
    calls = []
    real = train_kind.TrainKind.data
    monkeypatch.setattr(train_kind.TrainKind, "data", staticmethod(lambda c: calls.append(1) or real(c)))
    t0 = time.perf_counter()
    spec = sweep.parse({"name": "big", "defaults": {"d": 8},
                        "grid": [{"arch": "linear", "Q": [0.1, 0.2], "seeds": 1000}]})
    assert len(spec.runs) == 2000 and spec.varied == ["Q"]
    assert len(calls) == 2  # one data build per configuration (Q), none per seed
    assert time.perf_counter() - t0 < 20  # ~3 s on a loaded 2-core machine (~80 s before: 37 ms per run)


@pytest.mark.slow
def test_workers_a_local_cluster_closed_for_good_are_started_again():
    """A LocalCluster closes a worker whose restart takes longer than distributed.deploy.lost-worker-timeout
    (15 s, reached on a loaded machine); the sweep then had no worker and timed out. The watch starts the
    cluster's missing workers again (here forced with a 0.1 s timeout)."""
    import logging
    import os

    import dask
    from distributed import Client, LocalCluster

    from verify.sweep.cluster import Counts, _Watch

    def die():
        os._exit(1)

    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.deploy.lost-worker-timeout": "0.1s"}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                         silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        counts = Counts()
        watch = _Watch(client, counts, no_worker_timeout=1)
        for _ in range(2):
            client.submit(die, pure=False)
        deadline = time.time() + 90
        while time.time() < deadline:
            time.sleep(1)
            watch.check(1, "local")  # never times out on a cluster that manages its workers
            if counts.workers_restarted and len(client.scheduler_info()["workers"]) == 2:
                break
        assert counts.workers_lost >= 1 and counts.workers_restarted >= 1
        assert len(client.scheduler_info()["workers"]) == 2
