"""What `bench nonlinear` reports about its own limits (issue 20 §4): censored crossings, peak
fractions above 100 %, and the checkpoints actually used.

- A mode that crosses its threshold between τ = 0 and the first positive checkpoint gets τ* = that
  checkpoint from the bracketing interpolation (theory.emergence.emergence_from_checkpoints): an UPPER
  bound, not a measurement. Such modes (in the point estimate, and per bootstrap replicate) are shown as
  bounds, excluded from the fit and counted; fitted as exact they gave α ≈ 0 on a coarse grid.
- The peak is a measured fp32 matmul rate at size --peak-size; a small matmul under-measures it, so a
  workload can show > 100 %: flagged, never printed as a plain fraction.
- Schedule.from_steps makes at most as many checkpoints as there are distinct step counts: the number
  used is reported next to the number requested.
"""
from __future__ import annotations

import numpy as np

import theory
from numerics.schedule import checkpoint_grid


def censored(ts: np.ndarray, first_tau: float) -> np.ndarray:
    """Modes whose τ* is the first positive checkpoint: crossed before it (an upper bound)."""
    ts = np.asarray(ts, float)
    return np.isfinite(ts) & (ts <= first_tau * (1 + 1e-12))


def fits_without_censored(run, em: dict, criterion: str) -> tuple[dict, dict]:
    """(fits per direction with censored modes excluded, in the point estimate and in each bootstrap
    replicate, combined exactly as verify.nets.analysis.emergence does; counts of censored modes)."""
    from . import analysis as NL

    tau, var, boot, lam = NL.series(run, "eigen")
    first = float(tau[1])
    ts, tb = np.asarray(em["tau_star"], float), np.asarray(em["tau_star_boot"], float)
    cut = censored(ts, first)
    point = theory.fit_exponent(lam, np.where(cut, np.nan, ts), var[0], NL.GRAY_ZONE)
    reps = [theory.fit_exponent(lam, np.where(censored(t, first), np.nan, t), v, NL.GRAY_ZONE)
            for t, v in zip(tb, boot[0])]
    fits = {d: NL._combine(point[d], np.array([r[d].alpha for r in reps])) for d in point}
    counts = {"censored": int(cut.sum()), "censored_per_replicate_mean": float(censored(tb, first).sum(-1).mean())
              if tb.size else 0.0, "first_checkpoint_tau": first}
    return fits, counts


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
