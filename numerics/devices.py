"""Devices, CPU threads and floating-point types for training."""
from __future__ import annotations

import contextlib
import re

import torch

from theory.errors import SpecbiasError

#: the floating-point types a run may use, by name (`specbias train --dtype`, numerics.nets)
DTYPES = {"float64": torch.float64, "float32": torch.float32}
SMALL_WORK = 2**26  # levels·d³ per step at or below which the CPU trainer uses one thread


def resolve_device(device="auto") -> torch.device:
    """"auto" → cuda when torch sees a GPU, else cpu; "cuda" without a GPU is an error."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = str(device)
    if not re.match(r"^(cpu|cuda(:\d+)?)$", name):
        raise SpecbiasError(f"device must be auto, cpu, cuda or cuda:N (got {device!r})")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SpecbiasError(f"device {name} requested but torch sees no GPU (use device cpu or auto)")
    dev = torch.device(name)
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise SpecbiasError(f"device {name}: torch sees {torch.cuda.device_count()} GPU(s) (cuda:0 ...)")
    return dev


@contextlib.contextmanager
def cpu_threads(n: int | None):
    """Run with `n` torch CPU threads (None: unchanged), restoring the previous count afterwards."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def default_threads(device: torch.device, levels: int, d: int) -> int | None:
    """One CPU thread for small problems (≤ SMALL_WORK flops per step): there the per-op overhead
    dominates and OpenMP barriers only cost time, badly so on a loaded machine; None otherwise."""
    return 1 if device.type == "cpu" and levels * d**3 <= SMALL_WORK else None
