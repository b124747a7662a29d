"""Running the planned runs: on Dask distributed (a LocalCluster sized to the machine, or an existing
scheduler), or serially in this process. Each run is one task; the client persists every result the
moment it arrives (verify.sweep.store), so progress survives a kill.

Failures never stop a sweep and are never silent: an exception inside a run is caught in the worker
and recorded with its message; a worker that dies mid-run makes the scheduler retry the task on
another worker (up to Dask's `distributed.scheduler.allowed-failures`), after which the run is
recorded as failed with the reason. Failed runs are tried again by the next invocation.
"""
from __future__ import annotations

import contextlib
import logging
import os
import platform
import socket
import time
import traceback
from datetime import datetime, timezone

from tqdm.auto import tqdm

from .kinds import get_kind


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("specbias", "torch", "numpy", "scipy", "dask", "distributed"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = ""
    return out


def _base(planned) -> dict:
    return {"key": planned.key, "config_id": planned.config_id, "kind": planned.kind, "config": planned.config}


def run_one(kind, planned) -> dict:
    """Execute one planned run with its kind; always returns a record (status ok or failed)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    record = _base(planned)
    try:
        res = get_kind(kind).run(planned.config)
        record.update(status="ok", error="", exponents=res.exponents, scalars=res.scalars, modes=res.modes,
                      device=res.device)
    except Exception as exc:  # recorded, never raised: one bad run must not stop the sweep
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback="".join(tb[-3:]),
                      device="")
    record.update(wall_s=time.perf_counter() - wall, cpu_s=time.thread_time() - cpu,
                  worker=f"{socket.gethostname()}:{os.getpid()}", versions=versions(),
                  finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return record


def lost(planned, reason: str) -> dict:
    """The record of a run whose task never returned (its worker died every time it was tried)."""
    return {**_base(planned), "status": "failed", "error": reason, "device": "", "wall_s": None,
            "cpu_s": None, "worker": "", "versions": versions(),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


class Progress:
    """A tqdm bar over runs, with done / failed / running in its postfix."""

    def __init__(self, total: int, skipped: int, enabled: bool):
        self.bar = tqdm(total=total, desc="specbias sweep", unit="run", disable=not enabled)
        self.failed, self.skipped = 0, skipped

    def update(self, record: dict, running: int) -> None:
        self.failed += record["status"] != "ok"
        self.bar.set_postfix_str(f"done {self.bar.n + 1 - self.failed}, failed {self.failed}, "
                                 f"running {running}, skipped {self.skipped}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def run_serial(todo, store, progress=None) -> None:
    for p in todo:
        rec = run_one(p.kind, p)
        store.put(rec)
        if progress:
            progress.update(rec, 0)


def run_dask(todo, store, client, progress=None) -> None:
    """Submit every run to `client`'s cluster and persist each result as it completes."""
    from distributed import as_completed

    futures = {client.submit(run_one, get_kind(p.kind), p, pure=False): p for p in todo}
    for fut in as_completed(list(futures)):
        p = futures.pop(fut)
        if fut.status == "finished":
            rec = fut.result()
        else:  # the task itself failed: run_one catches everything, so its worker died (KilledWorker)
            exc = fut.exception()
            rec = lost(p, f"worker died while running this run ({type(exc).__name__}: {exc}); "
                          "retried by the scheduler, then given up")
        store.put(rec)
        fut.release()
        if progress:
            running = sum(len(v) for v in client.processing().values()) if futures else 0
            progress.update(rec, running)


@contextlib.contextmanager
def client_for(scheduler: str | None = None, workers: int | None = None):
    """A Dask client: connected to `scheduler` (an address), or to a new LocalCluster of `workers`
    single-threaded worker processes (default: one per CPU core)."""
    from distributed import Client, LocalCluster

    if scheduler:
        client, cluster = Client(scheduler), None
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        from .plugin import OneThread

        client.register_plugin(OneThread(), name=OneThread.name)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
