"""`--module PATH`: the one way every command that takes an architecture loads a researcher's module
(theory, emergence, train, derive, verify, report; a sweep spec's `module` key uses theory.load_module too)."""
from __future__ import annotations

from theory import registry
from theory.errors import SpecbiasError


def add_module_option(p) -> None:
    p.add_argument("--module", action="append", metavar="PATH",
                   help="load an architecture module (a .py file that calls theory.register) first; repeatable")


def load_modules(paths) -> list:
    """Load each `--module` file (theory.load_module); returns the architectures they registered."""
    return [a for path in paths or [] for a in registry.load_module(path)]


def arch_from_args(args):
    """The architecture of a command: its `--module` files loaded first, then ARCH, a registered name or a
    module path (which must register exactly one architecture; name it otherwise)."""
    load_modules(getattr(args, "module", None))
    if str(args.arch).endswith(".py"):
        archs = registry.load_module(args.arch)
        if len(archs) != 1:
            names = ", ".join(a.name for a in archs)
            raise SpecbiasError(f"{args.arch} registers {len(archs)} architectures ({names}): give "
                                f"--module {args.arch} and one of the names as ARCH")
        return archs[0]
    return registry.get(args.arch)
