"""The engine of the property suite behind `specbias verify`: the registry, and the runner.

Each property is registered with `@prop(name, applies=...)` as a builder that, given an
architecture, returns a Hypothesis-decorated function; `run_suite` runs them under a profile and
captures the minimal falsifying example Hypothesis reports, ready to paste into a test. The
definitions live beside it (verify.properties: architectures, spiked, localconv).
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Callable, NamedTuple

from hypothesis import settings
from hypothesis.reporting import with_reporter

import theory
from verify.properties import profiles


class Property(NamedTuple):
    builder: Callable  # arch → a (Hypothesis-decorated) test function
    applies: Callable  # arch → bool
    max_examples: int | None  # cap for costly properties
    skip_reason: str  # why it cannot run where it does not apply (listed as skipped)


PROPERTIES: dict[str, Property] = {}


def prop(name: str, applies=lambda arch: True, max_examples: int | None = None,
         skip_reason: str = "does not apply to this architecture"):
    """Register a property builder under `name` (from any module); `max_examples` caps costly ones;
    where `applies(arch)` is false the suite lists it as skipped with `skip_reason`."""
    def deco(builder):
        PROPERTIES[name] = Property(builder, applies, max_examples, skip_reason)
        return builder
    return deco


@dataclass
class Outcome:
    arch: str
    prop: str
    ok: bool
    message: str = ""
    example: str = ""
    skipped: bool = False  # could not run here (message: why); ok stays True

    @property
    def status(self) -> str:
        return "skip" if self.skipped else "pass" if self.ok else "FAIL"

    def as_dict(self) -> dict:
        return dict(self.__dict__, status=self.status)


def _run_one(arch, name: str, builder, profile: str, cap) -> Outcome:
    profiles.register()
    base = settings.get_profile(profile)
    n = base.max_examples if cap is None else min(base.max_examples, cap)
    test = builder(arch)
    if hasattr(test, "hypothesis"):
        test = settings(base, max_examples=n, database=None)(test)
    lines: list[str] = []
    try:
        with with_reporter(lines.append):
            test()
    except Exception as exc:  # a failed property: keep Hypothesis's falsifying example
        notes = list(getattr(exc, "__notes__", []))  # recent Hypothesis puts the example here
        example = "\n".join(line for line in lines + notes if line.strip())
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not isinstance(exc, AssertionError):
            msg = f"{type(exc).__name__}: {msg}\n{traceback.format_exc(limit=3)}"
        return Outcome(arch.name, name, False, msg, example)
    return Outcome(arch.name, name, True)


def run_property(arch_name: str, name: str, profile: str = "ci") -> Outcome:
    """Run one registered property for one architecture (it must apply to it)."""
    p = PROPERTIES[name]
    arch = theory.get(arch_name)
    if not p.applies(arch):
        raise theory.SpecbiasError(f"property {name!r} does not apply to {arch.name}: {p.skip_reason}")
    return _run_one(arch, name, p.builder, profile, p.max_examples)


def applicable(arch_name: str) -> list[str]:
    """Names of the properties that apply to an architecture."""
    arch = theory.get(arch_name)
    return [n for n, p in PROPERTIES.items() if p.applies(arch)]


def run_suite(archs=None, profile: str = "ci", only=None, progress=None) -> list[Outcome]:
    """Run every applicable property for each architecture (all registered ones by default); those
    that do not apply are listed as skipped, with the reason."""
    names = archs or theory.available()
    unknown = sorted(set(only or ()) - set(PROPERTIES))
    if unknown:
        raise theory.SpecbiasError(f"unknown property {', '.join(unknown)}; valid: {', '.join(PROPERTIES)}")
    out = []
    for arch_name in names:
        arch = theory.get(arch_name)
        for name, p in PROPERTIES.items():
            if only and name not in only:
                continue
            if p.applies(arch):
                out.append(_run_one(arch, name, p.builder, profile, p.max_examples))
            else:
                out.append(Outcome(arch.name, name, True, p.skip_reason, skipped=True))
            if progress:
                progress(out[-1])
    return out
