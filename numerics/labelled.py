"""A training run as an `xarray.Dataset` (numerics.run.Run.to_xarray): the trained gains next to the
closed form's, labelled by τ (checkpoint), σ or t (level) and mode, with units and provenance."""
from __future__ import annotations

import json

import numpy as np

import theory
from theory.labelled import UNITS, provenance

#: Run array axis → Dataset dimension (the level axis is named after the run's level variable)
DIMS = {"checkpoint": "tau", "mode": "mode", "row": "row", "col": "col"}


def run_to_xarray(run, axes: dict, theory_gains: bool = True):
    """`axes`: each run array's axis names (numerics.run.AXES). Dims (tau, sigma|t, mode); coords tau,
    sigma|t, lam (on mode); every run array with its axes;
    `theory_gains` (the closed form on the same grid) when the architecture is registered; attrs: the
    architecture's provenance, Q, η, seed, mode, dtype and the whole metadata as JSON (`meta_json`)."""
    import xarray as xr

    level = run.level_name
    dims = dict(DIMS, level=level)
    arrays = {k: v for k, v in run.arrays.items() if k not in ("tau", level, "lam")}
    data = {k: (tuple(dims[a] for a in axes[k]), v) for k, v in arrays.items() if k in axes}
    ds = xr.Dataset(data, coords={"tau": ("tau", run.tau, {"units": UNITS["tau"]}),
                                  level: (level, run.levels, {"units": UNITS[level]}),
                                  "lam": ("mode", run.lam, {"units": UNITS["lam"]}),
                                  "mode": np.arange(run.lam.size)})
    ds["gains"].attrs.update(units=UNITS["weight"], long_name="trained per-mode gain ψ_k")
    m = run.meta
    try:
        arch = theory.get(m["arch"])
    except theory.SpecbiasError:
        arch = None
    if arch is not None and theory_gains:
        ds["theory_gains"] = (("tau", level, "mode"), run.theory_gains(),
                              {"units": UNITS["weight"], "long_name": "closed-form gain (gradient flow)"})
    extra = {("protocol" if k == "mode" else k): m[k] for k in ("Q", "eta", "seed", "mode", "dtype", "optimizer")
             if k in m}  # "mode" is a dimension here (and a reserved name of the NetCDF-3 writer)
    attrs = provenance(arch, **extra) if arch is not None else {"arch": str(m.get("arch")), **extra}
    ds.attrs.update(attrs, meta_json=json.dumps(m, default=str, sort_keys=True))
    return ds
