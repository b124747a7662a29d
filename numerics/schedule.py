"""The checkpoint schedule of the training loop: which group steps how far, and when it records.

Checkpoints are either gradient-flow times τ_0 < τ_1 < … (`taus`) or cumulative step counts
(`steps`). Each parameter group l has its own step size h_l. Between consecutive checkpoints
τ_{j−1}, τ_j group l takes n = ⌈η(τ_j − τ_{j−1})/h_l⌉ equal steps of size η(τ_j − τ_{j−1})/n ≤ h_l,
so every group lands exactly on every checkpoint (with step-count checkpoints: exactly the given
counts at h_l). A `step_rule` may re-derive h_l at every checkpoint from the group's current state.
A group leaves the schedule after its last checkpoint, or when the loop freezes it as converged.
"""
from __future__ import annotations

import numpy as np

from theory import validate as V
from theory.errors import SpecbiasError


def default_taus(n: int = 36, lo: float = 1e-4, hi: float = 1e3) -> np.ndarray:
    """τ = 0 and n log-spaced times from lo to hi (theory.md §6: τ ∈ [1e−4, 1e3])."""
    return np.concatenate([[0.0], np.geomspace(lo, hi, int(n))])


def step_checkpoints(n: int, n_checkpoints: int) -> np.ndarray:
    """0 and about n_checkpoints − 1 distinct log-spaced step counts from 1 to n (n included)."""
    if n < 1:
        raise SpecbiasError(f"steps must be ≥ 1 (got {n})")
    want, k = min(max(int(n_checkpoints) - 1, 1), n), max(int(n_checkpoints) - 1, 1)
    if want == 1:  # geomspace(1, n, 1) is [1]: the one checkpoint after 0 is the last step
        return np.array([0, int(n)], dtype=np.int64)
    grid = np.unique(np.round(np.geomspace(1, n, k)).astype(np.int64))
    while grid.size < want:  # small step counts collide after rounding: ask for more points
        k += 1
        grid = np.unique(np.round(np.geomspace(1, n, k)).astype(np.int64))
    return np.concatenate([[0], grid[np.round(np.linspace(0, grid.size - 1, want)).astype(int)]])


def checkpoint_grid(taus, steps, n_checkpoints):
    """(τ grid or None, step-count grid or None), validated: `steps` is a step count N (then
    `step_checkpoints(N, n_checkpoints)`) or the increasing counts themselves; `taus` None → default_taus."""
    if steps is not None and taus is not None:
        raise SpecbiasError("give either taus (per-level steps) or steps (one step size), not both")
    if steps is not None:
        grid = np.atleast_1d(np.asarray(steps))
        if grid.size == 1:
            grid = step_checkpoints(int(grid.reshape(())), n_checkpoints)
        if np.any(grid < 0) or np.any(np.diff(grid) <= 0) or np.any(grid != np.round(grid)):
            raise SpecbiasError("step checkpoints must be increasing non-negative integers")
        return None, grid.astype(np.int64)
    tau = default_taus() if taus is None else V.times(taus).reshape(-1)
    if np.any(np.diff(tau) <= 0):
        raise SpecbiasError("checkpoint times (taus) must be strictly increasing")
    return tau, None


class Schedule:
    """Per-group segment bookkeeping between checkpoints.

    tau_grid [checkpoints]: the checkpoint times (for step-count checkpoints: counts·h/η); step_grid:
    the step counts or None; h [groups]: the step size bound of each group (updated in place by
    `step_rule(levels, snapshot, positions) -> h` at every segment start, when given: rows `positions`
    of the recorder's `snapshot` are the state of groups `levels`). Tables filled:
    seg_h / seg_steps [checkpoint, group] (step size and steps of the segment ending there);
    state: done_steps, tau_now, converged_tau, active [groups]."""

    def __init__(self, tau_grid, step_grid, h, eta: float, step_rule=None):
        self.tau_grid, self.step_grid, self.h, self.eta = tau_grid, step_grid, h, eta
        self.step_rule = step_rule
        n_ckpt, L = tau_grid.size, h.size
        self.n_ckpt = n_ckpt
        self.seg = np.zeros(L, dtype=np.int64)  # the segment (checkpoint index) each group is in
        self.remaining = np.zeros(L, dtype=np.int64)  # steps left in that segment
        self.seg_h_now = np.zeros(L)
        self.done_steps = np.zeros(L, dtype=np.int64)
        self.tau_now = np.zeros(L)
        self.converged_tau = np.full(L, np.nan)
        self.active = np.ones(L, dtype=bool)
        self.seg_h = np.zeros((n_ckpt, L))
        self.seg_steps = np.zeros((n_ckpt, L), dtype=np.int64)

    @classmethod
    def from_steps(cls, steps, h: float, n_groups: int = 1, eta: float = 1.0, n_checkpoints: int = 40) -> "Schedule":
        """Checkpoints at the step counts `steps` (an int N: `step_checkpoints(N, n_checkpoints)`), one
        fixed step size h for every group; τ = counts·h/η."""
        _, grid = checkpoint_grid(None, steps, n_checkpoints)
        return cls(grid * float(h) / eta, grid, np.full(int(n_groups), float(h)), eta)

    def _segment(self, l: int, j: int):
        """(steps, step size) of group l's segment ending at checkpoint j."""
        if self.step_grid is not None:
            return int(self.step_grid[j] - (self.step_grid[j - 1] if j else 0)), self.h[l]
        delta = self.eta * (self.tau_grid[j] - (self.tau_grid[j - 1] if j else 0.0))
        n = int(np.ceil(delta / self.h[l] * (1 - 1e-12))) if delta > 0 else 0
        return n, (delta / n if n else 0.0)

    def start(self, levels, snapshot=None, positions=None):
        """For groups `levels` at a segment boundary: size the next segment (after `step_rule`), passing
        over zero-length segments. Returns (positions i into `levels`, checkpoint lists) of the groups
        whose current state must be recorded at those checkpoints now."""
        rec_levels, rec_js = [], []
        if self.step_rule is not None and len(levels):
            self.h[levels] = np.minimum(self.step_rule(levels, snapshot, positions), np.inf)
        for i, l in enumerate(levels):
            js = []
            while self.seg[l] < self.n_ckpt:
                j = self.seg[l]
                n, hs = self._segment(l, j)
                self.seg_h[j, l], self.seg_steps[j, l] = hs, n
                if n:
                    self.remaining[l], self.seg_h_now[l] = n, hs
                    break
                js.append(j)
                self.seg[l] += 1
            if js:
                rec_levels.append(i)
                rec_js.append(js)
            if self.seg[l] >= self.n_ckpt:
                self.active[l] = False
        return rec_levels, rec_js

    def advance(self, moving, n: int = 1):
        """n steps taken by the groups `moving` (within their current segments)."""
        self.done_steps[moving] += n
        self.remaining[moving] -= n
        self.tau_now[moving] += n * self.seg_h_now[moving] / self.eta

    def end_segments(self, levels):
        """Groups `levels` reached their checkpoint: the checkpoint lists to record them at now."""
        for l in levels:
            self.tau_now[l] = self.tau_grid[self.seg[l]]
        js = [[self.seg[l]] for l in levels]
        self.seg[levels] += 1
        return js

    def freeze(self, levels):
        """Groups `levels` stop here (converged): they hold their state at every later checkpoint.
        Returns the checkpoint lists to record them at."""
        js = [list(range(self.seg[l], self.n_ckpt)) for l in levels]
        for l in levels:
            self.converged_tau[l] = self.tau_now[l]
            self.seg_steps[self.seg[l], l] -= self.remaining[l]  # the steps it actually took
            self.seg_steps[self.seg[l] + 1:, l] = 0
            self.seg_h[self.seg[l] + 1:, l] = 0.0
            self.active[l] = False
        return js
