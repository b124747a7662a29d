"""Run kinds: what ONE run of a sweep is.

A kind declares its configuration keys (each with a default and a checker), checks a whole
configuration before anything runs (`normalise`), and executes one run (`run`) by calling the
project's own training and measurement code — a sweep never reimplements training. The built-in kind
`train` (verify.sweep.train_kind) trains a registered architecture; other layers add theirs with one
call, `register_kind(MyKind())`, and a spec selects it with `kind = "..."`.

`run(config)` returns a `Result`:
- `exponents`: one dict per (criterion, direction) with `alpha`, `ci_lo`, `ci_hi` (the run's own
  95% regression CI), `r2`, `n` (modes fitted) and optionally `theory_alpha`;
- `scalars`: flat JSON-able figures (agreement errors, tolerances, pass/fail, ...);
- `modes`: the run's emergence table, one dict per (mode, criterion);
- `device`: where it ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from theory import validate as V
from theory.errors import SpecbiasError


@dataclass(frozen=True)
class Key:
    """A configuration key: its default and a checker (name, value) → normalised value, which raises
    SpecbiasError saying the valid range (prefixed with `name = value` unless it names the key)."""

    default: object
    check: Callable
    help: str = ""


@dataclass
class Result:
    exponents: list = field(default_factory=list)
    scalars: dict = field(default_factory=dict)
    modes: list = field(default_factory=list)
    device: str = "cpu"


class RunKind:
    """Base class of a run kind; see the module docstring."""

    name: str = ""
    #: bump when the kind's results change for the same configuration: every stored run of this kind
    #: is then stale and re-run (part of the run key)
    version: str = "1"
    keys: dict = {}

    def extra_keys(self, config: dict) -> dict:
        """Keys this configuration may carry beyond `keys` (e.g. the architecture's own parameters),
        name → Key; called after the declared keys are checked."""
        return {}

    def check(self, config: dict) -> None:
        """Cross-key checks on a normalised configuration (raise SpecbiasError naming the key)."""

    def run(self, config: dict) -> Result:
        raise NotImplementedError

    def declared(self, config: dict, criterion: str, direction: str) -> tuple:
        """(range, note): the (low, high) exponent the theory declares for this configuration, or
        None with the reason there is none; what a sweep's "does the law hold" verdict tests."""
        return None, "this run kind declares no law"

    def normalise(self, config: dict) -> dict:
        """The configuration with every default filled in and every value checked, keys sorted."""
        out = {}
        for name, key in self.keys.items():
            out[name] = checked(name, key, config.get(name, key.default))
        extra = self.extra_keys(out)
        unknown = set(config) - set(self.keys) - set(extra)
        if unknown:
            valid = ", ".join(sorted(set(self.keys) | set(extra)))
            raise SpecbiasError(f"unknown key {sorted(unknown)[0]!r} for run kind {self.name!r} "
                                f"(valid: {valid})")
        for name, key in extra.items():
            out[name] = checked(name, key, config.get(name, key.default))
        self.check(out)
        return dict(sorted(out.items()))


def checked(name: str, key: Key, value):
    try:
        return key.check(name, value)
    except SpecbiasError as exc:
        if str(exc).startswith(name + " "):
            raise
        raise SpecbiasError(f"{name} = {value!r}: {exc}") from None


_KINDS: dict = {}


def register_kind(kind: RunKind, replace: bool = False) -> RunKind:
    """Add a run kind under its `name` (one call per kind); returns it."""
    if not kind.name:
        raise SpecbiasError("a run kind needs a non-empty `name`")
    if kind.name in _KINDS and not replace and type(_KINDS[kind.name]) is not type(kind):
        raise SpecbiasError(f"a run kind named {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    _KINDS.pop(name, None)


def get_kind(name) -> RunKind:
    if isinstance(name, RunKind):
        return name
    from . import train_kind  # noqa: F401  (registers the built-in kind)

    try:
        return _KINDS[name]
    except KeyError:
        raise SpecbiasError(f"kind = {name!r}: unknown run kind (valid: {', '.join(_KINDS)})") from None


def available_kinds() -> list:
    from . import train_kind  # noqa: F401

    return list(_KINDS)


# ---- checkers shared by kinds: theory.validate's, named by the key ------------------------------------
def choice(*valid) -> Callable:
    return lambda name, v: V.choice(name, v, valid)


def integer(lo: int, hi: int | None = None) -> Callable:
    return lambda name, v: V.count(name, v, lo=lo, hi=hi)


def number(lo: float | None = None, hi: float | None = None, open_lo: bool = False) -> Callable:
    return lambda name, v: V.scalar(name, v, lo=lo, hi=hi, lo_open=open_lo)


def optional(check: Callable) -> Callable:
    return lambda name, v: None if v is None else check(name, v)
