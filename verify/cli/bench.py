"""`specbias bench theory|numerics|nonlinear`: speed figures (not timed tests; targets are printed beside
them). `bench nonlinear` times the first paper's Gaussian MLP experiment (numerics.nets.bench) and
adds its result: the per-mode τ* table and the exponents with their CIs (verify.nets.analysis)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import theory
from numerics import budget
from theory import output
from theory.errors import SpecbiasError
from theory.fit import in_gray_zone
from theory.output import dumps
from theory.sampling import DENOISER
from verify.cli import argtypes as T
from verify.properties.architectures import quad_log_variance


def _timed(fn, repeat: int = 3):
    """Best wall time of `repeat` calls, and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


#: ln λ̃ evaluations per mode in theory.emergence_time at its defaults: the 400-point scan and 56 bisections
EMERGENCE_EVALS = 400 + 56
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
               "emergence_s": t_em,
               # seconds per 10⁶ (mode, time) evaluations: the grid, and the emergence search's scan
               # plus bisections (EMERGENCE_EVALS per mode); for a coupled architecture the eigen-mix
               "grid_s_per_mega": t_grid / (modes * n_times) * 1e6,
               "emergence_s_per_mega": t_em / (modes * EMERGENCE_EVALS) * 1e6}
        if arch.log_H() is not None and arch.sampling is DENOISER and not arch.coupled:
            nq = min(n_quad, n_modes, n_times)  # a reduced bench (tests) times fewer quadratures
            sub = [(lam[i], tau[j]) for i, j in zip(np.linspace(0, n_modes - 1, nq, dtype=int),
                                                    np.linspace(0, n_times - 1, nq, dtype=int))]
            t_q, _ = _timed(lambda: [quad_log_variance(arch, np.array([l]), 0, t, Q) for l, t in sub], 1)
            per_quad = t_q / nq
            row["quad_s_per_value"] = per_quad
            row["closed_form_speedup"] = per_quad / (t_grid / (n_modes * n_times))
        rows.append(row)
    return rows


GRID_COPIES = 8  # float64 arrays of modes × times alive at once in a closed form (a lower bound)
DEFAULTS = {"modes": 1000, "times": 1000, "device": "auto", "steps": None, "checkpoints": None, "samples": None,
            "d": None, "threads": None, "out": None, "peak_size": None, "until_emerged": False,
            "autocast": None}
OWN = {"theory": ("modes", "times"), "numerics": ("device",),
       "nonlinear": ("device", "steps", "checkpoints", "samples", "d", "threads", "out", "peak_size",
                     "until_emerged", "autocast")}
#: the fewest modes every architecture takes: a coupled one's mirrored spectrum of 2·3 − 1 = 5 modes
#: holds patch_conv's default kernel (K = 5); --modes 1 failed inside patch_conv, not naming --modes
MIN_MODES = 3


def _options(args) -> dict:
    """The options that apply to `what`; one given for the other benchmark is refused, not ignored."""
    own = OWN[args.what]
    for name in DEFAULTS:
        if getattr(args, name) is not None and name not in own:
            raise SpecbiasError(f"--{name.replace('_', '-')} does not apply to bench {args.what}")
    out = {k: DEFAULTS[k] if getattr(args, k) is None else getattr(args, k) for k in own}
    if args.what == "nonlinear" and out["out"] is not None:
        output.check_file(out["out"], "--out")
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
        print("targets: closed-form grid < 0.1 s; closed form >= 1000x faster than quad; emergence < 1 s "
              f"(a coupled architecture: one spectrum mirrored from at most {COUPLED_MODES} variances)")
        for r in rows:
            line = (f"{r['arch']:>14}: generated variance {r['generated_variance_s']:8.3f} s "
                    f"({r['grid_s_per_mega']:.3f} s per 1e6 mode-times), emergence ({r['modes']} modes) "
                    f"{r['emergence_s']:7.3f} s ({r['emergence_s_per_mega']:.3f} s per 1e6 mode-times)")
            if "closed_form_speedup" in r:
                line += (f", scipy quad {r['quad_s_per_value'] * 1e3:.2f} ms/value "
                         f"-> closed form {r['closed_form_speedup']:,.0f}x faster")
            print(line)
        return 0
    if args.what == "nonlinear":
        return cmd_bench_nonlinear(opts, args.json)
    from numerics.bench import run as bench_numerics

    args.device = opts["device"]
    return bench_numerics(args)


def nonlinear_result(run, criterion: str = "geometric") -> dict:
    """Per-mode τ* table and exponents (α, combined / regression / Monte-Carlo CIs and their widths) of a
    network run, through verify.nets.analysis.emergence (the criterion the authors used: geometric)."""
    from verify.nets import analysis as NL

    em = NL.emergence(run, criteria=(criterion,))[criterion]
    lam, v0 = np.asarray(run.arrays["lam_eigen"], float), np.asarray(em["v0"], float)
    ratio = v0 / lam
    table = {"lam": lam, "v0": v0, "tau_star": np.asarray(em["tau_star"], float),
             "direction": np.where(ratio < 1, "increasing", "decreasing"),
             "gray_zone": in_gray_zone(v0, lam)}
    fits = {}
    for name, f in em["fits"].items():
        d = f.as_dict()
        d.update(ci_width=d["ci"][1] - d["ci"][0], ci_fit_width=d["ci_fit"][1] - d["ci_fit"][0])
        fits[name] = d
    from verify.nets.conventions import ladder_run

    ladder = ladder_run(run, criterion)
    return {"criterion": criterion, "table": table, "fits": fits, "ladder": ladder.to_dict("records")}


def cmd_bench_nonlinear(opts: dict, as_json: bool) -> int:
    from numerics.nets.bench import PEAK_N, bench
    from verify.nets import analysis as NL

    kw = {k: opts[k] for k in ("steps", "checkpoints", "samples", "d") if opts[k] is not None}
    stop = (lambda r: NL.all_emerged(r, ("geometric",))) if opts["until_emerged"] else None
    row, run = bench(device=opts["device"], threads=opts["threads"], peak_n=opts["peak_size"] or PEAK_N,
                     stop=stop, autocast=opts["autocast"], **kw)
    t0 = time.perf_counter()
    row["result"] = nonlinear_result(run)
    row["measure_s"] = time.perf_counter() - t0
    row["total_s"] = row["wall_s"] + row["measure_s"]
    if opts["out"] is not None:
        Path(opts["out"]).write_text(dumps(row, indent=1))
    if as_json:
        print(dumps(row))
        return 0
    w = row["workload"]
    print(f"nonlinear benchmark: MLP width {w['width']} x {w['depth']} blocks, EDM, d = {w['d']}, {w['steps']} steps, "
          f"{row['checkpoints']} checkpoints x {w['samples']} samples x {w['heun_steps']} Heun steps, "
          f"{row['device']}, {row['threads']} thread(s), load {row['load_before'][0]:.2f} -> "
          f"{row['load_after'][0]:.2f}" + (f", {row['autocast']} autocast in training" if row["autocast"] else ""))
    if row["stopped"]:
        print(f"  stopped after {row['steps_trained']} of {w['steps']} steps: {row['stopped']} (τ* table and "
              "exponents as the full run's; the converged variances are not measured)")
    print(f"  total {row['total_s']:8.1f} s = training {row['train_s']:.1f} s ({row['train_ms_per_step']:.1f} ms/step) "
          f"+ sampling {row['sampling_s']:.1f} s ({row['sampling_ms_per_eval']:.1f} ms/eval) "
          f"+ fits {row['measure_s']:.1f} s")
    print(f"  fp32 matmul peak {row['peak_gflops']:.1f} GFLOP/s; training {row['train_gflops']:.1f} GFLOP/s "
          f"({100 * row['train_peak_fraction']:.0f}%), sampling {row['sampling_gflops']:.1f} GFLOP/s "
          f"({100 * row['sampling_peak_fraction']:.0f}%) [matrix products only]")
    for name, f in row["result"]["fits"].items():
        print(f"  {name:>10} modes ({row['result']['criterion']}): alpha = {f['alpha']:.3f}, "
              f"95% CI [{f['ci'][0]:.3f}, {f['ci'][1]:.3f}] (width {f['ci_width']:.3f}; regression only "
              f"{f['ci_fit_width']:.3f}), N = {f['n']}, R2 = {f['r2']:.2f}")
    print("  convention ladder (verify.nets.conventions; alpha [95% CI], N, shift from the authors'):")
    for r in row["result"]["ladder"]:
        print(f"    {r['conventions']:<36} {r['direction']:>10}: {r['alpha']:.3f} [{r['ci_lo']:.3f}, "
              f"{r['ci_hi']:.3f}], N = {r['n']}, {r['shift']:+.3f}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("bench", help="speed benchmarks (theory, numerics, or the nonlinear MLP experiment)")
    p.add_argument("what", choices=list(OWN))
    p.add_argument("--modes", type=T.count(lo=MIN_MODES, hi=10**8), default=None,
                   help=f"theory only (default 1000; at least {MIN_MODES})")
    p.add_argument("--times", type=T.count(hi=10**8), default=None, help="theory only (default 1000)")
    p.add_argument("--device", type=T.device, default=None, help="numerics/nonlinear: auto, cpu, cuda or cuda:N")
    for name, hi, what in (("steps", 10**7, "optimiser steps (5000)"), ("checkpoints", 10**4, "checkpoints (67)"),
                           ("samples", 10**7, "samples per checkpoint (4000)"), ("d", 10**5, "data dimension (128)"),
                           ("threads", 4096, "CPU threads (all cores)"),
                           ("peak-size", 16384, "n of the n x n peak matmul (4096)")):
        p.add_argument(f"--{name}", type=T.count(lo=2 if name == "checkpoints" else 1, hi=hi), default=None,
                       help=f"nonlinear only: {what}")
    p.add_argument("--out", default=None, help="nonlinear only: write the JSON here")
    p.add_argument("--until-emerged", action="store_const", const=True, default=None,
                   help="nonlinear only: stop training at the first checkpoint where every mode has emerged "
                        "(geometric criterion, point estimate and every bootstrap replicate); the τ* table and "
                        "exponents are then those of the full run")
    p.add_argument("--autocast", choices=("bf16", "fp16"), default=None,
                   help="nonlinear only: mixed-precision training (bf16 on the CPU; fp16 needs a GPU); the "
                        "measurement stays float32")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
