"""`run_sweep`: plan → skip what is stored → execute the rest → table, aggregation, summary."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from theory import output

from . import aggregate, summary
from .cluster import CONNECT_TIMEOUT, NO_WORKER_TIMEOUT, Counts, client_for, run_dask
from .execute import Progress, run_serial, versions
from .spec import FORMAT, Spec, load
from .store import COLUMNS, Store, tables

log = logging.getLogger("specbias.sweep")


@dataclass
class SweepResult:
    root: Path
    spec: Spec
    records: list  # one per planned run, in spec order
    groups: list  # aggregate.Group per configuration × criterion × direction
    results: pd.DataFrame
    executed: int
    skipped: int
    cluster: dict | None = None  # Counts.as_dict(): workers lost, runs retried alone, recovered, blamed

    @property
    def failed(self) -> list:
        return [r for r in self.records if r["status"] != "ok"]


def out_folder(spec: Spec, out=None) -> Path:
    """The sweep's folder (default sweeps/<name>), checked by the output-folder rule before any run:
    new, empty, or marked by specbias as a sweep (theory.output.check_out)."""
    return output.check_out(out or Path("sweeps") / spec.name, "sweep", "--out")


def _report_corrupt(store: Store) -> None:
    for key, (path, why) in sorted(store.corrupt.items()):
        log.warning("specbias sweep: %s is corrupt (%s): run %s will be run again", path, why, key)


def run_sweep(spec, out=None, *, scheduler: str | None = None, workers: int | None = None,
              serial: bool = False, client=None, progress: bool = True,
              connect_timeout: float = CONNECT_TIMEOUT, no_worker_timeout: float = NO_WORKER_TIMEOUT) -> SweepResult:
    """Run every planned run of `spec` (a Spec or a path) not yet stored under `out` (default
    sweeps/<name>): serially, on `client`, on the cluster at `scheduler`, or on a new LocalCluster of
    `workers` processes (default: one per core). Then write the table, aggregation and summary.
    A corrupt or truncated runs/<key>.json is reported (logger specbias.sweep) and its run re-run."""
    spec = spec if isinstance(spec, Spec) else load(spec)
    store = Store(out_folder(spec, out), spec.name)  # marked as a sweep's at its first write
    keys = [p.key for p in spec.runs]
    done = store.completed(keys)
    _report_corrupt(store)
    todo = [p for p in spec.runs if p.key not in done]
    bar = Progress(len(todo), len(done), progress)
    counts, start = Counts(), time.perf_counter()
    try:
        if todo and serial:
            run_serial(todo, store, bar)
        elif todo and client is not None:
            run_dask(todo, store, client, bar, no_worker_timeout=no_worker_timeout, counts=counts)
        elif todo:
            with client_for(scheduler, workers, connect_timeout) as c:
                run_dask(todo, store, c, bar, no_worker_timeout=no_worker_timeout, counts=counts)
    finally:
        bar.close()
    executor = "serial" if serial else ("client" if client is not None else scheduler or f"local:{workers or 'auto'}")
    return finish(spec, store, len(todo), len(done), time.perf_counter() - start, executor, counts)


def finish(spec: Spec, store: Store, executed: int, skipped: int, wall: float, executor: str,
           counts: Counts | None = None) -> SweepResult:
    keys = [p.key for p in spec.runs]
    records = store.records(keys)
    missing = [k for k in keys if store.get(k) is None]
    labels = {p.config_id: spec.label(p.config) for p in spec.runs}
    results, modes = tables(records, labels)
    store.write_table("results.parquet", results)
    store.write_table("modes.parquet", modes)
    groups = aggregate.groups(records, labels)
    cpu = sum(r.get("cpu_s") or 0.0 for r in records)
    meta = {"name": spec.name, "format": FORMAT, "spec": spec.source, "executor": executor,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "runs": len(keys), "ok": sum(r["status"] == "ok" for r in records),
            "failed": sum(r["status"] != "ok" for r in records), "missing": missing,
            "executed": executed, "skipped": skipped, "wall_s": wall, "cpu_s_runs": cpu,
            "varied": spec.varied, "cluster": (counts or Counts()).as_dict(), "columns": COLUMNS,
            "versions": versions(),
            "configurations": [g.as_dict() for g in groups]}
    store.write_json("metadata.json", meta)
    configs = {p.config_id: p.config for p in spec.runs}
    summary.write(store, spec, groups, records, configs, meta)
    return SweepResult(store.root, spec, records, groups, results, executed, skipped, meta["cluster"])
