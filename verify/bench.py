"""`specbias bench theory|numerics`: speed figures (not timed tests; targets are printed beside them)."""
from __future__ import annotations

import json
import time

import numpy as np

import theory
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


def cmd_bench(args) -> int:
    if args.what == "theory":
        rows = bench_theory(args.modes, args.times)
        if args.json:
            print(json.dumps(rows))
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

    return bench_numerics(args)


def add_parsers(sub) -> None:
    p = sub.add_parser("bench", help="speed benchmarks (theory or numerics)")
    p.add_argument("what", choices=["theory", "numerics"])
    p.add_argument("--modes", type=int, default=1000)
    p.add_argument("--times", type=int, default=1000)
    p.add_argument("--device", default="auto", help="numerics only: auto, cpu or cuda")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
