"""Sweeps: many independent runs (configurations × seeds) of the project's own training and
measurement, on Dask distributed, with seed-to-seed confidence for every exponent.

    from verify import sweep
    spec = sweep.load("my.toml")                 # or sweep.parse(dict), sweep.parse(sweep.example())
    res = sweep.run_sweep(spec, "sweeps/my")      # LocalCluster sized to the machine
    res.results                                   # pandas: one row per run (also results.parquet)
    res.groups                                    # per configuration: mean α, seed CI, within-run CI, verdict
    sweep.register_kind(MyKind())                 # a new kind of run (see verify.sweep.kinds)
"""
from .example import EXAMPLE, example
from .kinds import Key, Result, RunKind, available_kinds, get_kind, register_kind, unregister_kind
from .runner import SweepResult, run_sweep
from .spec import Planned, Spec, load, parse, plan

__all__ = ["EXAMPLE", "example", "Key", "Result", "RunKind", "available_kinds", "get_kind", "register_kind",
           "unregister_kind", "SweepResult", "run_sweep", "Planned", "Spec", "load", "parse", "plan"]
