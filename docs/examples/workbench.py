"""A researcher's workbench, notebook style (each `# %%` is a cell; run it whole with
`python docs/examples/workbench.py [OUT]`, OUT default: a temporary folder).

Labelled results: the closed forms as an xarray.Dataset, emergence and fits as pandas tables, a training
run as an xarray.Dataset, a report read back with load_report, its NetCDF files opened with xarray, and
the report's figures redrawn with verify.plot.
"""
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

import theory  # noqa: E402
from numerics import data, train  # noqa: E402
from verify import plot  # noqa: E402
from verify.report import build as report  # noqa: E402
from verify.report.results import load_report  # noqa: E402

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="workbench-"))

# %% The closed form as labelled arrays: dims (mode, tau, sigma), λ as a coordinate, units in attrs
lam, tau = np.geomspace(1e-2, 10, 8), np.geomspace(1e-2, 1e3, 60)
ds = theory.trajectory("linear", lam, tau, sigma=[0.1, 1.0], Q=0.1)
print(ds)
print("units of tau:", ds.tau.attrs["units"])
print("λ̃ of the largest mode at τ ≈ 1:", float(ds.generated_variance.isel(mode=-1).sel(tau=1.0, method="nearest")))

# %% Emergence times and the fits of τ* ∝ λ^−α as pandas tables
em = theory.emergence_table("linear", lam, Q=0.1)
print(em.to_frame()[["lam", "direction", "gray_zone", "tau_star_geometric"]])
print(em.fits_frame())
alpha = em.fits["geometric"]["increasing"].alpha
print(f"α (geometric, increasing modes) = {alpha:.3f}")

# %% A training run as an xarray.Dataset: trained gains next to the closed form's
ds_train = data.gaussian(8, "lognormal", seed=0)
run = train.train("linear", ds_train, Q=0.1, taus=np.geomspace(1e-3, 30, 8), keep_weights=True, progress=False)
x = run.to_xarray()
err = float(abs(x.gains - x.theory_gains).max())
print(f"run: dims {dict(x.sizes)}; worst |ψ − ψ_theory| = {err:.2e}")

# %% A report, read back as pandas/xarray objects; its NetCDF files open with xarray.open_dataset
folder = report.build("workbench", "quick", seed=0, out=out, archs=["linear"], progress=False)
rep = load_report(folder)
print(rep.summary[["derivation_ok", "agreement", "alpha_geometric"]])
print(rep.exponents.query("criterion == 'geometric' and direction == 'increasing'"))
nc = xr.open_dataset(folder / "linear.nc")
print("report data:", list(nc.data_vars))

# %% The report's figures, redrawn
fig, axes = plt.subplots(2, 2, figsize=(11, 7), layout="constrained")
plot.variance(nc, axes[0, 0])
plot.emergence(nc, axes[0, 1])
plot.weights(nc, axes[1, 0])
plot.agreement(nc, axes[1, 1])
fig.savefig(out / "workbench.png", dpi=90)
nc.close()
print(f"figures: {out / 'workbench.png'}")
