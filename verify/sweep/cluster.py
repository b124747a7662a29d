"""Running planned runs on Dask distributed, and saying what the cluster does (issue 18 §6, issue 20 §7).

- `check_address`: a scheduler address is `SCHEME://HOST:PORT` (tcp, tls, ws, wss; a bare HOST:PORT is
  tcp), checked before anything is loaded; `client_for` turns a refused or silent address into one
  line naming the address and the connect timeout.
- `run_dask`: every run is one task; each result is persisted the moment it arrives. A run whose task
  never returns (its worker died, Dask's KilledWorker, possibly because ANOTHER run on the same worker
  killed it) is not blamed at once: after the first pass such runs are resubmitted ONE AT A TIME, so a
  death then is the run's own, and only a run that still loses its worker alone is recorded failed.
  The record's `attempt` is the submission that produced it (1 = the first pass, 2 = the solo retry).
  Every loss and retry is logged (logger "specbias.sweep", shown on stderr) and counted (`Counts`).
- With no worker left on the cluster for `no_worker_timeout` seconds the sweep stops with a
  SpecbiasError naming the scheduler, the wait and the runs not finished (stored runs stay for resume).
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass

import numpy as np

from theory.errors import SpecbiasError

from .execute import lost, run_one
from .kinds import get_kind

log = logging.getLogger("specbias.sweep")

SCHEMES = ("tcp", "tls", "ws", "wss")
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up (--connect-timeout)
NO_WORKER_TIMEOUT = 120.0  # seconds with runs pending and no worker on the cluster (--no-worker-timeout)
POLL = 1.0  # seconds between checks of the cluster while waiting for results
RESTART_WAIT = 20.0  # seconds between two restarts of a local cluster's closed workers
GATHER_TIMEOUT = 30.0  # seconds to fetch a finished run's record from its worker


def check_address(address) -> str:
    """A Dask scheduler address SCHEME://HOST:PORT (HOST:PORT means tcp); SpecbiasError otherwise."""
    text = str(address).strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    host, colon, port = rest.rpartition(":")
    if scheme not in SCHEMES:
        raise SpecbiasError(f"--scheduler {address!r}: unknown scheme {scheme!r} (use tcp://HOST:PORT; "
                            f"known: {', '.join(SCHEMES)})")
    if not colon or not host.strip("[]") or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise SpecbiasError(f"--scheduler {address!r} is not a scheduler address: give "
                            "SCHEME://HOST:PORT with a port in [1, 65535], e.g. tcp://127.0.0.1:8786")
    return f"{scheme}://{rest}"


@dataclass
class Counts:
    """What the cluster did during one sweep (written to metadata.json as `cluster`)."""

    lost: int = 0  # task results that never came back (their worker died)
    retried: int = 0  # runs resubmitted alone after such a loss
    recovered: int = 0  # of those, runs that then finished (ok or failed in the run itself)
    blamed: int = 0  # runs recorded failed because their worker died even when they ran alone
    workers_seen: int = 0  # distinct worker addresses that took part
    workers_lost: int = 0  # of those, workers that left the cluster while the sweep ran
    workers_restarted: int = 0  # workers a local cluster had closed for good, started again by the sweep

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class _Watch:
    """Tracks the cluster's workers between results: logs departures, times out with none left."""

    def __init__(self, client, counts: Counts, no_worker_timeout: float):
        self.client, self.counts, self.limit = client, counts, float(no_worker_timeout)
        self.seen, self.current, self.empty_since, self.restarted_at = set(), set(), None, -np.inf
        self.poll()

    def poll(self) -> None:
        try:
            workers = set(self.client.scheduler_info().get("workers", {}))
        except (OSError, RuntimeError, TimeoutError):  # the scheduler may be gone; the futures will say so
            workers = set()
        for w in self.current - workers:
            self.counts.workers_lost += 1
            log.warning("specbias sweep: worker %s left the cluster (%d left)", w, len(workers))
        self.seen |= workers
        self.counts.workers_seen = len(self.seen)
        self.current = workers
        self.empty_since = None if workers else (self.empty_since or time.monotonic())

    def _managed(self) -> bool:
        """A cluster object of this client that manages its workers (a LocalCluster / SpecCluster): it
        restarts dead workers. When a restart takes longer than Dask's `distributed.deploy.lost-worker-
        timeout` (15 s: easily reached on a loaded machine) the cluster closes that worker for good;
        the workers it should have are then started again here, so there is no timeout for it."""
        cluster = getattr(self.client, "cluster", None)
        spec = getattr(cluster, "worker_spec", None)
        if not spec:
            return bool(getattr(cluster, "workers", None))
        missing = len(spec) - len(getattr(cluster, "workers", {}))
        if missing > 0 and time.monotonic() - self.restarted_at > RESTART_WAIT:  # scale() is asynchronous
            self.counts.workers_restarted += missing
            log.warning("specbias sweep: the local cluster closed %d worker(s) that did not come back in time; "
                        "starting them again", missing)
            cluster.scale(len(spec))
            self.restarted_at = time.monotonic()
        return True

    def check(self, pending: int, address: str) -> None:
        self.poll()
        if self.empty_since is not None and not self._managed() \
                and time.monotonic() - self.empty_since > self.limit:
            raise SpecbiasError(f"no Dask worker left on the cluster at {address} for {self.limit:g} s with "
                                f"{pending} run(s) not finished; the finished runs are stored: start workers "
                                "and run the sweep again to resume (--no-worker-timeout sets the wait)")


def _wait(futures, watch: _Watch, address: str):
    """Yield futures as they complete, checking the cluster's workers every POLL seconds meanwhile."""
    from distributed import wait

    pending = set(futures)
    while pending:
        try:
            done, pending = wait(list(pending), timeout=POLL, return_when="FIRST_COMPLETED")
        except TimeoutError:
            watch.check(len(pending), address)
            continue
        pending = set(pending)
        yield from done


def _submit(client, p):
    return client.submit(run_one, get_kind(p.kind), p, pure=False)


def _record(fut, p, attempt: int) -> tuple[dict | None, str]:
    """(the run's record, '') or (None, why) when its result never came back: its worker died while
    running it, or died holding the finished result before the client fetched it (the fetch would then
    wait on a recomputation; after GATHER_TIMEOUT it counts as lost and the run is retried alone)."""
    try:
        return dict(fut.result(timeout=GATHER_TIMEOUT), attempt=attempt), ""
    except Exception as exc:  # KilledWorker, a timeout, a lost connection: the run did not come back
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]


def run_dask(todo, store, client, progress=None, *, no_worker_timeout: float = NO_WORKER_TIMEOUT,
             counts: Counts | None = None) -> Counts:
    """Run `todo` on `client`'s cluster, persisting each record as it completes (see the module doc)."""
    counts = counts or Counts()
    address = getattr(client, "scheduler", None) and client.scheduler.address or "the scheduler"
    watch = _Watch(client, counts, no_worker_timeout)
    futures = {_submit(client, p): p for p in todo}
    suspects = []

    def persist(rec, running):
        store.put(rec)
        if progress:
            progress.update(rec, running)

    for fut in _wait(list(futures), watch, address):
        p = futures.pop(fut)
        rec, why = _record(fut, p, 1)
        fut.release()
        if rec is None:
            counts.lost += 1
            suspects.append((p, why))
            log.warning("specbias sweep: run %s lost its worker; it will be retried alone", p.key)
            continue
        persist(rec, sum(len(v) for v in client.processing().values()) if futures else 0)
    for p, first in suspects:  # one at a time: a death now is this run's own
        counts.retried += 1
        log.warning("specbias sweep: retrying run %s alone (attempt 2)", p.key)
        for done in _wait([_submit(client, p)], watch, address):
            rec, _ = _record(done, p, 2)
            done.release()
        if rec is None:
            counts.blamed += 1
            rec = dict(lost(p, f"worker died while running this run, also when it ran alone on the cluster "
                               f"({first}); recorded failed"), attempt=2)
            log.warning("specbias sweep: run %s killed its worker again, alone: recorded failed", p.key)
        else:
            counts.recovered += 1
        persist(rec, 0)
    return counts


@contextlib.contextmanager
def client_for(scheduler: str | None = None, workers: int | None = None,
               connect_timeout: float = CONNECT_TIMEOUT):
    """A Dask client: connected to `scheduler` (an address, checked; a refused or silent one is a
    SpecbiasError naming it and the timeout), or to a new LocalCluster of `workers` single-threaded
    worker processes (default: one per CPU core)."""
    from distributed import Client, LocalCluster

    if scheduler:
        address = check_address(scheduler)
        try:
            client, cluster = Client(address, timeout=connect_timeout), None
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SpecbiasError(f"--scheduler {address}: cannot reach a Dask scheduler within "
                                f"{connect_timeout:g} s ({type(exc).__name__}: {reason[:200]})") from None
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
