"""Hypothesis profiles shared by pytest and `specbias verify`: `ci`, `dev`, `thorough`.

`ci` is registered on top of Hypothesis's automatic `ci` profile (active when CI is set) and is
loaded instead of it; SPECBIAS_PROFILE selects another.

Hypothesis's storage (its example database, which replays falsifying examples first next time, and
its caches) never goes into the working directory, where Hypothesis puts `.hypothesis/` by default:
SPECBIAS_HYPOTHESIS_DB names the folder, or `none` (also `off`, empty) for none at all (one-off
runs: a temporary folder removed at exit, no example database); the default is
`specbias/hypothesis` under the user cache folder ($XDG_CACHE_HOME, else ~/.cache). The `ci` profile
is derandomized and keeps no database; `specbias verify` runs each property without one, so a run
is reproducible from its seed alone (the database serves the pytest suite).
"""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILES = ("ci", "dev", "thorough")
DB_ENV = "SPECBIAS_HYPOTHESIS_DB"
_base = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow],
         "phases": [p for p in Phase if p != Phase.explain]}  # keep the example, not coverage lines


def database_path() -> Path | None:
    """The example database folder (see the module docstring), or None for no database."""
    value = os.environ.get(DB_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "none", "off") else Path(value).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "specbias" / "hypothesis"


def database():
    """The Hypothesis example database in `database_path()` (created lazily by Hypothesis), or None."""
    path = database_path()
    return None if path is None else DirectoryBasedExampleDatabase(path / "examples")


def configure_storage() -> Path:
    """Point Hypothesis's storage at `database_path()` (or a temporary folder removed at exit)."""
    path = database_path()
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="specbias-hypothesis-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    set_hypothesis_home_dir(path)
    return path


def register() -> None:
    configure_storage()
    try:
        parent = settings.get_profile("ci")  # Hypothesis's automatic CI profile, where it exists
    except Exception:
        parent = None
    db = {"database": database()}  # `ci` is derandomized: Hypothesis then keeps no database at all
    settings.register_profile("ci", parent=parent, max_examples=12, derandomize=True, database=None, **_base)
    settings.register_profile("dev", max_examples=50, **db, **_base)
    settings.register_profile("thorough", max_examples=500, **db, **_base)


def load(name: str | None = None) -> str:
    """Register and load a profile (default: SPECBIAS_PROFILE, else `ci` under CI, else `dev`)."""
    register()
    name = name or os.environ.get("SPECBIAS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    settings.load_profile(name)
    return name


register()
