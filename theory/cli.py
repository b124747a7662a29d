"""CLI subcommands of the theory layer: `theory`, `emergence`, `derive`."""
from __future__ import annotations

import numpy as np

from . import argtypes as T
from . import registry
from .emergence import ALL_CRITERIA, emergence_time
from .errors import SpecbiasError
from .fit import fit_exponent
from .output import dumps

DEFAULT_LAM = [10, 3, 1, 0.3, 0.1, 0.03, 0.01, 0.001]  # THEORY §6, the paper's theory figures
DEFAULT_TAU = [0, 0.01, 0.1, 1, 10, 100, 1000]


def parse_params(items, option: str = "--param") -> dict:
    """`--param N=16 --param K=5` → {"N": 16, "K": 5} (numbers parsed as int or float); `option` names
    the option in the messages (e.g. "--model-param")."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SpecbiasError(f"{option} expects NAME=VALUE, got {item!r}")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
            else:
                if not np.isfinite(out[key]):
                    raise SpecbiasError(f"{option} {key} must be finite (got {value!r})")
    return out


def add_common(p, lam=True) -> None:
    p.add_argument("arch", nargs="?", default="linear", help="architecture name (default: linear)")
    if lam:
        p.add_argument("--lam", type=T.positive, nargs="+", default=DEFAULT_LAM, help="data variances λ_k")
    p.add_argument("--Q", type=T.real, default=0.1, help="initial gain (default 0.1)")
    p.add_argument("--eta", type=T.positive, default=1.0, help="learning rate η (default 1)")
    p.add_argument("--sigma0", type=T.positive, default=0.002)
    p.add_argument("--sigmaT", type=T.positive, default=80.0)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="architecture parameter")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _warn(arch, Q) -> None:
    note = arch.note_on_Q(Q)
    if note:
        print(f"note: {note}")


def cmd_theory(args) -> int:
    arch = registry.get(args.arch)
    params = parse_params(args.param)
    lam, tau = np.asarray(args.lam, float), np.asarray(args.tau, float)
    if arch.coupled and args.lam is DEFAULT_LAM:  # the default variances, mirrored into one spectrum
        lam = arch.as_spectrum(lam)
    kw = dict(Q=args.Q, eta=args.eta, sigma0=args.sigma0, sigmaT=args.sigmaT, **params)
    lt = (arch.generated_variance(lam[None, :], tau[:, None], **kw).T if arch.coupled  # whole spectrum
          else arch.generated_variance(lam[:, None], tau[None, :], **kw))
    ts = emergence_time(arch, lam, criterion=args.criterion, **kw)
    if args.json:
        print(dumps({"arch": arch.name, "params": kw, "lam": lam, "tau": tau, "generated_variance": lt,
                     "criterion": args.criterion, "tau_star": ts}))
        return 0
    _warn(arch, args.Q)
    print(f"{arch.name}: {arch.title} ({arch.source}); generated variance λ̃(τ), "
          f"Q={args.Q:g}, η={args.eta:g}, σ0={args.sigma0:g}, σT={args.sigmaT:g}")
    head = "".join(f"{'τ=' + format(t, 'g'):>11}" for t in tau)
    if arch.basis == "fourier":
        print("λ: Fourier-mode variances Σ̃_kk of the signal" + (" (one whole spectrum)" if arch.coupled else ""))
    print(f"{'λ':>9}{head}{'τ* (' + args.criterion + ')':>18}")
    for i, l in enumerate(lam):
        row = "".join(f"{v:11.4g}" for v in lt[i])
        print(f"{l:9.4g}{row}{ts[i]:18.5g}")
    return 0


def cmd_emergence(args) -> int:
    arch = registry.get(args.arch)
    params = parse_params(args.param)
    lam = np.asarray(args.lam, float)
    kw = dict(Q=args.Q, eta=args.eta, sigma0=args.sigma0, sigmaT=args.sigmaT, **params)
    ts = emergence_time(arch, lam, criterion=args.criterion, **kw)
    v0 = float(arch.initial_variance(args.Q, args.sigma0, args.sigmaT))
    fits = fit_exponent(lam, ts, v0)
    if args.json:
        print(dumps({"arch": arch.name, "criterion": args.criterion, "v0": v0, "lam": lam, "tau_star": ts,
                     "fit": {k: f.as_dict() for k, f in fits.items()}}))
        return 0
    _warn(arch, args.Q)
    print(f"{arch.name}: emergence times, {args.criterion} criterion, v0 = {v0:.4g} (exact), Q={args.Q:g}")
    print(f"{'λ':>10}{'direction':>12}{'τ*':>14}")
    for l, t in zip(lam, ts):
        print(f"{l:10.4g}{'increasing' if v0 < l else 'decreasing':>12}{t:14.5g}")
    for name, f in fits.items():
        if np.isfinite(f.alpha):
            print(f"fit τ* = a λ^-α ({name}, gray zone excluded): α = {f.alpha:.4f} "
                  f"[95% CI {f.ci[0]:.4f}, {f.ci[1]:.4f}], R² = {f.r2:.5f}, N = {f.n}")
    return 0


def cmd_derive(args) -> int:
    from .report_derivation import print_derivation

    user = args.arch.endswith(".py")
    if args.solve:
        from .solve.cli import solved_archs
    archs = solved_archs(args.arch) if args.solve else registry.load_module(args.arch) if user \
        else [registry.get(args.arch)]
    ok = True
    for arch in archs:
        try:
            ok &= print_derivation(arch, parse_params(args.param))
        except SpecbiasError:
            raise
        except Exception as exc:
            if not user:
                raise
            raise SpecbiasError(f"{arch.name} (from {args.arch}): deriving raised {type(exc).__name__}: "
                                f"{exc}") from None
    return 0 if ok else 1


def add_parsers(sub) -> None:
    p = sub.add_parser("theory", help="closed-form generated variance for an architecture")
    add_common(p)
    p.add_argument("--tau", type=T.nonneg, nargs="+", default=DEFAULT_TAU, help="training times τ")
    p.add_argument("--criterion", default="geometric", choices=ALL_CRITERIA)
    p.set_defaults(func=cmd_theory)
    p = sub.add_parser("emergence", help="emergence times τ* and the fitted exponent")
    add_common(p)
    p.add_argument("--criterion", default="geometric", choices=ALL_CRITERIA)
    p.set_defaults(func=cmd_emergence)
    p = sub.add_parser("derive", help="derive the ODE from the loss and check every closed form")
    p.add_argument("arch", help="architecture name, or a path to a module that registers one")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="architecture parameter")
    p.add_argument("--solve", action="store_true", help="solve a module's theory.solve.Spec (θ, ψ, L, initial "
                   "value) and print the closed forms as LaTeX and Python before the checks")
    p.set_defaults(func=cmd_derive)
