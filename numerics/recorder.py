"""Recorders: what the training loop writes down when a group reaches a checkpoint.

A recorder has
- `snapshot(work, tidx)`: the state of the bound groups `tidx` read off their working parameters
  (called once per checkpoint event; also handed to the schedule's step rule);
- `record(levels, positions, js, snapshot, steps)`: write group levels[p]'s state (row p of the
  snapshot) into each checkpoint of js[i] for p = positions[i]; `steps` [groups] are cumulative steps.

`StateRecorder` keeps a copy of the parameters of every group at every checkpoint (any model, e.g. a
nonlinear network trained as one group) and optionally calls `on_checkpoint(j, group, state)`.
`AffineRecorder` keeps, per checkpoint and level, the per-mode gains Re u_k* W u_k of the effective map
(projected on the measurement basis only here, after training), the exact expected loss, the step
count and optionally W and b.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from theory.errors import SpecbiasError

from .population import population_loss

MAX_WEIGHT_BYTES = 4 * 2**30


class AffineSnapshot(NamedTuple):
    """The effective maps W [n, d, d], b [n, d] and exact losses [n] of n groups."""
    W: torch.Tensor
    b: torch.Tensor
    loss: torch.Tensor


class AffineRecorder:
    """Fills the run's arrays as levels reach checkpoints (or freeze)."""

    def __init__(self, n_ckpt, n_levels, basis, keep, d, model, coeffs, moments, dtype, device):
        lam, U_re, U_im = basis
        self.lam = lam
        self.U = [torch.as_tensor(u, dtype=dtype, device=device) for u in (U_re, U_im) if u is not None]
        self.gains = np.full((n_ckpt, n_levels, lam.size), np.nan)
        self.loss = np.full((n_ckpt, n_levels), np.nan)
        self.steps = np.zeros((n_ckpt, n_levels), dtype=np.int64)
        self.keep = keep
        if keep:
            size = n_ckpt * n_levels * d * (d + 1) * 8
            if size > MAX_WEIGHT_BYTES:
                raise SpecbiasError(f"keep_weights would store {size / 2**30:.1f} GiB "
                                    f"(limit {MAX_WEIGHT_BYTES / 2**30:.0f} GiB): use fewer checkpoints or levels")
            self.W = np.full((n_ckpt, n_levels, d, d), np.nan)
            self.b = np.full((n_ckpt, n_levels, d), np.nan)
        self.model, self.coeffs, self.moments = model, coeffs, moments

    def snapshot(self, work, tidx) -> AffineSnapshot:
        with torch.no_grad():
            W, b = self.model.effective(work)
            W, b = W.detach(), b.detach()
            return AffineSnapshot(W, b, population_loss(W, b, self.coeffs[tidx], self.moments))

    def project(self, W: torch.Tensor) -> np.ndarray:
        """Re u_k* W u_k for every mode k: Σ over the real and imaginary parts of the basis."""
        g = sum((U * (W @ U)).sum(-2) for U in self.U)
        return g.detach().cpu().numpy()

    def record(self, levels, positions, js, snap: AffineSnapshot, steps) -> int:
        """Write level levels[p]'s state into checkpoints js[i] for p = positions[i]; returns the
        number of (level, checkpoint) entries written."""
        if not len(positions):
            return 0
        pos = torch.as_tensor(positions, device=snap.W.device)
        W, b = snap.W[pos], snap.b[pos]
        gains, loss = self.project(W), snap.loss[pos].cpu().numpy()
        if self.keep:
            W_np, b_np = W.cpu().numpy(), b.cpu().numpy()
        for i, (p, jj) in enumerate(zip(positions, js)):
            l = levels[p]
            for j in jj:
                self.gains[j, l], self.loss[j, l], self.steps[j, l] = gains[i], loss[i], steps[l]
                if self.keep:
                    self.W[j, l], self.b[j, l] = W_np[i], b_np[i]
        return sum(len(j) for j in js)


class StateRecorder:
    """Per checkpoint and group: a detached copy of the group's parameters (`states[j][group]`), the
    cumulative step count, and an optional callback `on_checkpoint(j, group, state)` (e.g. a
    measurement of a network at that checkpoint)."""

    def __init__(self, n_ckpt: int, n_groups: int = 1, grouped: bool = False, on_checkpoint=None):
        self.states = [[None] * n_groups for _ in range(n_ckpt)]
        self.steps = np.zeros((n_ckpt, n_groups), dtype=np.int64)
        self.grouped, self.on_checkpoint = grouped, on_checkpoint

    def snapshot(self, work, tidx) -> dict:
        return {k: v.detach().clone() for k, v in work.items()}

    def record(self, levels, positions, js, snap: dict, steps) -> int:
        for p, jj in zip(positions, js):
            l = levels[p]
            state = {k: v[p] for k, v in snap.items()} if self.grouped else snap
            for j in jj:
                self.states[j][l], self.steps[j, l] = state, steps[l]
                if self.on_checkpoint is not None:
                    self.on_checkpoint(j, l, state)
        return sum(len(j) for j in js)
