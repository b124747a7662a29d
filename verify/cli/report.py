"""`specbias report`: write the agreement report (the main job), or a report of its own (REPORTS)."""
from __future__ import annotations

import theory
from theory.errors import SpecbiasError
from verify.cli import argtypes as T


def _spiked(name, **kw):
    from verify.spiked.report import build

    return build(name, **kw)


def _nonlinear(name, **kw):
    from verify.nets.report import build

    return build(name, **kw)


def _nonlinear_paper(name, **kw):
    from verify.nets.report import build_paper

    return build_paper(name, **kw)


def _nonlinear_knobs(name, **kw):
    from verify.nets.report import build_knobs

    return build_knobs(name, **kw)


#: presets that write a report of their own: name → builder, called (name, seed=, out=, progress=)
REPORTS = {
    "spiked": _spiked,  # Weitzner et al.: finite sets, spiked covariance, chains
    "nonlinear": _nonlinear,  # Wang & Pehlevan: MLP and conv U-Net trained like the paper
    "nonlinear-paper": _nonlinear_paper,  # the MLP on the paper's protocol over 3 seeds (heavy)
    "nonlinear-knobs": _nonlinear_knobs,  # which protocol knob makes the reduced MLP settle low (heavy)
}


def cmd_report(args) -> int:
    from verify.report.build import build
    from verify.report.data import PRESETS

    preset = args.preset or ("quick" if args.quick else "full" if args.full else "default")
    if preset not in PRESETS and preset not in REPORTS:
        raise SpecbiasError(f"preset must be one of {', '.join(list(PRESETS) + list(REPORTS))} (got {preset!r})")
    if args.module and preset in REPORTS:
        raise SpecbiasError(f"--module does not apply to the {preset!r} report, which chooses its own models "
                            "(valid with the presets default, quick, full)")
    if args.arch and preset in REPORTS:  # a report of its own trains its own models
        raise SpecbiasError(f"archs (--arch) does not apply to the {preset!r} report, which chooses its own "
                            "models (valid with the presets default, quick, full)")
    for path in args.module or []:
        theory.load_module(path)
    name = args.name or preset
    if preset in REPORTS:
        path = REPORTS[preset](name, seed=args.seed, out=args.out, progress=not args.no_progress)
    else:
        path = build(name, preset, args.seed, args.out, args.arch or None, progress=not args.no_progress)
    print(f"report written to {path}/report.md (and report.html, figures, report.json, data.npz)")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("report", help="write the agreement report (the main job)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes, for a first look")
    size.add_argument("--full", action="store_true", help="train at d = 64 and check samples mode")
    size.add_argument("--preset", metavar="NAME", help="a named preset: default, quick, full, or a report of its "
                      "own (spiked: the second paper's; nonlinear: networks trained like the first paper's)")
    p.add_argument("--arch", nargs="+", help="architectures (default: all registered)")
    p.add_argument("--module", action="append", metavar="PATH", help="load an architecture module first")
    p.add_argument("--name", type=T.name, help="report folder name under --out (default: the preset's name); "
                   "an existing folder is replaced only if specbias wrote it")
    p.add_argument("--out", type=T.out_dir, default="reports", help="folder that holds the reports")
    p.add_argument("--seed", type=T.seed, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_report)
