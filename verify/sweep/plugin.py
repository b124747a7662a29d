"""The Dask worker plugin of a sweep (imported only where a cluster is used)."""
from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin


class OneThread(WorkerPlugin):
    """torch on one CPU thread per worker (each worker runs one run at a time)."""

    name = "specbias-one-thread"

    def setup(self, worker):
        import torch

        torch.set_num_threads(1)
