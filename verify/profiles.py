"""Hypothesis profiles shared by pytest and `specbias verify`: `ci`, `dev`, `thorough`.

`ci` is registered on top of Hypothesis's automatic `ci` profile (active when CI is set) and is
loaded instead of it; SPECBIAS_PROFILE selects another.
"""
import os

from hypothesis import HealthCheck, Phase, settings

PROFILES = ("ci", "dev", "thorough")
_base = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow],
         "phases": [p for p in Phase if p != Phase.explain]}  # keep the example, not coverage lines


def register() -> None:
    try:
        parent = settings.get_profile("ci")  # Hypothesis's automatic CI profile, where it exists
    except Exception:
        parent = None
    settings.register_profile("ci", parent=parent, max_examples=12, derandomize=True, **_base)
    settings.register_profile("dev", max_examples=50, **_base)
    settings.register_profile("thorough", max_examples=500, **_base)


def load(name: str | None = None) -> str:
    """Register and load a profile (default: SPECBIAS_PROFILE, else `ci` under CI, else `dev`)."""
    register()
    name = name or os.environ.get("SPECBIAS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    settings.load_profile(name)
    return name


register()
