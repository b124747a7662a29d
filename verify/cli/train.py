"""`specbias train ARCH`: train the matching torch model by gradient descent and compare with the theory."""
from __future__ import annotations

import numpy as np

import theory
from numerics import budget
from numerics import data as datasets
from numerics.devices import DTYPES
from numerics.models import check_options, default_sigmas, default_ts, weights_per_level
from numerics.train import default_taus, train
from theory import validate as V
from theory.errors import SpecbiasError
from theory.output import dumps
from verify.agreement import judge
from verify.cli import argtypes as T
from verify.cli.argtypes import parse_params
from verify.cli.train_nets import (
    AFFINE_ONLY,
    NETWORK_ONLY,
    add_network_args,
    check_kind_options,
    cmd_train_network,
)
from verify import setups

DATA = datasets.SPECTRA + ("stationary", "stationary2d", "modulated") + datasets.REAL
#: the fixed dimension of each real data set (patches: d = P², any square)
FIXED_D = {"digits": 64, "lfw": 625}
BETA_SPECTRA = ("powerlaw", "stationary", "modulated")
DEFAULTS = {"d": 32, "checkpoints": 33, "sigma0": 0.002, "sigmaT": 80.0, "step_fraction": 0.02,
            "optimizer": "gd", "dtype": "float64"}  # networks (--model): verify.cli.train_nets


def _image(arch) -> bool:
    return getattr(arch, "dims", 1) == 2


def _spectrum(arch, args) -> str:
    """--spectrum, or the default: lognormal; stationary signals (images for 2-D models) for convolutions."""
    return args.spectrum or setups.default_spectrum(arch)


def check_options_apply(arch, args) -> None:
    """Refuse an option the run would silently ignore (issue: `--batch` in population mode, `--sigma0`
    for flow times, `--d` for a real data set of fixed size, ...)."""
    kind, flow = _spectrum(arch, args), arch.sampling.variable.name == "t"
    rules = [
        ("--sigma0", args.sigma0, flow, f"{arch.name} trains on flow times t, not noise levels"),
        ("--sigmaT", args.sigmaT, flow, f"{arch.name} trains on flow times t, not noise levels"),
        ("--batch", args.batch, args.mode == "population", "population mode uses the exact expected loss"),
        ("--lr", args.lr, _value(args, "optimizer") == "gd", "it is Adam's learning rate (gradient descent uses h)"),
        ("--scale", args.scale, args.init == "aligned", "it is the std of --init random"),
        ("--checkpoints", args.checkpoints, args.taus is not None, "--taus gives the checkpoints"),
        ("--tau-max", args.tau_max, args.taus is not None or args.steps is not None,
         "--taus/--steps give the checkpoints"),
        ("--step-fraction", args.step_fraction, args.h is not None, "--h fixes the step size"),
        ("--beta", args.beta, kind not in BETA_SPECTRA, f"data {kind!r} has no power-law exponent"),
        ("--d", args.d, kind in FIXED_D and args.d != FIXED_D.get(kind),
         f"data {kind!r} has d = {FIXED_D.get(kind)}"),
    ]
    for opt, value, ignored, why in rules:
        if value is not None and ignored:
            raise SpecbiasError(f"{opt} does not apply here: {why}")
    check_options(arch, parse_params(args.model_param, "--model-param"))


def _value(args, name):
    v = getattr(args, name)
    return DEFAULTS[name] if v is None else v


def build_data(arch, args):
    """The data set named by --spectrum, or the architecture's default (verify.setups.default_data)."""
    kind = _spectrum(arch, args)
    d = args.d if args.d is not None else 64 if _image(arch) else DEFAULTS["d"]  # 2-D: 8 × 8 images
    return setups.default_data(arch, FIXED_D.get(kind, d), seed=args.seed, beta=args.beta, spectrum=args.spectrum)


def _grid(arch, args) -> dict:
    if arch.sampling.variable.name == "t":
        return {"ts": default_ts(args.levels).numpy()}
    return {"sigmas": default_sigmas(args.levels, *V.sampling_range(_value(args, "sigma0"),
                                                                   _value(args, "sigmaT"))).numpy()}


def _taus(args):
    if args.taus is not None:
        return np.asarray(args.taus, dtype=float)
    if args.steps is not None:
        return None
    hi = args.tau_max if args.tau_max is not None else (100.0 if args.mode == "population" else 0.01)
    return default_taus(_value(args, "checkpoints") - 1, min(1e-4, hi / 10), hi)


def check_size(arch, args, params: dict) -> None:
    """Refuse, from the sizes alone and before any data is built, what will not fit in memory (the
    model's own sizes, --param L / --model-param hidden, count through its weights per level)."""
    kind = _spectrum(arch, args)
    d = FIXED_D.get(kind, _value(args, "d"))
    n_ckpt = len(args.taus) if args.taus is not None else _value(args, "checkpoints")
    options = {**params, **check_options(arch, parse_params(args.model_param, "--model-param"))}
    budget.check_memory(f"training d = {d:,} at {args.levels:,} levels",
                        budget.training_bytes(d, args.levels, n_ckpt, keep_weights=args.keep_weights,
                                              weights=weights_per_level(arch, d, options)),
                        device=args.device, allow_large=args.force,
                        hint="use a smaller --d, --param/--model-param sizes or fewer --levels/--checkpoints")


def print_verdict(cmp: dict) -> None:
    """The agreement lines of `specbias train`: verify.agreement.judge's verdict, the one `verify` and
    `report` give (the per-run GD-vs-flow bound; ln λ̃ too when the weights were kept)."""
    verdict = "within" if cmp["within_tolerance"] else "OUTSIDE"
    print(f"agreement: weights {verdict} the per-run bound {cmp['tolerance_abs']:.3g} (trajectory-gd-bound in "
          "verify/tolerances.py: max(abs, rel·(c/e)·max|Q − ψ*|), the bound verify and report use)")
    lv = cmp["log_variance"]
    if lv is None:
        print("agreement: ln λ̃ not judged (it needs the trained weights: --keep-weights)")
    else:
        print(f"agreement: ln λ̃ {'within' if lv['within_tolerance'] else 'OUTSIDE'} {lv['tolerance_abs']:g}, "
              f"largest error {max(lv['max_abs_error']):.3g} (log-variance-trained)")
    print(f"agreement: {'PASS' if cmp['ok'] else 'FAIL'}")


def cmd_train(args) -> int:
    if args.model:
        return cmd_train_network(args)
    check_kind_options(args)
    arch = theory.get(args.arch)
    check_options_apply(arch, args)
    params = parse_params(args.param)
    arch.resolve(params)
    check_size(arch, args, params)
    taus, grid = _taus(args), _grid(arch, args)
    data = build_data(arch, args)
    run = train(arch, data, mode=args.mode, taus=taus, steps=args.steps,
                n_checkpoints=_value(args, "checkpoints"), h=args.h,
                step_fraction=_value(args, "step_fraction"), optimizer=_value(args, "optimizer"),
                lr=args.lr, batch=args.batch, init=args.init, Q=args.Q,
                eta=args.eta, params=params, model_kwargs=parse_params(args.model_param, "--model-param"),
                scale=args.scale, device=args.device, dtype=DTYPES[_value(args, "dtype")],
                keep_weights=args.keep_weights, progress=not (args.no_progress or args.json),
                seed=args.seed, allow_large=args.force, **grid)
    cmp = judge(run, data, data.name) if _value(args, "optimizer") == "gd" else {
        "available": False, "reason": "Adam is not gradient flow"}
    if args.out:
        run.meta["theory_comparison"] = cmp
        run.save(args.out)
    m = run.meta
    if args.json:
        print(dumps({"meta": run.summary(), "theory": cmp, "out": args.out}))
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
        print_verdict(cmp)
    else:
        print(f"no theory comparison: {cmp['reason']}")
    if args.out:
        print(f"saved to {args.out}/run.npz and run.json")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train the matching torch model by gradient descent (numerics)")
    p.add_argument("arch", nargs="?", default="linear", help="architecture name (default: linear)")
    p.add_argument("--d", type=T.count(hi=datasets.MAX_DIM), default=None,
                   help="data dimension / signal length (default 32, 64 = 8×8 images for 2-D models; fixed for "
                        "digits and lfw)")
    p.add_argument("--spectrum", choices=DATA, default=None,
                   help="data: Gaussian spectrum, stationary/modulated signals or real data "
                        "(default: lognormal; stationary for convolutions)")
    p.add_argument("--beta", type=T.real, default=None, help="power-law exponent (powerlaw, stationary, modulated)")
    p.add_argument("--mode", choices=["population", "samples"], default="population")
    p.add_argument("--optimizer", choices=["gd", "adam"], default=None,
                   help="gd (default) or adam; networks (--model) default to their protocol's")
    p.add_argument("--lr", type=T.positive, default=None, help="Adam learning rate (default 1e-3)")
    p.add_argument("--batch", type=T.count(hi=10**7), default=None, help="samples mode: minibatch size")
    p.add_argument("--device", type=T.device, default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--dtype", choices=list(DTYPES), default=None,
                   help="float64 (default; networks: float32)")
    grid = p.add_mutually_exclusive_group()
    grid.add_argument("--steps", type=T.count(hi=10**15), default=None,
                      help="run N steps with one step size for all levels")
    grid.add_argument("--taus", type=T.nonneg, nargs="+", default=None, help="checkpoint times τ")
    p.add_argument("--tau-max", type=T.positive, default=None,
                   help="last checkpoint of the default log grid (population 100, samples 0.01)")
    p.add_argument("--checkpoints", type=T.count(lo=2, hi=10**5), default=None,
                   help="number of checkpoints, τ = 0 included (default 33)")
    p.add_argument("--levels", type=T.count(hi=10**9), default=32, help="noise levels / flow times (default 32)")
    p.add_argument("--sigma0", type=T.positive, default=None, help="smallest noise level (default 0.002)")
    p.add_argument("--sigmaT", type=T.positive, default=None, help="largest noise level (default 80)")
    p.add_argument("--h", type=T.positive, default=None, help="one fixed step size (checked for stability)")
    p.add_argument("--step-fraction", type=T.fraction(), default=None,
                   help="per-level step h_l = c·2/curvature_l (default c = 0.02)")
    p.add_argument("--Q", type=T.real, default=0.1, help="initial gain (default 0.1)")
    p.add_argument("--eta", type=T.positive, default=1.0, help="learning rate η of the gradient flow")
    p.add_argument("--init", choices=["aligned", "random"], default="aligned")
    p.add_argument("--scale", type=T.nonneg, default=None, help="random init std (default 1e-3)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="architecture parameter")
    p.add_argument("--model-param", action="append", metavar="NAME=VALUE",
                   help="torch-model option (e.g. hidden=16)")
    p.add_argument("--seed", type=T.seed, default=0)
    p.add_argument("--keep-weights", action="store_true", help="store W and b at every checkpoint")
    p.add_argument("--out", type=T.out_dir, default=None, help="save run.npz + run.json into this folder")
    p.add_argument("--force", action="store_true",
                   help="train even where the memory or step estimate says it will not fit or finish")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_network_args(p)
    p.set_defaults(func=cmd_train, option_defaults={dest: p.get_default(dest) for dest in AFFINE_ONLY + NETWORK_ONLY})
