"""Column names and dtypes of a sweep's tables (results.parquet, modes.parquet).

Names carry no dots (`alpha_geometric_increasing`, `version_numpy`): a dotted name is awkward in
pandas (`df.query`, attribute access) and in most Parquet readers. Every column gets a proper dtype,
never an object column of missing values: measured numbers are float64 (NaN when missing, also when
the column is all-missing), counts nullable Int64, flags nullable boolean, text pandas' string dtype.
Tables written by older code (dotted names, object columns) are mapped on read (`read`).
"""
from __future__ import annotations

import numbers

import pandas as pd

#: prefixes/names of float columns (NaN when missing, even if no run has a value)
FLOAT_PREFIXES = ("alpha_", "alpha_lo_", "alpha_hi_", "r2_", "theory_alpha_")
FLOAT_NAMES = {"wall_s", "cpu_s"}
#: prefixes/names of integer counts (nullable Int64)
INT_PREFIXES = ("n_",)
INT_NAMES = {"attempt", "seed"}
#: text columns (pandas string dtype, <NA> when missing)
STRING_PREFIXES = ("version_",)
STRING_NAMES = {"key", "config_id", "kind", "label", "status", "error", "device", "worker", "finished_at"}


def name(*parts) -> str:
    """The column name of a dotted path, e.g. name('alpha', 'geometric', 'increasing')."""
    return "_".join(str(p) for p in parts)


def undot(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename older tables' dotted columns (`alpha.C.D` -> `alpha_C_D`, `version.x` -> `version_x`)."""
    return frame.rename(columns={c: c.replace(".", "_") for c in frame.columns if isinstance(c, str) and "." in c})


def _declared(col: str) -> str | None:
    if col in FLOAT_NAMES or col.startswith(FLOAT_PREFIXES):
        return "float64"
    if col in INT_NAMES or col.startswith(INT_PREFIXES):
        return "Int64"
    if col in STRING_NAMES or col.startswith(STRING_PREFIXES):
        return "string"
    return None


def _inferred(values: pd.Series) -> str | None:
    """The dtype of a column's non-missing values, or None when they are mixed."""
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        return "Int64"
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return "float64"
    if all(isinstance(v, str) for v in values):
        return "string"
    return None


def _dtype(col: str, series: pd.Series) -> str | None:
    present = series.dropna()
    declared = _declared(col)
    if present.empty:  # all missing: the declared kind, else a measured number (NaN)
        return declared or "float64"
    inferred = _inferred(present.tolist()) if series.dtype == object else None
    if declared == "Int64" and (inferred in ("Int64", "float64") or pd.api.types.is_numeric_dtype(series)):
        whole = pd.to_numeric(present) % 1 == 0
        return "Int64" if bool(whole.all()) else "float64"
    if declared in ("float64", "string") and inferred is not None:
        return declared
    return inferred


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every object column (and every declared count) given its proper dtype."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype != object and _declared(col) != "Int64":
            continue
        dtype = _dtype(col, out[col])
        if dtype is not None and str(out[col].dtype) != dtype:
            series = out[col].astype(object).where(out[col].notna(), None)
            out[col] = pd.array(series.tolist(), dtype=dtype)
    return out


def read(path) -> pd.DataFrame:
    """A results/modes table from disk, older files included (dotted names renamed, dtypes fixed)."""
    return typed(undot(pd.read_parquet(path)))
