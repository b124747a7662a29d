"""Results of a sweep on disk, written so that a kill at any moment loses at most the runs in flight.

    OUT/runs/<key>.json    one record per finished run (ok or failed), written atomically by the client
                           as soon as the run returns: the resume state
    OUT/results.parquet    the tidy table, one row per run of the current spec (see `row`)
    OUT/modes.parquet      the runs' emergence tables, one row per (run, criterion, mode)
    OUT/metadata.json      the spec, counts, column meanings, library versions

JSON is strict (theory.output: NaN and ±inf as null). Every file is written to a temporary name in the same
folder and renamed into place (atomic on POSIX; theory.output.write_atomic).
A run is identified by its key (a hash of its normalised configuration and the code version marker,
verify.sweep.spec.plan), so a record can exist at most once; records of configurations no longer in
the spec stay on disk but are not part of the table.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from theory import output
from theory.output import write_atomic

COLUMNS = {
    "key": "hash of the run's normalised configuration and code version (the resume key)",
    "config_id": "hash of the configuration without the seed (runs sharing it are one configuration)",
    "label": "the swept keys of this configuration",
    "status": "ok or failed",
    "error": "the failure (exception type and message), empty when ok",
    "alpha.C.D": "fitted exponent α of τ* ∝ λ^−α, criterion C, direction D (increasing/decreasing modes)",
    "alpha_lo.C.D, alpha_hi.C.D": "the run's own 95% CI of α (Student t on the regression)",
    "r2.C.D, n.C.D": "R² and the number of modes in the fit",
    "theory_alpha.C.D": "α of the closed form's exact τ* for the same modes",
    "wall_s, cpu_s": "wall and CPU time of the run in its worker",
    "device, worker": "where it ran",
    "version.*": "library versions in the worker",
}


class Store:
    """The folder of one sweep."""

    def __init__(self, root):
        self.root = Path(root)
        self.runs = self.root / "runs"

    def _path(self, key: str) -> Path:
        return self.runs / f"{key}.json"

    def get(self, key: str) -> dict | None:
        p = self._path(key)
        return json.loads(p.read_text()) if p.is_file() else None

    def completed(self, keys) -> set:
        """Keys with a stored successful run (failed runs are tried again on the next invocation)."""
        return {k for k in keys if (r := self.get(k)) is not None and r["status"] == "ok"}

    def put(self, record: dict) -> None:
        write_atomic(self._path(record["key"]), output.dumps(record, sort_keys=True).encode())

    def records(self, keys) -> list:
        return [r for k in keys if (r := self.get(k)) is not None]

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.root / name
        write_atomic(path, lambda fh: frame.to_parquet(fh, index=False))
        return path

    def write_json(self, name: str, obj) -> Path:
        write_atomic(self.root / name, output.dumps(obj, indent=1, sort_keys=True).encode())
        return self.root / name


def _cell(v):
    return json.dumps(v) if isinstance(v, (list, dict)) else v


def row(record: dict, label: str = "") -> dict:
    """One flat row of the results table from a run record."""
    out = {"key": record["key"], "config_id": record["config_id"], "kind": record["kind"], "label": label,
           "status": record["status"], "error": record.get("error") or ""}
    out.update({k: _cell(v) for k, v in record["config"].items()})
    for e in record.get("exponents", []):
        cd = f"{e['criterion']}.{e['direction']}"
        out.update({f"alpha.{cd}": e["alpha"], f"alpha_lo.{cd}": e["ci_lo"], f"alpha_hi.{cd}": e["ci_hi"],
                    f"r2.{cd}": e["r2"], f"n.{cd}": e["n"], f"theory_alpha.{cd}": e.get("theory_alpha")})
    out.update(record.get("scalars", {}))
    for k in ("wall_s", "cpu_s", "device", "worker", "attempt", "finished_at"):
        out[k] = record.get(k)
    out.update({f"version.{k}": v for k, v in record.get("versions", {}).items()})
    return out


def tables(records: list, labels: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(results: one row per run, modes: one row per run × criterion × mode)."""
    results = pd.DataFrame([row(r, labels.get(r["config_id"], "")) for r in records])
    modes = pd.DataFrame([{"key": r["key"], "config_id": r["config_id"], "seed": r["config"].get("seed"), **m}
                          for r in records for m in r.get("modes", [])])
    return results, modes
