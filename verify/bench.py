"""`specbias bench theory|numerics`: speed figures (not timed tests; targets are printed beside them)."""
from __future__ import annotations

import time

import numpy as np

import theory
from numerics import budget
from theory import argtypes as T
from theory.errors import SpecbiasError
from theory.output import dumps
from theory.sampling import DENOISER

from .properties import quad_log_variance


def _timed(fn, repeat: int = 3):
    """Best wall time of `repeat` calls, and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


COUPLED_MODES = 32  # a coupled architecture gets one mirrored spectrum of 2·32 − 1 = 63 modes


def bench_theory(n_modes: int = 1000, n_times: int = 1000, n_quad: int = 40) -> list[dict]:
    lam = np.geomspace(1e-3, 1e2, n_modes)
    tau = np.geomspace(1e-4, 1e3, n_times)
    rows = []
    for name in theory.available():
        arch = theory.get(name)
        Q = 0.1
        if arch.coupled:  # one whole spectrum (last axis) at every time; at most COUPLED_MODES modes
            spec = arch.as_spectrum(np.geomspace(1e-3, 1e2, min(n_modes, COUPLED_MODES)))
            grid, modes, em_lam = (spec[None, :], tau[:, None]), spec.size, spec
        else:
            grid, modes, em_lam = (lam[:, None], tau[None, :]), n_modes, lam
        t_grid, _ = _timed(lambda: arch.generated_variance(*grid, Q=Q))
        t_em, _ = _timed(lambda: theory.emergence_time(arch, em_lam, Q=Q))
        row = {"arch": name, "generated_variance_s": t_grid, "modes": modes, "times": n_times,
               "emergence_s": t_em}
        if arch.log_H() is not None and arch.sampling is DENOISER and not arch.coupled:
            sub = [(lam[i], tau[j]) for i, j in zip(np.linspace(0, n_modes - 1, n_quad, dtype=int),
                                                    np.linspace(0, n_times - 1, n_quad, dtype=int))]
            t_q, _ = _timed(lambda: [quad_log_variance(arch, np.array([l]), 0, t, Q) for l, t in sub], 1)
            per_quad = t_q / n_quad
            row["quad_s_per_value"] = per_quad
            row["closed_form_speedup"] = per_quad / (t_grid / (n_modes * n_times))
        rows.append(row)
    return rows


GRID_COPIES = 8  # float64 arrays of modes × times alive at once in a closed form (a lower bound)
DEFAULTS = {"modes": 1000, "times": 1000, "device": "auto"}


def _options(args) -> dict:
    """The options that apply to `what`; one given for the other benchmark is refused, not ignored."""
    own = {"theory": ("modes", "times"), "numerics": ("device",)}[args.what]
    for name in DEFAULTS:
        if getattr(args, name) is not None and name not in own:
            raise SpecbiasError(f"--{name} does not apply to bench {args.what}")
    out = {k: DEFAULTS[k] if getattr(args, k) is None else getattr(args, k) for k in own}
    if args.what == "theory":
        budget.check_memory(f"bench theory on {out['modes']:,} modes x {out['times']:,} times",
                            GRID_COPIES * 8.0 * out["modes"] * out["times"], hint="use fewer --modes/--times")
    return out


def cmd_bench(args) -> int:
    opts = _options(args)
    if args.what == "theory":
        args.modes, args.times = opts["modes"], opts["times"]
        rows = bench_theory(args.modes, args.times)
        if args.json:
            print(dumps(rows))
            return 0
        print(f"theory benchmark: {args.modes} modes x {args.times} times, float64, one process")
        print("targets: closed-form grid < 0.1 s; closed form >= 1000x faster than quad; emergence < 1 s")
        for r in rows:
            line = (f"{r['arch']:>14}: generated variance {r['generated_variance_s']:8.3f} s, "
                    f"emergence ({r['modes']} modes) {r['emergence_s']:7.3f} s")
            if "closed_form_speedup" in r:
                line += (f", scipy quad {r['quad_s_per_value'] * 1e3:.2f} ms/value "
                         f"-> closed form {r['closed_form_speedup']:,.0f}x faster")
            print(line)
        return 0
    from numerics.bench import run as bench_numerics

    args.device = opts["device"]
    return bench_numerics(args)


def add_parsers(sub) -> None:
    p = sub.add_parser("bench", help="speed benchmarks (theory or numerics)")
    p.add_argument("what", choices=["theory", "numerics"])
    p.add_argument("--modes", type=T.count(hi=10**8), default=None, help="theory only (default 1000)")
    p.add_argument("--times", type=T.count(hi=10**8), default=None, help="theory only (default 1000)")
    p.add_argument("--device", type=T.device, default=None, help="numerics only: auto, cpu, cuda or cuda:N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
