"""`specbias derive --solve FILE`: load a module, solve its Spec(s) and print them (verify.cli.derive calls this)."""
from __future__ import annotations

from .. import registry
from ..errors import SpecbiasError
from .arch import SolvedArchitecture
from .latex import print_solved


def solved_archs(path: str) -> list:
    """The solved architectures a module registers (`ARCH = theory.solve.solved(SPEC)`), each printed."""
    if not path.endswith(".py"):
        raise SpecbiasError(f"--solve takes a module path (FILE.py) declaring a theory.solve.Spec (got {path!r})")
    archs = [a for a in registry.load_module(path) if isinstance(a, SolvedArchitecture)]
    if not archs:
        raise SpecbiasError(f"{path} registers no solved architecture: declare a theory.solve.Spec and end with "
                            "`ARCH = theory.solve.solved(SPEC)` (docs/extending.md)")
    for arch in archs:
        print_solved(arch)
    return archs
