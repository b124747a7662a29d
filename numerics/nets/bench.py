"""`specbias bench nonlinear`: the first paper's Gaussian MLP experiment through numerics.nets.train, timed.

Workload (issue 10's speed target; protocols.md §1, §2, §4): d = 128 lognormal Gaussian, a finite training
set of 10 000 draws, the MLP-UNet at width 256 with 4 residual blocks (the authors' `nlayers=5` is four
UNetMLPBlocks and an output Linear), the EDM protocol (Adam 1e-4, batch 1024), 5000 steps, 67 log-spaced
checkpoints (τ = 0 included) × 4000 samples × 20 Heun steps with common random numbers. The noise
embedding is the authors' (random Fourier features of c_noise at scale 1, no mapping MLP: protocols.md §4).

Reported: total wall, training wall and ms/step, sampling (+ reduction) wall, the machine's fp32
matmul peak (best of a plain n×n @ n×n product, 2n³ flops), the achieved fraction of it in training
and in sampling, the thread count and the load average before and after. FLOPs are counted
analytically from the architecture (`mlp_flops`): matrix products only (norms, activations and the
optimiser are left out, so the fraction is a lower bound on the machine's use). The emergence table and
exponents are added by verify.cli.bench (verify.nets.analysis computes them; numerics does not import verify).
"""
from __future__ import annotations

import os
import time

import torch

from numerics import data as datasets
from numerics.devices import cpu_threads, resolve_device
from numerics.nets.train import finite_set, train_net
from theory.errors import SpecbiasError

WORKLOAD = {"d": 128, "steps": 5000, "checkpoints": 67, "samples": 4000, "heun_steps": 20, "width": 256,
            "depth": 4, "mapping": False, "fourier_scale": 1.0, "n_train": 10_000, "batch": 1024, "lr": 1e-4}
PEAK_N = 4096


def matmul_peak(n: int = PEAK_N, repeat: int = 3, device="cpu") -> float:
    """fp32 GFLOP/s of the best of `repeat` products of two n×n matrices (after one warm-up)."""
    dev = resolve_device(device)
    a, b = (torch.randn(n, n, device=dev) for _ in range(2))
    best = float("inf")
    for i in range(repeat + 1):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i:
            best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def mlp_flops(d: int, width: int, depth: int, emb: int | None = None, batch: int = 1, samples: int = 1,
              mapping: bool = True) -> dict:
    """Matrix-product FLOPs of numerics.nets.mlp.MLPDenoiser(width, depth, emb, mapping=...) (2 per
    multiply-add).

    Per sample the network's Linears hold `macs` weights: input d·w, per block 2w² + e·2w (the FiLM
    projection of the e-wide embedding), output w·d, and with the mapping MLP its two layers
    2⌊emb/2⌋·emb + emb² (e = emb; without it e = 2⌊emb/2⌋ Fourier features). A training step on `batch`
    samples (σ per sample) costs the forward 2·macs·batch plus a backward of twice that, less the input
    gradients that are not needed: of the input layer (x carries no gradient) and of the layer that reads
    the Fourier features (the mapping's first layer, or without it every FiLM projection). A sampler call
    on `samples` samples at one σ computes the embedding and the FiLM projections once."""
    emb = width if emb is None else emb
    feats = 2 * max(emb // 2, 1)
    e = emb if mapping else feats
    emb_macs = feats * emb + emb * emb if mapping else 0
    film = depth * e * 2 * width
    trunk = d * width + depth * 2 * width * width + width * d
    macs = trunk + film + emb_macs
    no_input_grad = d * width + (feats * emb if mapping else film)
    return {"macs_per_sample": macs, "train_step": 2 * batch * (3 * macs - no_input_grad),
            "sampler_eval": 2 * (samples * trunk + film + emb_macs)}


def bench(d: int = WORKLOAD["d"], steps: int = WORKLOAD["steps"], checkpoints: int = WORKLOAD["checkpoints"],
          samples: int = WORKLOAD["samples"], device="auto", threads: int | None = None, peak_n: int = PEAK_N,
          seed: int = 0, stop=None, autocast: str | None = None) -> tuple:
    """Run the workload; returns (timing row, the Run). threads: None → every core (os.cpu_count()).
    stop: passed to train_net (e.g. end training once every mode has emerged); the row then holds the
    steps actually trained and the reason. autocast: mixed-precision training (numerics.nets.train)."""
    dev = resolve_device(device)
    threads = os.cpu_count() if threads is None else int(threads)
    if threads < 1:
        raise SpecbiasError(f"threads must be ≥ 1 (got {threads})")
    w = dict(WORKLOAD, d=int(d), steps=int(steps), checkpoints=int(checkpoints), samples=int(samples))
    load_before = os.getloadavg()
    with cpu_threads(threads):
        peak = matmul_peak(peak_n, device=dev)
        t0 = time.perf_counter()
        data = finite_set(datasets.gaussian(w["d"], "lognormal", seed=seed), w["n_train"], seed=seed)
        run = train_net("mlp", data, "edm", steps=w["steps"], checkpoints=w["checkpoints"],
                        net_options={k: w[k] for k in ("width", "depth", "mapping", "fourier_scale")},
                        protocol_options={"lr": w["lr"], "batch": w["batch"]}, n_samples=w["samples"],
                        heun_steps=w["heun_steps"], seed=seed, device=dev, progress=False, stop=stop,
                        autocast=autocast)
        wall = time.perf_counter() - t0
    m = run.meta
    cfg = m["net_config"]
    flops = mlp_flops(w["d"], cfg["width"], cfg["depth"], cfg["emb"], w["batch"], w["samples"], cfg["mapping"])
    n_ckpt = int(run.tau.size)
    evals = n_ckpt * m["sampler"]["denoiser_calls_per_checkpoint"]
    trained = int(run.arrays["steps"][-1])
    train_rate = flops["train_step"] * trained / m["train_s"] / 1e9
    sample_rate = flops["sampler_eval"] * evals / m["sample_s"] / 1e9
    row = {"workload": w, "device": str(dev), "threads": threads, "dtype": m["dtype"], "autocast": autocast,
           "load_before": list(load_before), "load_after": list(os.getloadavg()),
           "parameters": m["parameters"], "net_config": cfg, "checkpoints": n_ckpt,
           "sampler_evals": int(evals), "wall_s": wall, "train_s": m["train_s"],
           "steps_trained": trained, "stopped": m.get("stopped"),
           "train_ms_per_step": 1e3 * m["train_s"] / max(trained, 1), "sampling_s": m["sample_s"],
           "sampling_ms_per_eval": 1e3 * m["sample_s"] / evals, "peak_gflops": peak, "peak_matmul_n": int(peak_n),
           "flops": flops, "train_gflops": train_rate, "train_peak_fraction": train_rate / peak,
           "sampling_gflops": sample_rate, "sampling_peak_fraction": sample_rate / peak}
    return row, run
