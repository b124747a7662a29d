"""A sweep specification (TOML or YAML) and its expansion into independent, hashed runs.

    name = "my-sweep"            # optional (default: the file's stem)
    kind = "train"               # the run kind (verify.sweep.kinds); default train
    [defaults]                   # keys of every run
    d = 16
    [measure]                    # keys of every run that are never swept (lists stay lists)
    criteria = ["geometric", "harmonic"]
    [[grid]]                     # a block: the cartesian product of its list-valued keys
    arch = ["linear", "two_layer"]
    spectrum = ["lognormal", "powerlaw"]
    seeds = 8                    # shorthand for seed = [0, 1, ..., 7]
    [[grid]]
    arch = "patch_conv"
    K = [3, 5, 7]
    seeds = 4

Blocks are concatenated; a list in [defaults] is swept in every block. Every configuration is
normalised by its kind (defaults filled in, values checked against the architecture) BEFORE any run
starts; a bad key fails the whole spec with a SpecbiasError naming the block and the key.

A run's key is a hash of its kind, the kind's version, the sweep format and its full normalised
configuration: equal configurations are one run (whatever the spec's spelling), and a changed
configuration gets a new key, so stored results of other runs stay valid.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from theory import output
from theory.errors import SpecbiasError

from .kinds import get_kind

FORMAT = "specbias-sweep/1"  # the code version marker in every run key
TOP_LEVEL = ("name", "description", "kind", "defaults", "measure", "grid")


@dataclass(frozen=True)
class Planned:
    key: str  # hash of the whole normalised configuration (and code version)
    config_id: str  # the same without the seed: runs that differ only by seed share it
    kind: str
    config: dict = field(hash=False)


@dataclass
class Spec:
    name: str
    description: str
    runs: list  # [Planned], in spec order, duplicates removed
    varied: list  # keys (seed excluded) whose value differs between runs
    source: dict  # the spec as read

    def label(self, config: dict) -> str:
        return ", ".join(f"{k}={config[k]}" for k in self.varied if k in config) or "all runs"


def read(path) -> dict:
    """The spec file as a dict (TOML by default, YAML for .yaml/.yml)."""
    p = Path(path)
    if not p.is_file():
        raise SpecbiasError(f"SPEC: no such file {path}")
    text = p.read_text()
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # a syntax error in the user's file: one line, no traceback
        raise SpecbiasError(f"SPEC: cannot parse {path}: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if not isinstance(data, dict):
        raise SpecbiasError(f"SPEC: {path} must hold a table/mapping at the top level")
    return data


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {}) or {}
    if not isinstance(value, dict):
        raise SpecbiasError(f"{where}{key}: must be a table of key = value")
    return value


#: the most runs one spec may expand to (a plan of 10⁹ runs does not fit in memory)
MAX_RUNS = 100_000


def _axes(block: dict, where: str) -> dict:
    """Block values as lists of alternatives (scalars become one-element lists); `seeds` expanded."""
    out = {}
    for k, v in block.items():
        if k == "seeds":
            if "seed" in block:
                raise SpecbiasError(f"{where}seeds: give either seed or seeds, not both")
            if isinstance(v, bool) or not isinstance(v, (int, list)) or (isinstance(v, int) and not 1 <= v <= MAX_RUNS):
                raise SpecbiasError(f"{where}seeds: must be a count in [1, {MAX_RUNS:,}] or a list of seeds "
                                    f"(got {v!r})")
            out["seed"] = list(range(v)) if isinstance(v, int) else v
        else:
            out[k] = v if isinstance(v, list) else [v]
        if not out["seed" if k == "seeds" else k]:
            raise SpecbiasError(f"{where}{k}: empty list (an empty grid has no runs)")
    return out


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan(kind, config: dict) -> Planned:
    """The hashed run of one normalised configuration."""
    kind = get_kind(kind)
    base = {"format": FORMAT, "kind": kind.name, "version": kind.version}
    key = _digest({**base, "config": config})
    config_id = _digest({**base, "config": {k: v for k, v in config.items() if k != "seed"}})
    return Planned(key, config_id, kind.name, config)


def parse(data: dict, name: str = "sweep") -> Spec:
    """Validate and expand a spec dict (see the module docstring); raises before anything runs."""
    unknown = [k for k in data if k not in TOP_LEVEL]
    if unknown:
        raise SpecbiasError(f"unknown key {unknown[0]!r} at the top level of the spec "
                            f"(valid: {', '.join(TOP_LEVEL)})")
    defaults, measure = _table(data, "defaults", ""), _table(data, "measure", "")
    blocks = data.get("grid")
    if not blocks:
        raise SpecbiasError("grid: empty (give at least one [[grid]] block)")
    if isinstance(blocks, dict):
        blocks = [blocks]
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise SpecbiasError("grid: must be a list of tables ([[grid]] blocks)")
    runs, seen = [], set()
    for i, block in enumerate(blocks):
        where = f"grid[{i}]."
        both = set(measure) & (set(block) | set(defaults))
        if both:
            raise SpecbiasError(f"{where}{sorted(both)[0]}: given in [measure] and swept; give it once")
        axes = _axes({**defaults, **block}, where)
        kind = get_kind(axes.pop("kind", [data.get("kind", "train")])[0])
        names = list(axes)
        size = math.prod(len(axes[k]) for k in names)
        if len(runs) + size > MAX_RUNS:  # counted before expanding: seeds = 10⁹ was expanded and OOM-killed
            raise SpecbiasError(f"{where[:-1]}: the spec expands to more than {MAX_RUNS:,} runs "
                                f"({len(runs) + size:,} so far); split it into several sweeps")
        for values in itertools.product(*(axes[k] for k in names)):
            raw = {**dict(zip(names, values)), **measure}
            try:
                config = kind.normalise(raw)
            except SpecbiasError as exc:
                raise SpecbiasError(f"{where[:-1]}: {exc}") from None
            run = plan(kind, config)
            if run.key not in seen:
                seen.add(run.key)
                runs.append(run)
    varied = _varied(runs)
    name = output.check_name(str(data.get("name", name)), "name")
    return Spec(name, str(data.get("description", "")), runs, varied, data)


def _varied(runs) -> list:
    """Keys (seed excluded) whose value differs between runs: one pass per key (this was a pass over all
    runs for every run and key, quadratic in the runs: about an hour of planning at MAX_RUNS)."""
    keys = {k for r in runs for k in r.config if k != "seed"}
    return sorted(k for k in keys if len({json.dumps(r.config.get(k), default=str) for r in runs}) > 1)


def load(path) -> Spec:
    return parse(read(path), Path(path).stem)
