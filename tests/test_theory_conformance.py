"""The conformance suite: every property of verify.properties for every registered architecture.

The same code runs under `specbias verify`; a new architecture inherits all of it unchanged.
"""
import pytest

import theory
from verify.properties.engine import applicable, run_property
from verify.properties.profiles import load

PROFILE = load()
CASES = [(a, p) for a in theory.available() for p in applicable(a)]


@pytest.mark.parametrize("arch,prop", CASES, ids=[f"{a}-{p}" for a, p in CASES])
def test_property(arch, prop):
    out = run_property(arch, prop, PROFILE)
    assert out.ok, f"{out.message}\n{out.example}"
