"""`specbias emergence ARCH`: emergence times τ* and the fitted exponent."""
from __future__ import annotations

import numpy as np

from theory import registry
from theory.emergence import ALL_CRITERIA, emergence_time
from theory.fit import fit_exponent
from theory.output import dumps
from verify.cli import argtypes as T
from verify.cli.theory import add_common, warn_on_Q


def cmd_emergence(args) -> int:
    arch = registry.get(args.arch)
    params = T.parse_params(args.param)
    lam = np.asarray(args.lam, float)
    kw = dict(Q=args.Q, eta=args.eta, sigma0=args.sigma0, sigmaT=args.sigmaT, **params)
    ts = emergence_time(arch, lam, criterion=args.criterion, **kw)
    v0 = float(arch.initial_variance(args.Q, args.sigma0, args.sigmaT))
    fits = fit_exponent(lam, ts, v0)
    if args.json:
        print(dumps({"arch": arch.name, "criterion": args.criterion, "v0": v0, "lam": lam, "tau_star": ts,
                     "fit": {k: f.as_dict() for k, f in fits.items()}}))
        return 0
    warn_on_Q(arch, args.Q)
    print(f"{arch.name}: emergence times, {args.criterion} criterion, v0 = {v0:.4g} (exact), Q={args.Q:g}")
    print(f"{'λ':>10}{'direction':>12}{'τ*':>14}")
    for l, t in zip(lam, ts):
        print(f"{l:10.4g}{'increasing' if v0 < l else 'decreasing':>12}{t:14.5g}")
    for name, f in fits.items():
        if np.isfinite(f.alpha):
            print(f"fit τ* = a λ^-α ({name}, gray zone excluded): α = {f.alpha:.4f} "
                  f"[95% CI {f.ci[0]:.4f}, {f.ci[1]:.4f}], R² = {f.r2:.5f}, N = {f.n}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("emergence", help="emergence times τ* and the fitted exponent")
    add_common(p)
    p.add_argument("--criterion", default="geometric", choices=ALL_CRITERIA)
    p.set_defaults(func=cmd_emergence)
