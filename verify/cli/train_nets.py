"""`specbias train --model NAME`: train a σ-conditioned network (numerics.nets.models) under a protocol
(numerics.nets.edm) with CRN checkpoint measurement (numerics.nets.train), then fit the emergence exponents
and classify against the linear theory (verify.nets.analysis)."""
from __future__ import annotations

import json

from numerics import data as datasets
from numerics.nets import edm
from numerics.nets.models import available_nets, net_options
from theory.errors import SpecbiasError
from verify.cli import argtypes as T

#: `specbias train` options of the affine models alone, and of the networks (--model) alone: giving one
#: to the other kind of run is refused rather than silently ignored
AFFINE_ONLY = ("arch", "mode", "init", "scale", "Q", "eta", "param", "model_param", "levels", "sigma0",
               "sigmaT", "h", "step_fraction", "tau_max", "keep_weights", "force")
NETWORK_ONLY = ("protocol", "precond", "weight", "width", "depth", "kernel", "channels", "samples",
                "heun_steps", "bootstrap", "final_denoise", "n_train", "fourier")
#: ranges of the network sizes (memory is estimated after, numerics.budget.network_bytes)
MAX_WIDTH, MAX_DEPTH, MAX_KERNEL = 2**20, 1000, 1025


def check_kind_options(args) -> None:
    """Refuse an option that the chosen kind of run (affine model or --model network) would ignore;
    an option counts as given when it differs from its default (`option_defaults`, set by the parser)."""
    network = args.model is not None
    for dest in NETWORK_ONLY if not network else AFFINE_ONLY:
        if getattr(args, dest) != args.option_defaults[dest]:
            opt = "ARCH" if dest == "arch" else "--" + dest.replace("_", "-")
            raise SpecbiasError(f"{opt} does not apply to " + (
                f"network training (--model {args.model}): it is an option of the affine models "
                "(train ARCH without --model)" if network else
                "the affine models: it is an option of network training (--model NAME)"))


def network_options(args) -> dict:
    """The network options given on the command line that the chosen network takes."""
    given = {"width": args.width, "depth": args.depth, "kernel": args.kernel,
             "channels": None if args.channels is None else (
                 args.channels[0] if args.model == "convnet" else tuple(args.channels))}
    valid = net_options(args.model)
    bad = [k for k, v in given.items() if v is not None and k not in valid]
    if bad:
        raise SpecbiasError(f"--{bad[0]} does not apply to network {args.model!r} (its options: {', '.join(valid)})")
    return {k: v for k, v in given.items() if v is not None}


def network_data(args):
    """--spectrum (default lognormal) at --d, optionally as a finite set of --n-train Gaussian draws."""
    from numerics.nets.train import finite_set

    ds = datasets.load(args.spectrum or "lognormal", 32 if args.d is None else args.d, beta=args.beta,
                       seed=args.seed)
    return finite_set(ds, args.n_train, args.seed) if args.n_train else ds


def cmd_train_network(args) -> int:
    from numerics.nets.train import train_net
    from verify.nets import analysis as NL

    if args.taus is not None:
        raise SpecbiasError("networks train for --steps optimiser steps (τ = steps × lr); --taus does not apply")
    check_kind_options(args)
    ds = network_data(args)
    optimizer = {"gd": "sgd"}.get(args.optimizer, args.optimizer)  # None: the protocol's
    proto = edm.protocol(args.protocol, lr=args.lr, batch=args.batch, optimizer=optimizer,
                         precond=args.precond, weight=args.weight)
    bases = ("eigen", "fourier") if len(ds.shape) == 1 and args.fourier else ("eigen",)
    run = train_net(args.model, ds, proto, steps=args.steps or 2000, checkpoints=args.checkpoints or 30,
                    net_options=network_options(args), n_samples=args.samples, heun_steps=args.heun_steps,
                    bases=bases, bootstrap=args.bootstrap, final_denoise=args.final_denoise, seed=args.seed,
                    dtype=args.dtype or "float32", device=args.device, out=args.out,
                    progress=not (args.no_progress or args.json))
    result = summarise(run, NL)
    if args.json:
        print(json.dumps({"meta": run.summary(), "result": result, "out": args.out}, default=str))
        return 0
    m = run.meta
    print(f"{args.model}: {m['parameters']:,} parameters on {m['data']['name']} (d = {ds.d}), protocol "
          f"{m['protocol']['name']} ({m['protocol']['optimizer']}, lr {m['protocol']['lr']:g}, "
          f"batch {m['protocol']['batch']}), {m['dtype']} on {m['device']}")
    print(f"checkpoints: {run.tau.size} (τ = steps × lr up to {run.tau[-1]:g}); sampler: "
          f"{m['sampler']['n_samples']} samples × {m['sampler']['heun_steps']} Heun steps (CRN); "
          f"train {m['train_s']:.1f} s, sample {m['sample_s']:.1f} s")
    for crit, row in result["fits"].items():
        f = row["increasing"]
        print(f"  {crit:>10}: α = {f['alpha']:.3f}, 95% CI [{f['ci'][0]:.3f}, {f['ci'][1]:.3f}] "
              f"(fit [{f['ci_fit'][0]:.3f}, {f['ci_fit'][1]:.3f}], Monte Carlo [{f['ci_mc'][0]:.3f}, "
              f"{f['ci_mc'][1]:.3f}]), N = {f['n']} increasing modes")
    print(f"linear theory at Q = {result['Q_effective']:.3f} (same τ = 0 variance): classification "
          f"{result['classification']!r}: {result['reason']}")
    if args.out:
        print(f"saved to {args.out}/run.npz and run.json")
    return 0


def summarise(run, NL) -> dict:
    em = NL.emergence(run)
    cmp = NL.compare(run, em=em)
    flag = cmp["flag"]
    return {"fits": {c: {d: f.as_dict() for d, f in e["fits"].items()} for c, e in em.items()},
            "Q_effective": cmp["Q_effective"], "classification": flag.classification, "reason": flag.reason,
            "time_scale": cmp["time_scale"], "exponent_range": cmp["exponent_range"],
            "simultaneity": getattr(flag, "simultaneity", float("nan"))}


def add_network_args(p) -> None:
    """The network options of `specbias train` (used with --model)."""
    g = p.add_argument_group("networks (--model)")
    g.add_argument("--model", choices=available_nets(), default=None,
                   help="train a σ-conditioned network instead of an architecture's affine model")
    g.add_argument("--protocol", choices=sorted(edm.PROTOCOLS), default="edm",
                   help="edm (paper: log-normal σ, EDM weight and preconditioning, Adam) or theory "
                        "(σ grid, balanced weight, plain SGD)")
    g.add_argument("--precond", choices=edm.PRECONDITIONINGS, default=None, help="override the protocol's")
    g.add_argument("--weight", choices=edm.WEIGHTS, default=None, help="override the protocol's loss weight")
    g.add_argument("--width", type=T.count(hi=MAX_WIDTH), default=None, help="MLP width")
    g.add_argument("--depth", type=T.count(hi=MAX_DEPTH), default=None, help="MLP blocks / conv-stack layers")
    g.add_argument("--kernel", type=T.count(hi=MAX_KERNEL), default=None, help="convolution kernel size (odd)")
    g.add_argument("--channels", type=T.count(hi=MAX_WIDTH), nargs="+", default=None,
                   help="U-Net channels per resolution")
    g.add_argument("--samples", type=T.count(lo=2, hi=10**8), default=2000,
                   help="generated samples per checkpoint (CRN)")
    g.add_argument("--heun-steps", type=T.count(hi=10**5), default=20,
                   help="Heun steps of the EDM sampler (default 20)")
    g.add_argument("--bootstrap", type=T.count(lo=0, hi=10**6), default=200,
                   help="bootstrap replicates for the Monte-Carlo CI")
    g.add_argument("--final-denoise", action="store_true", help="EDM's closing Euler step to σ = 0")
    g.add_argument("--n-train", type=T.count(lo=2, hi=10**8), default=None,
                   help="finite training set of n Gaussian draws")
    g.add_argument("--fourier", action="store_true", help="also measure along Fourier modes (1-D signals)")
