"""The registry of architectures. Tests, reports and the CLI iterate over it.

Built-in architectures live in theory/archs/ and register on import. A researcher's own module
registers by calling `theory.register(MyArch())`, by an entry point in the group
`specbias.architectures`, or is loaded from a path with `load_module`.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from .errors import SpecbiasError

_REGISTRY: dict = {}
_JUST_REGISTERED: list = []
_LOADED = False


def register(arch, replace: bool = False):
    """Add an architecture instance under its `name`; returns it so modules can `ARCH = register(...)`."""
    if not arch.name:
        raise SpecbiasError("an architecture needs a non-empty `name`")
    old = _REGISTRY.get(arch.name)
    same_source = old is not None and (type(old).__module__, type(old).__qualname__) == (
        type(arch).__module__, type(arch).__qualname__)  # the same module loaded again
    if old is not None and not (replace or same_source):
        raise SpecbiasError(f"an architecture named {arch.name!r} is already registered")
    _REGISTRY[arch.name] = arch
    _JUST_REGISTERED.append(arch.name)
    return arch


def unregister(name: str) -> None:
    """Remove an architecture (used by tests that register temporary ones)."""
    _REGISTRY.pop(name, None)


def _load_builtins() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    importlib.import_module("theory.archs")
    for ep in entry_points(group="specbias.architectures"):
        ep.load()


def available() -> list[str]:
    """Names of every registered architecture, built-in first in registration order."""
    _load_builtins()
    return list(_REGISTRY)


def get(name_or_arch):
    """The architecture registered under `name` (an Architecture, or an object that names itself like
    one, passes through; anything else is a SpecbiasError, not an AttributeError deep in the caller)."""
    if not isinstance(name_or_arch, str):
        if isinstance(getattr(name_or_arch, "name", None), str) and not isinstance(name_or_arch, type):
            return name_or_arch
        text = " ".join(repr(name_or_arch).split())[:40]
        raise SpecbiasError(f"an architecture is a registered name or a theory.Architecture, got "
                            f"{type(name_or_arch).__name__} {text}")
    _load_builtins()
    try:
        return _REGISTRY[name_or_arch]
    except KeyError:
        raise SpecbiasError(f"unknown architecture {name_or_arch!r}; valid: "
                            + ", ".join(_REGISTRY)) from None


def load_module(path: str):
    """Import a researcher's architecture module from a file path (it registers itself)."""
    file = Path(path)
    if not file.is_file():
        raise SpecbiasError(f"no such architecture module: {path}")
    _load_builtins()
    name = f"specbias_user_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise SpecbiasError(f"{path} is not a Python module (an architecture module is a .py file)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    _JUST_REGISTERED.clear()
    try:
        spec.loader.exec_module(module)
    except SpecbiasError:
        raise
    except Exception as exc:
        raise SpecbiasError(f"could not import {path}: {type(exc).__name__}: {exc}") from None
    added = list(dict.fromkeys(_JUST_REGISTERED))
    if not added:
        raise SpecbiasError(f"{path} registered no architecture (call theory.register(...))")
    return [_REGISTRY[n] for n in added]
