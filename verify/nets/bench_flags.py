"""What `bench nonlinear` reports about its own limits (issue 20 §4): censored crossings, peak
fractions above 100 %, and the checkpoints actually used.

- A mode that crosses its threshold between τ = 0 and the first positive checkpoint gets τ* = that
  checkpoint from the bracketing interpolation: an UPPER bound, not a measurement. verify.nets.analysis
  marks such modes and leaves them out of its fits; the bench shows them as bounds and counts them
  (fitted as exact they gave α = 0.44 where the uncensored modes give 1.02, tests/test_bench_flags).
- The peak is a measured fp32 matmul rate at size --peak-size; a small matmul under-measures it, so a
  workload can show > 100 %: flagged, never printed as a plain fraction.
- Schedule.from_steps makes at most as many checkpoints as there are distinct step counts: the number
  used is reported next to the number requested.
"""
from __future__ import annotations

import numpy as np

from numerics.schedule import checkpoint_grid


def censored_counts(run, em: dict) -> dict:
    """Counts of the censored modes that verify.nets.analysis.emergence marked (point estimate, mean per
    bootstrap replicate) and left out of its fits, with the first positive checkpoint they are bounded by."""
    cb = np.asarray(em.get("censored_boot", np.zeros((0, 0))), bool)
    return {"censored": int(np.sum(em["censored"])),
            "censored_per_replicate_mean": float(cb.sum(-1).mean()) if cb.size else 0.0,
            "first_checkpoint_tau": float(np.asarray(run.tau, float)[1])}


def peak_flags(row: dict) -> list[str]:
    """Fractions of the measured peak above 1: the peak matmul was too small to measure the machine."""
    out = []
    for what in ("train", "sampling"):
        f = row.get(f"{what}_peak_fraction")
        if f is not None and np.isfinite(f) and f > 1:
            out.append(f"{what} at {100 * f:.0f}% of the measured peak: the n = {row['peak_matmul_n']} matmul "
                       "under-measures this machine's fp32 peak; use a larger --peak-size (default 4096)")
    return out


def checkpoints_used(steps: int, requested: int) -> int:
    """The checkpoints Schedule.from_steps makes for `requested` over `steps` steps (distinct counts)."""
    return int(checkpoint_grid(None, int(steps), int(requested))[1].size)
