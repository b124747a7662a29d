"""Memory and step estimates made BEFORE building data or training: refuse what will not fit or finish.

Lower bounds on purpose (a refusal must never be wrong; a run that passes may still be slow):
- data: a d×d covariance, its eigenvectors and the rotation's QR work space, ~DATA_COPIES d² floats;
- training (population mode, all levels at once): parameters, gradients, W·C and the loss node's saved
  tensors, ~TRAIN_COPIES L·d² floats, plus the recorded gains (checkpoints × L × modes) and, with
  keep_weights, every checkpoint's W and b;
- steps: the level that steps least to reach τ_max still takes ⌈η τ_max / h_l⌉ steps at the largest
  step h_l its stability bound can ever allow (numerics.stability's `ceiling`; product models re-derive
  h_l from the current weights at every checkpoint, and it may grow, but never past that ceiling),
  `steps=N` N.
`allow_large=True` (CLI `--force`) skips the refusal; the estimate is still computed.
"""
from __future__ import annotations

import os

from theory.errors import SpecbiasError

FLOAT = 8  # bytes of a float64
DATA_COPIES = 4
TRAIN_COPIES = 6
MEMORY_FRACTION = 0.8  # of the memory available now
MAX_LEVEL_STEPS = 10**7  # gradient steps at one level (~an hour of Python-level iterations)
MAX_FLOPS = {"cpu": 1e15, "cuda": 1e17}  # at the level that steps least: days on a CPU / hours on a GPU


def available_memory(device: str = "cpu") -> int:
    """Bytes available now: free GPU memory on cuda, MemAvailable (else physical memory) on the CPU."""
    if str(device).startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.mem_get_info()[0])
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1  # cannot tell: do not refuse


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_memory(what: str, nbytes: float, *, available: int | None = None, device: str = "cpu",
                 allow_large: bool | None = None, hint: str = "") -> float:
    """Refuse (SpecbiasError) when `nbytes` exceed MEMORY_FRACTION of the memory available; an
    `allow_large` of None means the caller offers no override (then none is mentioned)."""
    avail = available_memory(device) if available is None else available
    if nbytes > MEMORY_FRACTION * avail and not allow_large:
        raise SpecbiasError(f"{what} needs about {_gib(nbytes)} of memory, {_gib(avail)} available"
                            + (f": {hint}" if hint else "")
                            + ("" if allow_large is None else " (override: --force / allow_large=True)"))
    return nbytes


def data_bytes(d: int) -> float:
    return float(DATA_COPIES) * d * d * FLOAT


def training_bytes(d: int, levels: int, checkpoints: int, modes: int | None = None,
                   keep_weights: bool = False) -> float:
    modes = d if modes is None else modes
    work = TRAIN_COPIES * float(levels) * d * d * FLOAT + data_bytes(d)
    record = float(checkpoints) * levels * modes * FLOAT * 2
    keep = float(checkpoints) * levels * d * (d + 1) * FLOAT if keep_weights else 0.0
    return work + record + keep


def check_steps(n_steps: float, d: int, *, device: str = "cpu", allow_large: bool = False) -> float:
    """Refuse a run whose least-stepping level alone exceeds MAX_LEVEL_STEPS or MAX_FLOPS (2d³ per step)."""
    flops = n_steps * 2.0 * float(d) ** 3
    limit = MAX_FLOPS["cuda" if str(device).startswith("cuda") else "cpu"]
    if (n_steps > MAX_LEVEL_STEPS or flops > limit) and not allow_large:
        raise SpecbiasError(
            f"training would take at least {n_steps:.3g} gradient steps at one level (~{flops:.2g} flops; "
            f"limits {MAX_LEVEL_STEPS:.0e} steps, {limit:.0e} flops): shorten tau (--tau-max/--taus), "
            "use a larger step (--h/--step-fraction) or fewer steps (override: --force / allow_large=True)")
    return n_steps
