"""Hypothesis profiles: `ci` (bounded examples, no deadline), `dev`, `thorough`.

Ours are loaded on top of Hypothesis's automatic `ci` profile (active when CI is set); choose one
with SPECBIAS_PROFILE=ci|dev|thorough or pytest's --hypothesis-profile.
"""
import os

from hypothesis import HealthCheck, settings

_base = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow]}
try:
    _parent = settings.get_profile("ci")  # Hypothesis's automatic CI profile, if this version has one
except Exception:
    _parent = None
settings.register_profile("ci", parent=_parent, max_examples=20, derandomize=True, **_base)
settings.register_profile("dev", max_examples=60, **_base)
settings.register_profile("thorough", max_examples=1000, **_base)
settings.load_profile(os.environ.get("SPECBIAS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
