"""`specbias sweep SPEC | --example`: run a sweep on Dask and write its table and summary."""
from __future__ import annotations

import os
import sys

from theory.errors import SpecbiasError
from verify.cli import argtypes as T

#: local worker processes beyond this many per CPU core only contend (100000 would fork-bomb the machine)
WORKERS_PER_CORE = 4


def _spec(args):
    from verify.sweep.example import EXAMPLE, example
    from verify.sweep.spec import load, parse

    if args.print_example:
        print(EXAMPLE, end="")
        return None
    if args.example == bool(args.spec):
        raise SpecbiasError("give a SPEC file or --example (one of them)")
    return parse(example(), "example") if args.example else load(args.spec)


def cmd_sweep(args) -> int:
    spec = _spec(args)
    if spec is None:
        return 0
    if args.dry_run:
        for p in spec.runs:
            print(f"{p.key}  {spec.label(p.config)}  seed={p.config.get('seed')}")
        print(f"{len(spec.runs)} runs in {len({p.config_id for p in spec.runs})} configurations")
        return 0
    from verify.sweep.runner import run_sweep

    res = run_sweep(spec, args.out, scheduler=args.scheduler, workers=args.workers, serial=args.serial,
                    progress=not args.no_progress)
    print(f"{len(res.records)} runs: {len(res.records) - len(res.failed)} ok, {len(res.failed)} failed "
          f"({res.executed} executed now, {res.skipped} already stored)")
    for g in res.groups:
        if g.direction == "increasing":
            print(f"  {g.label or 'all runs'} [{g.criterion}]: α = {g.mean:.3f} ± {g.seed_half:.3f} (seeds), "
                  f"± {g.within_half:.3f} (within-run); {g.verdict}")
    for r in res.failed:
        print(f"FAILED {r['key']} ({spec.label(r['config'])}, seed {r['config'].get('seed')}): {r['error']}",
              file=sys.stderr)
    print(f"written to {res.root}/ (results.parquet, modes.parquet, metadata.json, summary.md, summary.html)")
    return 1 if res.failed else 0


def add_parsers(sub) -> None:
    p = sub.add_parser("sweep", help="run seeds × configurations on Dask; exponents with seed-to-seed CIs")
    p.add_argument("spec", nargs="?", help="sweep specification (.toml, or .yaml/.yml)")
    p.add_argument("--example", action="store_true", help="run the built-in example sweep")
    p.add_argument("--print-example", action="store_true", help="print the example's spec (TOML) and exit")
    p.add_argument("--out", type=T.out_dir, default=None, help="results folder (default: sweeps/<name>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="an existing Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    where.add_argument("--workers", type=T.count(hi=WORKERS_PER_CORE * (os.cpu_count() or 1)), default=None,
                       help="worker processes of the local cluster (default: one per CPU core)")
    where.add_argument("--serial", action="store_true", help="run in this process, no Dask (debugging)")
    p.add_argument("--dry-run", action="store_true", help="check the spec and list its runs; run nothing")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_sweep)
