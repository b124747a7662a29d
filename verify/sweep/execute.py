"""Running one planned run (`run_one`, in a worker or in this process) and the serial executor; the
Dask executor is verify.sweep.cluster. The caller persists every record the moment it arrives
(verify.sweep.store), so progress survives a kill.

Failures never stop a sweep and are never silent: an exception inside a run is caught where it runs
and recorded with its message; a run whose worker died is retried alone (verify.sweep.cluster), and
recorded failed only when it loses its worker then too. Failed runs are tried again by the next
invocation.
"""
from __future__ import annotations

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
        rec = dict(run_one(p.kind, p), attempt=1)
        store.put(rec)
        if progress:
            progress.update(rec, 0)
