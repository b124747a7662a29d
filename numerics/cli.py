"""`specbias train ARCH`: train the matching torch model by gradient descent and compare with the theory."""
from __future__ import annotations

import json

import numpy as np
import torch

import theory
from theory.cli import parse_params
from theory.errors import SpecbiasError

from . import data as datasets
from .models import default_sigmas, default_ts
from .train import default_taus, train

DTYPES = {"float64": torch.float64, "float32": torch.float32}
DATA = datasets.SPECTRA + ("stationary", "modulated") + datasets.REAL


def build_data(arch, args):
    """The data set named by --spectrum (default: lognormal, or stationary for Fourier-basis models)."""
    kind = args.spectrum or ("stationary" if arch.basis == "fourier" else "lognormal")
    return datasets.load(kind, args.d, beta=args.beta, seed=args.seed)


def _grid(arch, args) -> dict:
    if arch.sampling.variable.name == "t":
        return {"ts": default_ts(args.levels).numpy()}
    return {"sigmas": default_sigmas(args.levels, args.sigma0, args.sigmaT).numpy()}


def _taus(args):
    if args.taus is not None:
        return np.asarray(args.taus, dtype=float)
    if args.steps is not None:
        return None
    hi = args.tau_max if args.tau_max is not None else (100.0 if args.mode == "population" else 0.01)
    return default_taus(args.checkpoints - 1, min(1e-4, hi / 10), hi)


def compare(run) -> dict:
    """Max |ψ_numerics − ψ_theory| per checkpoint, or the reason there is no comparison."""
    from verify.tolerances import tol

    try:
        th = run.theory_gains()
    except (SpecbiasError, NotImplementedError) as exc:
        return {"available": False, "reason": str(exc)}
    err = np.abs(run.gains - th).reshape(run.gains.shape[0], -1).max(-1)
    t = tol("trajectory-vs-theory", run.meta["dtype"])
    return {"available": True, "max_abs_error": err.tolist(), "tolerance_abs": t.abs,
            "within_tolerance": bool(np.all(err <= t.abs)), "reason": t.reason}


def cmd_train(args) -> int:
    arch = theory.get(args.arch)
    data = build_data(arch, args)
    if args.steps is not None and args.taus is not None:
        raise SpecbiasError("give either --steps or --taus, not both")
    run = train(arch, data, mode=args.mode, taus=_taus(args), steps=args.steps,
                n_checkpoints=args.checkpoints, h=args.h, step_fraction=args.step_fraction,
                optimizer=args.optimizer, lr=args.lr, batch=args.batch, init=args.init, Q=args.Q,
                eta=args.eta, params=parse_params(args.param), model_kwargs=parse_params(args.model_param),
                scale=args.scale, device=args.device, dtype=DTYPES[args.dtype],
                keep_weights=args.keep_weights, progress=not (args.no_progress or args.json),
                seed=args.seed, **_grid(arch, args))
    cmp = compare(run) if args.optimizer == "gd" else {"available": False, "reason": "Adam is not gradient flow"}
    if args.out:
        run.meta["theory_comparison"] = cmp
        run.save(args.out)
    m = run.meta
    if args.json:
        print(json.dumps({"meta": run.summary(), "theory": cmp, "out": args.out}, default=str))
        return 0
    print(f"{arch.name}: {m['model']['class']} on {m['data']['name']} (d = {data.d}), {m['mode']} mode, "
          f"{m['optimizer']}, {m['dtype']} on {m['device']} ({m['threads']} thread(s))")
    print(f"levels: {run.levels.size} {m['level_name']} in [{run.levels.min():g}, {run.levels.max():g}]; "
          f"checkpoints: {run.tau.size} τ in [{run.tau.min():g}, {run.tau.max():g}]; step rule: {m['step_rule']}")
    print(f"steps: {m['total_steps']:,} level-steps, at most {m['max_level_steps']:,} at one level; "
          f"{m['levels_converged']} level(s) froze as converged; wall {m['wall_s']:.2f} s")
    if cmp["available"]:
        print(f"{'τ':>11}{'max |ψ − ψ_theory|':>22}")
        for t, e in zip(run.tau, cmp["max_abs_error"]):
            print(f"{t:11.4g}{e:22.3e}")
        verdict = "within" if cmp["within_tolerance"] else "OUTSIDE"
        print(f"{verdict} tolerance {cmp['tolerance_abs']:g} (trajectory-vs-theory in verify/tolerances.py: "
              "the O(h) gap of gradient descent to gradient flow)")
    else:
        print(f"no theory comparison: {cmp['reason']}")
    if args.out:
        print(f"saved to {args.out}/run.npz and run.json")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train the matching torch model by gradient descent (numerics)")
    p.add_argument("arch", nargs="?", default="linear", help="architecture name (default: linear)")
    p.add_argument("--d", type=int, default=32, help="data dimension / signal length (default 32)")
    p.add_argument("--spectrum", choices=DATA, default=None,
                   help="data: Gaussian spectrum, stationary/modulated signals or real data "
                        "(default: lognormal; stationary for convolutions)")
    p.add_argument("--beta", type=float, default=None, help="power-law exponent")
    p.add_argument("--mode", choices=["population", "samples"], default="population")
    p.add_argument("--optimizer", choices=["gd", "adam"], default="gd")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--batch", type=int, default=None, help="samples mode: minibatch size")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--dtype", choices=list(DTYPES), default="float64")
    grid = p.add_mutually_exclusive_group()
    grid.add_argument("--steps", type=int, default=None, help="run N steps with one step size for all levels")
    grid.add_argument("--taus", type=float, nargs="+", default=None, help="checkpoint times τ")
    p.add_argument("--tau-max", type=float, default=None,
                   help="last checkpoint of the default log grid (population 100, samples 0.01)")
    p.add_argument("--checkpoints", type=int, default=33, help="number of checkpoints (default 33)")
    p.add_argument("--levels", type=int, default=32, help="noise levels / flow times (default 32)")
    p.add_argument("--sigma0", type=float, default=0.002)
    p.add_argument("--sigmaT", type=float, default=80.0)
    p.add_argument("--h", type=float, default=None, help="one fixed step size (checked for stability)")
    p.add_argument("--step-fraction", type=float, default=0.02,
                   help="per-level step h_l = c·2/curvature_l (default c = 0.02)")
    p.add_argument("--Q", type=float, default=0.1, help="initial gain (default 0.1)")
    p.add_argument("--eta", type=float, default=1.0, help="learning rate η of the gradient flow")
    p.add_argument("--init", choices=["aligned", "random"], default="aligned")
    p.add_argument("--scale", type=float, default=1e-3, help="random init std")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="architecture parameter")
    p.add_argument("--model-param", action="append", metavar="NAME=VALUE",
                   help="torch-model option (e.g. hidden=16)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep-weights", action="store_true", help="store W and b at every checkpoint")
    p.add_argument("--out", default=None, help="save run.npz + run.json into this folder")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_train)
