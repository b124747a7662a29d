"""Sweeps: many independent runs (configurations × seeds) of the project's own training and
measurement, on Dask distributed, with seed-to-seed confidence for every exponent.

    from verify import sweep
    spec = sweep.load("my.toml")                 # or sweep.parse(dict), sweep.parse(sweep.example())
    res = sweep.run_sweep(spec, "sweeps/my")      # LocalCluster sized to the machine
    res.results                                   # pandas: one row per run (also results.parquet)
    res.groups                                    # per configuration: mean α, seed CI, within-run CI, verdict
    sweep.register_kind(MyKind())                 # a new kind of run (see verify.sweep.kinds)

`run_sweep` and `SweepResult` are imported on first use (they pull in Dask, pandas and matplotlib),
so the `specbias` command starts without them.
"""
from .example import EXAMPLE, example
from .kinds import Key, Result, RunKind, available_kinds, get_kind, register_kind, unregister_kind
from .spec import Planned, Spec, load, parse, plan

__all__ = ["EXAMPLE", "example", "Key", "Result", "RunKind", "available_kinds", "get_kind", "register_kind",
           "unregister_kind", "SweepResult", "run_sweep", "Planned", "Spec", "load", "parse", "plan"]


def __getattr__(name):
    if name in ("run_sweep", "SweepResult"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
