"""The one training loop: groups of parameters, each with its own step size and checkpoints.

    fit(params, objective, optimizer, schedule, recorder, tol=..., on_diverge=..., progress=..., desc=...)

- `params`: `LevelParams` (tensors with a leading group axis, e.g. the noise levels of an affine model,
  each level trained as an independent problem) or `ModuleParams` (the parameters of one nn.Module as
  a single group, updated in place — a nonlinear denoiser D(x, σ));
- `objective` (numerics.objectives): `bind(tidx)`, `objective(work) -> loss [groups]`;
- `optimizer` (numerics.optim): `step(work, grads, h)`, `gather`/`scatter` of per-group state;
- `schedule` (numerics.schedule.Schedule): per-group step sizes and checkpoints;
- `recorder` (numerics.recorder): `snapshot(work, tidx)`, `record(levels, positions, js, snap, steps)`.

Each iteration takes one step on every active group. A non-finite loss stops the run with a
SpecbiasError (`on_diverge(group, step, τ, h)` words it). With `tol` > 0 a group is frozen once
‖∇θ_g‖ ≤ tol · max_n ‖∇θ_g(step n)‖ (checked every `check_every` iterations): it keeps its state for
every later checkpoint. Groups that finish or freeze leave the working set; the others go on.

A nonlinear network as one group (tests/test_numerics_loop.py has a worked example):

    params = ModuleParams(net)                                   # trained in place
    sched = Schedule.from_steps(5000, h=1.0, n_checkpoints=60)   # log-spaced step counts; τ = steps·h
    rec = StateRecorder(sched.n_ckpt, on_checkpoint=measure)     # measure(j, group, state)
    fit(params, objective, make_optimizer("adam", params.theta, grouped=False, lr=1e-4), sched, rec)

where `objective.bind(tidx)` may do nothing and `objective(work)` returns the minibatch loss as a
tensor of shape [1] (any per-sample weighting inside).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from theory.errors import SpecbiasError

CHECK_EVERY = 4  # iterations between convergence checks (the gradient norm costs a pass over θ)


class LevelParams:
    """Trainable tensors with the group axis first; the loop trains working copies of a subset."""

    grouped = True

    def __init__(self, tensors: dict):
        self.theta = {k: v.detach().clone() for k, v in tensors.items()}
        self.n_groups = next(iter(self.theta.values())).shape[0]

    def select(self, tidx) -> dict:
        return {k: v[tidx].clone().requires_grad_(True) for k, v in self.theta.items()}

    def store(self, tidx, work: dict) -> None:
        with torch.no_grad():
            for k in self.theta:
                self.theta[k][tidx] = work[k].detach()

    def copy_to(self, module) -> None:
        """Write the trained values into the module's parameters (same names)."""
        with torch.no_grad():
            for k, p in module.params().items():
                p.copy_(self.theta[k])


class ModuleParams:
    """The parameters of one nn.Module, trained in place as a single group."""

    grouped, n_groups = False, 1

    def __init__(self, module: torch.nn.Module):
        self.module = module
        self.theta = dict(module.named_parameters())

    def select(self, tidx) -> dict:
        return self.theta

    def store(self, tidx, work: dict) -> None:
        pass


def _sq_norm(g: torch.Tensor, grouped: bool) -> torch.Tensor:
    """‖g‖² per group."""
    return torch.linalg.vecdot(g.reshape(g.shape[0], -1), g.reshape(g.shape[0], -1)) if grouped \
        else (g * g).sum().reshape(1)


def _default_diverge(l, step, tau, h):
    return f"training diverged in group {l} at step {step} (τ ≈ {tau:.4g}): the loss is NaN/inf; step h = {h:.4g}"


class _Loop:
    def __init__(self, params, objective, optimizer, schedule, recorder, tol, check_every, on_diverge, bar):
        self.params, self.objective, self.opt, self.sched, self.rec = params, objective, optimizer, schedule, recorder
        self.tol, self.check_every, self.on_diverge, self.bar = tol, check_every, on_diverge, bar
        any_param = next(iter(params.theta.values()))
        self.device, self.dtype = any_param.device, any_param.dtype
        self.gmax = torch.zeros(params.n_groups, dtype=self.dtype, device=self.device)
        self.iteration, self.pending = 0, 0
        self.progress = not bar.disable

    def checkpoint(self, work, positions_js, snap=None):
        """Record groups idx[p] at their checkpoints; returns the snapshot taken (or given)."""
        snap = self.rec.snapshot(work, self.tidx) if snap is None else snap
        positions, js = positions_js
        self.bar.update(self.rec.record(self.idx, positions, js, snap, self.sched.done_steps))
        return snap

    def bind(self):
        self.tidx = torch.as_tensor(self.idx, device=self.device)
        self.work = self.params.select(self.tidx)
        self.work_list = list(self.work.values())
        self.ones = torch.ones(self.idx.size, dtype=self.dtype, device=self.device)  # ∂(Σ loss)/∂loss
        self.sub_opt = self.opt.gather(self.tidx)
        self.hvec = torch.as_tensor(self.sched.seg_h_now[self.idx], dtype=self.dtype, device=self.device)
        self.objective.bind(self.tidx)
        self.moved()

    def moved(self):
        """The set of stepping groups changed: recount the steps to the next segment end."""
        s = self.sched
        self.moving = self.idx[s.active[self.idx]]
        self.countdown = int(s.remaining[self.moving].min()) if self.moving.size else -1

    def flush(self):
        """Apply the steps taken since the last event to the schedule's counters."""
        if self.pending:
            self.sched.advance(self.moving, self.pending)
            self.pending = 0

    def converged(self, grads) -> np.ndarray:
        """Positions of the bound groups with ‖∇θ_g‖ ≤ tol·max_n ‖∇θ_g(step n)‖."""
        with torch.no_grad():
            gn = sum(_sq_norm(g, self.params.grouped) for g in grads)
            gm = torch.maximum(self.gmax[self.tidx], gn)
            self.gmax[self.tidx] = gm
            return np.nonzero((gn <= (self.tol * self.tol) * gm).cpu().numpy())[0]

    def diverged(self, loss):
        self.flush()
        finite = torch.isfinite(loss).cpu().numpy()
        l = self.idx[int(np.nonzero(~finite)[0][0])]
        s = self.sched
        raise SpecbiasError(self.on_diverge(l, s.done_steps[l] + 1, s.tau_now[l], s.seg_h_now[l]))

    def freeze(self, frozen):
        """Groups idx[frozen] converged: record them at every remaining checkpoint, stop stepping them."""
        self.flush()
        js = self.sched.freeze(self.idx[frozen])
        self.checkpoint(self.work, (list(frozen), js))
        self.hvec[torch.as_tensor(frozen, device=self.device)] = 0.0
        self.moved()

    def end_segments(self):
        """Record the groups that reached their checkpoint and start their next segments."""
        self.flush()
        s, idx = self.sched, self.idx
        ended = np.nonzero(s.active[idx] & (s.remaining[idx] == 0))[0].tolist()
        ended_levels = idx[ended]
        snap = self.checkpoint(self.work, (ended, s.end_segments(ended_levels)))
        pos, js = s.start(ended_levels, snap, ended)
        if pos:
            self.checkpoint(self.work, ([ended[p] for p in pos], js), snap)
        self.hvec = torch.as_tensor(s.seg_h_now[idx], dtype=self.dtype, device=self.device)
        self.hvec[torch.as_tensor(~s.active[idx], device=self.device)] = 0.0
        self.moved()

    def step(self) -> bool:
        """One iteration on every bound group; True when the set of active groups changed."""
        loss = self.objective(self.work)
        grads = torch.autograd.grad(loss, self.work_list, grad_outputs=self.ones, materialize_grads=True)
        self.iteration += 1
        if self.progress and self.iteration % 500 == 0:
            self.bar.set_postfix(iteration=self.iteration, active=int(self.sched.active.sum()), refresh=False)
        if not bool(torch.isfinite(loss).all()):  # a non-finite parameter or gradient shows in the loss first
            self.diverged(loss)
        frozen = self.converged(grads) if self.tol > 0 and self.iteration % self.check_every == 0 else ()
        if len(frozen):
            self.freeze(frozen)
        self.sub_opt.step(self.work, grads, self.hvec)
        self.pending += 1
        self.countdown -= 1
        if self.countdown == 0:
            self.end_segments()
        return len(frozen) > 0 or self.moving.size < self.idx.size

    def run(self):
        s = self.sched
        self.idx = np.arange(self.params.n_groups)
        self.tidx = torch.as_tensor(self.idx, device=self.device)
        snap = self.rec.snapshot(self.params.theta, self.tidx)
        self.checkpoint(None, s.start(self.idx, snap, self.idx), snap)
        self.idx = np.nonzero(s.active)[0]
        while self.idx.size:
            self.bind()
            while not self.step():
                pass
            self.flush()
            self.params.store(self.tidx, self.work)
            self.opt.scatter(self.tidx, self.sub_opt)
            self.idx = np.nonzero(s.active)[0]


def fit(params, objective, optimizer, schedule, recorder, *, tol: float = 0.0, check_every: int = CHECK_EVERY,
        on_diverge=_default_diverge, progress: bool = True, desc: str = "train") -> dict:
    """Train `params` until every group has passed its last checkpoint (or converged); see the module
    docstring. The recorder and the schedule hold the results (also after an exception: the
    checkpoints recorded so far stay filled). Returns loop statistics: iterations, wall time."""
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    bar = tqdm(total=params.n_groups * schedule.n_ckpt, disable=not progress, unit="ckpt", leave=False, desc=desc)
    loop = _Loop(params, objective, optimizer, schedule, recorder, tol, check_every, on_diverge, bar)
    try:
        loop.run()
    finally:
        bar.close()
    return {"iterations": loop.iteration, "loop_s": time.perf_counter() - t0}
