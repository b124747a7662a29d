"""`run_sweep`: plan → skip what is stored → execute the rest → table, aggregation, summary."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from theory import output

from . import aggregate, summary
from .execute import Progress, client_for, run_dask, run_serial, versions
from .spec import FORMAT, Spec, load
from .store import COLUMNS, Store, tables


@dataclass
class SweepResult:
    root: Path
    spec: Spec
    records: list  # one per planned run, in spec order
    groups: list  # aggregate.Group per configuration × criterion × direction
    results: pd.DataFrame
    executed: int
    skipped: int

    @property
    def failed(self) -> list:
        return [r for r in self.records if r["status"] != "ok"]


def run_sweep(spec, out=None, *, scheduler: str | None = None, workers: int | None = None,
              serial: bool = False, client=None, progress: bool = True) -> SweepResult:
    """Run every planned run of `spec` (a Spec or a path) not yet stored under `out` (default
    sweeps/<name>): serially, on `client`, on the cluster at `scheduler`, or on a new LocalCluster of
    `workers` processes (default: one per core). Then write the table, aggregation and summary."""
    spec = spec if isinstance(spec, Spec) else load(spec)
    store = Store(output.check_dir(out or Path("sweeps") / spec.name, "out"))
    keys = [p.key for p in spec.runs]
    done = store.completed(keys)
    todo = [p for p in spec.runs if p.key not in done]
    bar = Progress(len(todo), len(done), progress)
    start = time.perf_counter()
    try:
        if todo and serial:
            run_serial(todo, store, bar)
        elif todo and client is not None:
            run_dask(todo, store, client, bar)
        elif todo:
            with client_for(scheduler, workers) as c:
                run_dask(todo, store, c, bar)
    finally:
        bar.close()
    executor = "serial" if serial else ("client" if client is not None else scheduler or f"local:{workers or 'auto'}")
    return finish(spec, store, len(todo), len(done), time.perf_counter() - start, executor)


def finish(spec: Spec, store: Store, executed: int, skipped: int, wall: float, executor: str) -> SweepResult:
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
            "varied": spec.varied, "columns": COLUMNS, "versions": versions(),
            "configurations": [g.as_dict() for g in groups]}
    store.write_json("metadata.json", meta)
    configs = {p.config_id: p.config for p in spec.runs}
    summary.write(store, spec, groups, records, configs, meta)
    return SweepResult(store.root, spec, records, groups, results, executed, skipped)
