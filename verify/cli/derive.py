"""`specbias derive ARCH`: derive the ODE from the loss and check every closed form."""
from __future__ import annotations

from theory import registry
from theory.errors import SpecbiasError
from verify.cli import argtypes as T
from verify.cli.modules import add_module_option, load_modules


def solved_archs(path: str) -> list:
    """`--solve`: the solved architectures a module registers (`ARCH = theory.solve.solved(SPEC)`), each
    printed as LaTeX and Python."""
    from theory.solve.arch import SolvedArchitecture
    from theory.solve.latex import print_solved

    if not path.endswith(".py"):
        raise SpecbiasError(f"--solve takes a module path (FILE.py) declaring a theory.solve.Spec (got {path!r})")
    archs = [a for a in registry.load_module(path) if isinstance(a, SolvedArchitecture)]
    if not archs:
        raise SpecbiasError(f"{path} registers no solved architecture: declare a theory.solve.Spec and end with "
                            "`ARCH = theory.solve.solved(SPEC)` (docs/extending.md)")
    for arch in archs:
        print_solved(arch)
    return archs


def cmd_derive(args) -> int:
    from theory.report_derivation import print_derivation

    loaded = load_modules(args.module)
    user = args.arch.endswith(".py") or any(a.name == args.arch for a in loaded)
    archs = solved_archs(args.arch) if args.solve else registry.load_module(args.arch) \
        if args.arch.endswith(".py") else [registry.get(args.arch)]
    ok = True
    for arch in archs:
        try:
            ok &= print_derivation(arch, T.parse_params(args.param))
        except SpecbiasError:
            raise
        except Exception as exc:
            if not user:
                raise
            raise SpecbiasError(f"{arch.name} (from {args.arch}): deriving raised {type(exc).__name__}: "
                                f"{exc}") from None
    return 0 if ok else 1


def add_parsers(sub) -> None:
    p = sub.add_parser("derive", help="derive the ODE from the loss and check every closed form")
    p.add_argument("arch", help="architecture name, or a path to a module that registers one")
    add_module_option(p)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="architecture parameter")
    p.add_argument("--solve", action="store_true", help="solve a module's theory.solve.Spec (θ, ψ, L, initial "
                   "value) and print the closed forms as LaTeX and Python before the checks")
    p.set_defaults(func=cmd_derive)
