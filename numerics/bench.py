"""`specbias bench numerics`: the vectorised trainer against the same training as a per-level loop.

Workload: `linear` on a lognormal Gaussian, d = 64 (d = 512 on a GPU), 64 noise levels, population mode,
2000 GD steps with one step size for all levels, 40 checkpoints, every level stepping all 2000 steps
(convergence freezing off, so both paths do the same work), then the exact generated covariance at
every checkpoint and level grid (numerics.measure). The per-level loop trains the same model one noise
level at a time (a Python loop over levels, the same loss and update); it is timed on a subset of
levels and scaled to all of them (every level costs the same: same d, same steps), and its gains are
checked against the vectorised ones. Targets (2-core CPU): vectorised train + measure < 30 s,
peak RSS < 2 GB, vectorised ≥ 10× faster than the loop. The same comparison at d = 16 shows the
overhead-bound regime (there the loop pays Python and autograd overhead per level and step; at d = 64 on
a CPU both paths are bound by the d×d×d products, so the gain from vectorising is smaller).
"""
from __future__ import annotations

import resource
import time

import numpy as np
import torch

from theory.output import dumps

from . import data as datasets
from .models import Linear, default_sigmas
from .train import LevelTerms, Moments, cpu_threads, default_threads, population_loss, resolve_device, train

LEVELS, STEPS, CHECKPOINTS, LOOP_LEVELS, SMALL_D = 64, 2000, 40, 8, 16


def per_level_loop(data, sigmas, h, checkpoints, levels, dtype, device):
    """The same training, one level at a time: returns gains [checkpoint, len(levels), mode]."""
    lam, U, _ = data.basis("eigen")
    U_t = torch.as_tensor(U, dtype=dtype, device=device)
    moments = Moments(data, dtype, device)
    out = np.empty((len(checkpoints), len(levels), lam.size))
    marks = {int(n): j for j, n in enumerate(checkpoints)}
    for i, lv in enumerate(levels):
        model = Linear(d=data.d, sigmas=sigmas[lv:lv + 1], Q=0.1, dtype=dtype, device=device)
        terms = LevelTerms(model.pair_coefficients().to(dtype), moments)
        params = model.params()
        for n in range(int(checkpoints[-1]) + 1):
            W, b = model.effective()
            if n in marks:
                out[marks[n], i] = ((U_t * (W[0] @ U_t)).sum(0)).detach().cpu().numpy()
            if n == checkpoints[-1]:
                break
            loss = population_loss(W, b, None, moments, terms)
            grads = torch.autograd.grad(loss.sum(), list(params.values()))
            with torch.no_grad():
                for p, g in zip(params.values(), grads):
                    p -= h * g
    return out


def bench(device="auto", d: int | None = None, levels: int = LEVELS, steps: int = STEPS,
          checkpoints: int = CHECKPOINTS, loop_levels: int = LOOP_LEVELS, measure: bool = True) -> dict:
    dev = resolve_device(device)
    d = d or (512 if dev.type == "cuda" else 64)
    data = datasets.gaussian(d, "lognormal", seed=0)
    sigmas = default_sigmas(levels).numpy()
    t0 = time.perf_counter()
    run = train("linear", data, steps=steps, n_checkpoints=checkpoints, sigmas=sigmas, keep_weights=True,
                converge_tol=0.0, device=dev, progress=False)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t_train = time.perf_counter() - t0
    row = {"device": str(dev), "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else None,
           "cpu_threads": run.meta["threads"], "d": d, "levels": levels, "steps": steps,
           "checkpoints": int(run.tau.size), "dtype": "float64", "train_s": t_train,
           "level_steps_per_s": levels * steps / t_train}
    if measure:
        try:
            from . import measure as M
        except ImportError:
            row["measure"] = "numerics.measure not available: training timed alone"
        else:
            t1 = time.perf_counter()
            m = M.measure(run.W, run.b, run.sigma, method="exact", U=data.U, lam=data.lam, device=dev)
            row["measure_s"] = time.perf_counter() - t1
            row["measure"] = (f"exact generated covariance at {run.tau.size} checkpoints "
                              f"(var_eig {list(m.var_eig.shape)}, KL, χ)")
    pick = np.unique(np.linspace(0, levels - 1, min(loop_levels, levels)).round().astype(int))
    with cpu_threads(default_threads(dev, 1, d)):
        t2 = time.perf_counter()
        loop = per_level_loop(data, sigmas, float(run.h[0]), run.steps[:, 0], pick, torch.float64, dev)
        t_loop = (time.perf_counter() - t2) * levels / pick.size
    row.update(loop_s_estimated=t_loop, loop_levels_timed=int(pick.size),
               speedup=t_loop / t_train, loop_max_gain_difference=float(np.abs(loop - run.gains[:, pick]).max()),
               total_s=t_train + row.get("measure_s", 0.0),
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if dev.type == "cuda":
        row["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return row


def run(args) -> int:
    row = bench(getattr(args, "device", "auto"))
    small = bench(getattr(args, "device", "auto"), d=SMALL_D, measure=False, loop_levels=4)
    if getattr(args, "json", False):
        print(dumps({"main": row, "small": small}))
        return 0
    print(f"numerics benchmark: linear, d = {row['d']}, {row['levels']} levels, population mode, "
          f"{row['steps']} steps, {row['checkpoints']} checkpoints, {row['dtype']} on {row['device']}"
          + (f" ({row['gpu']})" if row["gpu"] else f" ({row['cpu_threads']} thread(s))"))
    print("targets (2-core CPU): train + measure < 30 s; peak RSS < 2 GB; vectorised >= 10x the per-level loop")
    print(f"  vectorised training  {row['train_s']:8.2f} s  ({row['level_steps_per_s']:,.0f} level-steps/s)")
    if "measure_s" in row:
        print(f"  exact measurement    {row['measure_s']:8.2f} s  ({row['measure']})")
    else:
        print(f"  measurement: {row['measure']}")
    print(f"  total                {row['total_s']:8.2f} s")
    print(f"  per-level loop       {row['loop_s_estimated']:8.2f} s  (timed on {row['loop_levels_timed']} "
          f"levels, scaled to {row['levels']}; gains equal to {row['loop_max_gain_difference']:.1e})")
    print(f"  speed-up             {row['speedup']:8.1f}x")
    print(f"  peak RSS             {row['peak_rss_mb']:8.0f} MB"
          + (f"; peak GPU memory {row['peak_gpu_mb']:.0f} MB" if "peak_gpu_mb" in row else ""))
    print(f"same workload at d = {small['d']} (overhead-bound, no measurement): vectorised {small['train_s']:.2f} s, "
          f"per-level loop {small['loop_s_estimated']:.2f} s -> {small['speedup']:.1f}x")
    return 0
