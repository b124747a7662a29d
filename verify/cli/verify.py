"""`specbias verify`: run the property suite (theory and numerics agree)."""
from __future__ import annotations

import sys

import theory
from theory.output import dumps
from verify.properties import profiles


def cmd_verify(args) -> int:
    from verify.properties.engine import run_suite

    profiles.register()
    for path in args.module or []:
        theory.load_module(path)
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


def add_parsers(sub) -> None:
    p = sub.add_parser("verify", help="run the property suite: theory and numerics agree")
    p.add_argument("arch", nargs="*", help="architectures (default: all registered)")
    p.add_argument("--profile", default="ci", choices=profiles.PROFILES)
    p.add_argument("--only", nargs="+", metavar="PROPERTY", help="run only these properties")
    p.add_argument("--module", action="append", metavar="PATH", help="load an architecture module first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)
