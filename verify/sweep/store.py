"""Results of a sweep on disk, written so that a kill at any moment loses at most the runs in flight.

    OUT/runs/<key>.json    one record per finished run (ok or failed), written atomically by the client
                           as soon as the run returns: the resume state
    OUT/results.parquet    the tidy table, one row per run of the current spec (see `row`; names and
                           dtypes: verify.sweep.columns, which also reads older files)
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

from .columns import name, typed

COLUMNS = {
    "key": "hash of the run's normalised configuration and code version (the resume key)",
    "config_id": "hash of the configuration without the seed (runs sharing it are one configuration)",
    "label": "the swept keys of this configuration",
    "status": "ok or failed",
    "error": "the failure (exception type and message), empty when ok",
    "alpha_C_D": "fitted exponent α of τ* ∝ λ^−α, criterion C, direction D (increasing/decreasing modes)",
    "alpha_lo_C_D, alpha_hi_C_D": "the run's own 95% CI of α (Student t on the regression)",
    "r2_C_D, n_C_D": "R² and the number of modes in the fit",
    "theory_alpha_C_D": "α of the closed form's exact τ* for the same modes",
    "wall_s, cpu_s": "wall and CPU time of the run in its worker",
    "device, worker": "where it ran",
    "attempt": "the submission that produced the record: 1 = the first pass (serial or Dask; Dask's own "
               "scheduler retries are inside it), 2 = the solo retry of a run whose worker died (verify.sweep.cluster)",
    "version_*": "library versions in the worker",
}


#: fields every stored run record has (a record without them is corrupt: re-run, never trusted)
REQUIRED = {"key": str, "config_id": str, "kind": str, "status": str, "config": dict}


def problem(record, key: str) -> str:
    """Why a parsed runs/<key>.json is not a usable record ('' when it is)."""
    if not isinstance(record, dict):
        return f"not a JSON object ({type(record).__name__})"
    for name, typ in REQUIRED.items():
        if not isinstance(record.get(name), typ):
            return f"no valid {name!r}"
    if record["key"] != key:
        return f"its key {record['key']!r} does not match its file name"
    if record["status"] not in ("ok", "failed"):
        return f"status {record['status']!r} is neither ok nor failed"
    return ""


class Store:
    """The folder of one sweep (theory.output's rule: a new or empty folder, or one marked "sweep")."""

    def __init__(self, root, name: str = ""):
        self.root, self.name = Path(root), name
        self.runs = self.root / "runs"
        self.corrupt = {}  # key -> (file, reason) of records that could not be read: they are re-run
        self._claimed = False

    def claim(self) -> None:
        """Create the folder and mark it as a sweep's (theory.output.claim) before the first write."""
        if not self._claimed:
            output.claim(self.root, "sweep", self.name)
            self._claimed = True

    def _path(self, key: str) -> Path:
        return self.runs / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored record of `key`, or None if there is none or it is corrupt (noted in .corrupt)."""
        p = self._path(key)
        if not p.is_file():
            return None
        try:
            record = json.loads(p.read_text())
            why = problem(record, key)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            why = f"unreadable JSON ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        if why:
            self.corrupt[key] = (p, why)
            return None
        self.corrupt.pop(key, None)
        return record

    def completed(self, keys) -> set:
        """Keys with a stored successful run (failed runs are tried again on the next invocation)."""
        return {k for k in keys if (r := self.get(k)) is not None and r["status"] == "ok"}

    def put(self, record: dict) -> None:
        self.claim()
        write_atomic(self._path(record["key"]), output.dumps(record, sort_keys=True).encode())
        self.corrupt.pop(record["key"], None)

    def records(self, keys) -> list:
        return [r for k in keys if (r := self.get(k)) is not None]

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        self.claim()
        path = self.root / name
        write_atomic(path, lambda fh: frame.to_parquet(fh, index=False))
        return path

    def write_json(self, name: str, obj) -> Path:
        self.claim()
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
        cd = name(e["criterion"], e["direction"])
        out.update({f"alpha_{cd}": e["alpha"], f"alpha_lo_{cd}": e["ci_lo"], f"alpha_hi_{cd}": e["ci_hi"],
                    f"r2_{cd}": e["r2"], f"n_{cd}": e["n"], f"theory_alpha_{cd}": e.get("theory_alpha")})
    out.update(record.get("scalars", {}))
    for k in ("wall_s", "cpu_s", "device", "worker", "attempt", "finished_at"):
        out[k] = record.get(k)
    out.update({f"version_{k}": v for k, v in record.get("versions", {}).items()})
    return out


def tables(records: list, labels: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(results: one row per run, modes: one row per run × criterion × mode)."""
    results = typed(pd.DataFrame([row(r, labels.get(r["config_id"], "")) for r in records], dtype=object))
    modes = pd.DataFrame([{"key": r["key"], "config_id": r["config_id"], "seed": r["config"].get("seed"), **m}
                          for r in records for m in r.get("modes", [])], dtype=object)
    return results, typed(modes)
