"""`specbias theory ARCH`: the closed-form generated variance λ̃(τ) of an architecture, and the options
it shares with `specbias emergence`."""
from __future__ import annotations

import numpy as np

from theory import registry
from theory.emergence import ALL_CRITERIA, emergence_time
from theory.output import dumps
from verify.cli import argtypes as T

DEFAULT_LAM = [10, 3, 1, 0.3, 0.1, 0.03, 0.01, 0.001]  # theory.md §6, the paper's theory figures
DEFAULT_TAU = [0, 0.01, 0.1, 1, 10, 100, 1000]


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


def warn_on_Q(arch, Q) -> None:
    note = arch.note_on_Q(Q)
    if note:
        print(f"note: {note}")


def cmd_theory(args) -> int:
    arch = registry.get(args.arch)
    params = T.parse_params(args.param)
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
    warn_on_Q(arch, args.Q)
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


def add_parsers(sub) -> None:
    p = sub.add_parser("theory", help="closed-form generated variance for an architecture")
    add_common(p)
    p.add_argument("--tau", type=T.nonneg, nargs="+", default=DEFAULT_TAU, help="training times τ")
    p.add_argument("--criterion", default="geometric", choices=ALL_CRITERIA)
    p.set_defaults(func=cmd_theory)
