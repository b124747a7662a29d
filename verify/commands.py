"""CLI subcommands of the verify layer: `verify` and `report`."""
from __future__ import annotations

import sys

import theory
from theory import argtypes as T
from theory.cli import add_module_option, load_modules
from theory.errors import SpecbiasError
from theory.output import dumps

from . import profiles


def cmd_verify(args) -> int:
    from .properties import run_suite

    profiles.register()
    load_modules(args.module)
    archs = [theory.get(a).name for a in args.arch] or None
    live = (lambda o: print(f"  {o.status}  {o.arch:>14}  {o.prop}" + (f"  ({o.message})" if o.skipped else ""),
                            flush=True)) if not args.json else None
    if live:
        print(f"specbias verify: profile {args.profile}")
    results = run_suite(archs, profile=args.profile, only=args.only, progress=live)
    failed = [o for o in results if not o.ok]
    if args.json:
        print(dumps({"profile": args.profile, "results": [o.as_dict() for o in results]}))
    else:
        skipped = sum(o.skipped for o in results)
        print(f"{len(results) - len(failed) - skipped} passed, {len(failed)} failed, {skipped} skipped")
        for o in failed:
            print(f"\nFAILED {o.arch} / {o.prop}: {o.message}", file=sys.stderr)
            if o.example:
                print("minimal falsifying example (paste into a test):\n" + o.example, file=sys.stderr)
    return 1 if failed else 0


def cmd_report(args) -> int:
    from .report import SECTIONS, build
    from .report_derivations import DerivationFailed

    preset = args.preset or ("quick" if args.quick else "full" if args.full else "default")
    if args.module and preset in SECTIONS:
        raise SpecbiasError(f"--module does not apply to the {preset!r} report, which chooses its own models "
                            "(valid with the presets default, quick, full)")
    load_modules(args.module)
    if args.allow_failed_derivation and preset in SECTIONS:
        raise SpecbiasError(f"--allow-failed-derivation does not apply to the {preset!r} report, which derives "
                            "nothing (valid with the presets default, quick, full)")
    try:
        path = build(args.name or preset, preset, args.seed, args.out, args.arch or None,
                     progress=not args.no_progress, allow_failed_derivation=args.allow_failed_derivation)
    except DerivationFailed as exc:  # a failed check, like `specbias derive`: exit 1, one line
        print(f"specbias: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(f"report written to {path}/report.md (and report.html, figures, report.json, data.npz)")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("verify", help="run the property suite: theory and numerics agree")
    p.add_argument("arch", nargs="*", help="architectures (default: all registered)")
    p.add_argument("--profile", default="ci", choices=profiles.PROFILES)
    p.add_argument("--only", nargs="+", metavar="PROPERTY", help="run only these properties")
    add_module_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("report", help="write the agreement report (the main job)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes, for a first look")
    size.add_argument("--full", action="store_true", help="train at d = 64 and check samples mode")
    size.add_argument("--preset", metavar="NAME", help="a named preset: default, quick, full, or a report of its "
                      "own (spiked: the second paper's; nonlinear: networks trained like the first paper's)")
    p.add_argument("--arch", nargs="+", help="architectures (default: all registered)")
    add_module_option(p)
    p.add_argument("--name", type=T.name, help="report folder name under --out (default: the preset's name); "
                   "an existing folder is replaced only if specbias wrote it")
    p.add_argument("--out", type=T.out_dir, default="reports", help="folder that holds the reports")
    p.add_argument("--seed", type=T.seed, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--allow-failed-derivation", action="store_true", help="write the report even when an "
                   "architecture's derivation fails, with the failure at the top (default: exit 1, no report)")
    p.set_defaults(func=cmd_report)
