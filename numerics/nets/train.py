"""Train a σ-conditioned network (numerics.nets.models) under a protocol (numerics.nets.edm) through the one
training loop (numerics.loop.fit, the network as a single parameter group) and measure the generated
distribution at checkpoints with common random numbers (numerics.nets.crn).

    from numerics import data
    from numerics.nets import train as train_net
    run = train_net.train_net("mlp", data.gaussian(64), "edm", steps=2000, checkpoints=30,
                              net_options={"width": 128, "depth": 3}, n_samples=2000)
    run.var_eigen[j, k]          # generated variance along data eigenvector k at checkpoint j
    run.tau                      # steps × lr (checkpoint 0 is τ = 0, measured BEFORE any step)

Checkpoints are step counts on a log grid with 0 first (numerics.schedule): the τ = 0 measurement is the
exact initial generated variance, not the one after one step as in the paper's code. Seeds: `seed` for
the network init, seed + 1 for the training stream (minibatches, σ, noise), seed + 2 for the sampling
latents, seed + 3 for the bootstrap weights; the data's own seed is recorded from data.describe().
A NaN/inf loss stops training with a SpecbiasError naming the step; with `out`, the run is written
after every checkpoint (atomically), so an interrupted run (Ctrl-C) leaves its completed checkpoints
readable with meta["status"] = "interrupted" (or "diverged").
"""
from __future__ import annotations

import time

import numpy as np
import torch

from numerics import budget
from numerics.devices import DTYPES, cpu_threads, resolve_device
from numerics.loop import ModuleParams, fit
from numerics.nets import crn, edm
from numerics.nets.models import build_net
from numerics.optim import make_optimizer
from numerics.run import Run
from numerics.schedule import Schedule
from theory.errors import SpecbiasError

#: protocol optimiser names → numerics.optim names
_OPTIM = {"sgd": "gd", "adam": "adam"}
#: mixed precision in training only (torch.autocast around the loss: matrix products in the low precision,
#: weights, optimiser and the checkpoint measurement in `dtype`); fp16 needs a GPU
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _autocast(autocast, dev, dt):
    if autocast is None:
        return None
    if autocast not in AUTOCAST:
        raise SpecbiasError(f"autocast must be one of {', '.join(AUTOCAST)} or None (got {autocast!r})")
    if autocast == "fp16" and dev.type != "cuda":
        raise SpecbiasError("autocast fp16 needs a CUDA device (use bf16 on the CPU)")
    if dt != torch.float32:
        raise SpecbiasError(f"autocast applies to float32 training (got dtype {str(dt).replace('torch.', '')})")
    return AUTOCAST[autocast]


def finite_set(data, n: int, seed: int = 0):
    """`data` (a Gaussian) replaced by a finite training set of n draws, measured like the paper
    (protocols.md §2): along the eigenbasis of the set's EMPIRICAL covariance, with its eigenvalues as the
    targets, since a network trained on the set has the empirical, not the population, covariance as its
    optimum. The population's spectrum stays in meta (population_lam)."""
    from numerics.data import empirical

    if data.X is not None:
        raise SpecbiasError(f"{data.name} already is a finite set of {data.X.shape[0]} samples")
    if int(n) != n or n < 2:
        raise SpecbiasError(f"n_train must be an integer ≥ 2 (got {n!r})")
    X = data.sample(int(n), torch.Generator().manual_seed(int(seed) + 104729)).numpy()
    return empirical(data.name, X, data.shape, center=False, normalize=False,
                     meta=dict(data.meta, n_train=int(n), population_lam=[float(v) for v in data.lam],
                               measured_along="empirical eigenbasis of the training set"))


class NetObjective:
    """The protocol's minibatch loss of one network (numerics.objectives interface, one group); keeps
    the mean loss of the steps since the last checkpoint."""

    def __init__(self, proto, D, data, generator, dtype, device, autocast=None):
        self.proto, self.D, self.data, self.generator = proto, D, data, generator
        self.dtype, self.device, self.autocast = dtype, device, autocast
        self.total, self.count = torch.zeros((), dtype=torch.float64, device=device), 0

    def bind(self, tidx):
        pass

    def __call__(self, work) -> torch.Tensor:
        x = self.data.sample(self.proto.batch, self.generator, self.dtype, self.device)
        with torch.autocast(torch.device(self.device).type, dtype=self.autocast, enabled=self.autocast is not None):
            loss = self.proto.loss(self.D, x, self.generator)
        self.total.add_(loss.detach())  # summed on the device: no host round trip per step
        self.count += 1
        return loss.reshape(1)

    def segment_mean(self) -> float:
        out = float(self.total) / self.count if self.count else float("nan")
        self.total.zero_()
        self.count = 0
        return out


class _Stop(Exception):
    """Raised after a checkpoint when `stop` asks training to end there."""


class CRNRecorder:
    """numerics.recorder interface: at every checkpoint, measure the network with the fixed latents."""

    def __init__(self, sampler, D, objective, dtype, device, on_checkpoint):
        self.sampler, self.D, self.objective = sampler, D, objective
        self.dtype, self.device, self.on_checkpoint = dtype, device, on_checkpoint
        self.records, self.losses, self.sample_s = [], [], 0.0

    def snapshot(self, work, tidx):
        return None  # the module itself is the state; it is measured in place

    def record(self, levels, positions, js, snap, steps) -> int:
        n = 0
        for jj in js:
            for _ in jj:
                t0 = time.perf_counter()
                self.D.eval()
                self.records.append(self.sampler.measure(self.D, self.dtype, self.device))
                self.D.train()
                self.losses.append(self.objective.segment_mean())
                self.sample_s += time.perf_counter() - t0
                self.on_checkpoint()
                n += 1
        return n


def _protocol(protocol, options, data) -> edm.Protocol:
    proto = edm.protocol(protocol, **(options or {})) if isinstance(protocol, str) else protocol
    return proto.with_data(data)


def _check_memory(net, data, proto, options, dt, dev, n_samples, bootstrap) -> None:
    """Refuse, before the network is built, sizes that cannot fit (numerics.budget): the network's
    parameters and one step's activations, then the CRN sampler's arrays."""
    from numerics.nets.models import check_net_options, net_class

    check_net_options(net, options)
    itemsize = torch.empty((), dtype=dt).element_size()
    budget.check_memory(f"network {net!r} with {options or 'its default sizes'} (batch {proto.batch})",
                        budget.network_bytes(net_class(net), data.shape, options, proto.batch, itemsize),
                        device=str(dev), hint="use a smaller --width/--depth/--channels or --batch")
    budget.check_memory(f"{int(n_samples):,} generated samples of dimension {data.d} "
                        f"({int(bootstrap)} bootstrap replicates)",
                        budget.sampler_bytes(int(n_samples), data.d, int(bootstrap)),
                        hint="use fewer --samples or --bootstrap replicates")


def train_net(net: str, data, protocol="edm", *, steps: int = 2000, checkpoints: int = 30,
              net_options: dict | None = None, protocol_options: dict | None = None,
              n_samples: int = 2000, heun_steps: int = 20, bases=("eigen",), bootstrap: int = 200,
              final_denoise: bool = False, crn_on: bool = True, seed: int = 0, dtype="float32",
              device="auto", out=None, progress: bool = True, threads: int | None = None,
              stop=None, autocast: str | None = None) -> Run:
    """Train network `net` on `data` under `protocol` (a name or a numerics.nets.edm.Protocol) for `steps`
    optimiser steps, measuring at `checkpoints` log-spaced step counts (0 included). Returns a Run with
    arrays tau, steps, loss, lam, lam_<basis>, var_<basis>, var_boot_<basis>, mean_<basis>, samples.
    threads: torch CPU threads for training and sampling (None: the process's setting, e.g. from
    OMP_NUM_THREADS; numerics.nets.bench uses every core).
    stop: called with the run so far after every checkpoint; a non-empty string ends training there
    (meta["status"] = "stopped", meta["stopped"] = that reason): e.g. once every mode has emerged, so
    that later checkpoints cannot change a first-crossing τ* table (verify.cli.bench's --until-emerged).
    autocast: None, "bf16" (or "fp16" on a GPU): mixed-precision training (AUTOCAST)."""
    t0 = time.perf_counter()
    dev, dt = resolve_device(device), DTYPES.get(dtype, dtype)
    amp = _autocast(autocast, dev, dt)
    proto = _protocol(protocol, protocol_options, data)
    _check_memory(net, data, proto, dict(net_options or {}), dt, dev, n_samples, bootstrap)
    model = build_net(net, data.shape, seed=seed, dtype=dt, device=dev, **dict(net_options or {}))
    D = proto.denoiser(model)
    basis_arrays = {b: data.basis(b) for b in bases}
    sampler = crn.CheckpointSampler(data.d, basis_arrays, n_samples, heun_steps, sigma0=proto.sigma0,
                                    sigmaT=proto.sigmaT, seed=seed + 2, final_denoise=final_denoise,
                                    crn=crn_on, bootstrap=bootstrap)
    schedule = Schedule.from_steps(int(steps), proto.lr, n_checkpoints=int(checkpoints))
    params = ModuleParams(model)
    optimizer = make_optimizer(_OPTIM[proto.optimizer], params.theta, grouped=False, lr=proto.lr)
    objective = NetObjective(proto, D, data, torch.Generator(device=dev).manual_seed(int(seed) + 1), dt, dev, amp)
    meta = {"kind": "network", "net": net, "net_config": getattr(model, "config", {}),
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "protocol": proto.describe(), "sampler": sampler.describe(), "data": data.describe(),
            "seeds": {"init": seed, "training": seed + 1, "sampling": seed + 2, "bootstrap": seed + 3,
                      "data": data.meta.get("seed")},
            "dtype": str(dt).replace("torch.", ""), "autocast": autocast, "device": str(dev),
            "torch": torch.__version__,
            "threads": int(threads or torch.get_num_threads()), "loop": "numerics.loop.fit (one group)"}
    lam = {f"lam_{b}": np.asarray(v[0], float) for b, v in basis_arrays.items()}

    def snapshot(status: str) -> Run:
        k = len(rec.records)
        arrays = dict(crn.stack(rec.records), **lam, lam=lam[f"lam_{bases[0]}"],
                      steps=schedule.step_grid[:k].astype(np.int64), tau=schedule.tau_grid[:k].copy(),
                      loss=np.asarray(rec.losses, float))
        wall = time.perf_counter() - t0
        return Run(arrays, dict(meta, status=status, completed_checkpoints=k, sample_s=rec.sample_s,
                                train_s=wall - rec.sample_s, wall_s=wall), D)

    stopped = []

    def after_checkpoint():
        if out is None and stop is None:
            return
        run = snapshot("running")
        if out is not None:
            run.save(out)
        reason = stop(run) if stop is not None else None
        if reason:
            stopped.append(str(reason))
            raise _Stop

    rec = CRNRecorder(sampler, D, objective, dt, dev, after_checkpoint)

    def diverged(group, step, tau, h):
        return (f"training diverged at step {step} (τ ≈ {tau:.4g}): the loss is NaN/inf "
                f"(protocol {proto.name}, {proto.optimizer}, lr = {proto.lr:g})")

    status = "interrupted"
    try:
        with cpu_threads(threads):
            fit(params, objective, optimizer, schedule, rec, on_diverge=diverged, progress=progress,
                desc=f"train {net} ({proto.name})")
        status = "complete"
    except _Stop:
        status = "stopped"
        meta["stopped"] = stopped[0]
    except SpecbiasError:
        status = "diverged"
        raise
    finally:
        if out is not None and rec.records:
            snapshot(status).save(out)
    return snapshot(status)
