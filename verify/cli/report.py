"""`specbias report`: write the agreement report (the main job), or a report of its own (REPORTS)."""
from __future__ import annotations

import sys

from theory.errors import SpecbiasError
from verify.cli import argtypes as T
from verify.cli.modules import add_module_option, load_modules


def _spiked(name, **kw):
    from verify.spiked.report import build

    return build(name, **kw)


def _nonlinear(name, **kw):
    from verify.nets.report import build

    return build(name, **kw)


def _nonlinear_paper(name, **kw):
    from verify.nets.report import build_paper

    return build_paper(name, **kw)


def _nonlinear_quick(name, **kw):
    from verify.nets.report import build_quick

    return build_quick(name, **kw)


def _nonlinear_knobs(name, **kw):
    from verify.nets.report import build_knobs

    return build_knobs(name, **kw)


#: presets that write a report of their own: name → builder, called (name, seed=, out=, progress=)
REPORTS = {
    "spiked": _spiked,  # Weitzner et al.: finite sets, spiked covariance, chains
    "nonlinear": _nonlinear,  # Wang & Pehlevan: the MLP on the paper's protocol over 3 seeds, and a conv U-Net
    "nonlinear-paper": _nonlinear_paper,  # the same MLP without the preset's shortcuts (float32, 2000 samples)
    "nonlinear-quick": _nonlinear_quick,  # a REDUCED MLP and the U-Net, one seed each (a quick look)
    "nonlinear-knobs": _nonlinear_knobs,  # which protocol knob makes the reduced MLP settle low (heavy)
}


def cmd_report(args) -> int:
    from verify.report.build import build
    from verify.report.derivations import DerivationFailed
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
    if args.allow_failed_derivation and preset in REPORTS:
        raise SpecbiasError(f"--allow-failed-derivation does not apply to the {preset!r} report, which derives "
                            "nothing (valid with the presets default, quick, full)")
    load_modules(args.module)
    name = args.name or preset
    if preset in REPORTS:
        path = REPORTS[preset](name, seed=args.seed, out=args.out, progress=not args.no_progress)
    else:
        try:
            path = build(name, preset, args.seed, args.out, args.arch or None, progress=not args.no_progress,
                         allow_failed_derivation=args.allow_failed_derivation)
        except DerivationFailed as exc:  # a failed check, like `specbias derive`: exit 1, one line
            print(f"specbias: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1
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
    add_module_option(p)
    p.add_argument("--name", type=T.name, help="report folder name under --out (default: the preset's name); "
                   "an existing folder is replaced only if specbias wrote it")
    p.add_argument("--out", type=T.out_dir, default="reports", help="folder that holds the reports")
    p.add_argument("--seed", type=T.seed, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--allow-failed-derivation", action="store_true", help="write the report even when an "
                   "architecture's derivation fails, with the failure at the top (default: exit 1, no report)")
    p.set_defaults(func=cmd_report)
