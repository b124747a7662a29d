"""Labelled results (issue 18, item 4): the workbench script runs, and its objects carry the right numbers
(checked against independent references, not the code under test)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import integrate

import theory
from theory.labelled import write_netcdf

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # the notebook-style script end to end (~15 s idle); CI runs it with -m slow
def test_workbench_script_runs(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    res = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "workbench.py"), str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=240, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "α (geometric, increasing modes)" in res.stdout and (tmp_path / "workbench.png").stat().st_size > 10_000
    assert (tmp_path / "workbench" / "linear.nc").is_file()


def test_trajectory_labels_match_an_ode_solution():
    """ψ_k(σ, τ) of the Dataset against scipy's ODE solver on the derived gain ODE dψ/dτ = −2η[(σ² + λ)ψ − λ]
    (Wang & Pehlevan arXiv 2503.03206, eq. 7), selected by label, not position."""
    lam, tau = np.array([2.0, 0.1]), np.array([0.0, 0.5, 3.0])
    ds = theory.trajectory("linear", lam, tau, sigma=[0.3, 1.0], Q=0.2)
    for k, lk in enumerate(lam):
        sol = integrate.solve_ivp(lambda t, y: -2 * (1.0 + lk) * y + 2 * lk, (0, 3), [0.2], t_eval=tau,
                                  rtol=1e-10, atol=1e-12)
        got = ds.weight.sel(sigma=1.0).where(ds.lam == lk, drop=True).values.ravel()
        np.testing.assert_allclose(got, sol.y[0], rtol=1e-7)
    assert ds.generated_variance.dims == ("mode", "tau") and ds.attrs["arch"] == "linear"
    assert "ητ" in ds.tau.attrs["units"]


def test_fits_to_frame_and_netcdf_roundtrip(tmp_path):
    lam = np.geomspace(0.05, 5, 6)
    ts = 0.7 * lam**-1.0  # an exact power law: α = 1, a = 0.7
    fits = theory.fit_exponent(lam, ts, v0=1e-3)
    frame = fits.to_frame()
    assert list(frame["direction"]) == ["increasing", "decreasing"]
    np.testing.assert_allclose(frame.loc[0, ["alpha", "a", "r2"]].astype(float), [1.0, 0.7, 1.0], rtol=1e-12)
    assert frame.loc[1, "n"] == 0 and isinstance(fits, dict)  # still the documented dict
    em = theory.emergence_table("linear", lam)
    assert len(em.to_frame()) == 6 and set(em.fits_frame()["criterion"]) == {"geometric", "harmonic"}
    ds = theory.trajectory("linear", lam, [0.0, 1.0])
    write_netcdf(ds, tmp_path / "t.nc")
    with xr.open_dataset(tmp_path / "t.nc") as back:
        xr.testing.assert_allclose(back.generated_variance, ds.generated_variance)
        assert back.attrs["arch"] == "linear"


def test_run_to_xarray_and_dir():
    from numerics import data, train

    run = train.train("linear", data.gaussian(4, "lognormal", seed=0), Q=0.1, taus=[0.0, 1.0], keep_weights=True,
                      progress=False)
    assert {"gains", "W", "tau", "lam", "to_xarray"} <= set(dir(run))  # the arrays complete in a notebook
    x = run.to_xarray()
    assert x.gains.dims == ("tau", "sigma", "mode") and x.attrs["protocol"] == "population"
    np.testing.assert_array_equal(x.gains.sel(tau=1.0).values, run.gains[1])
    np.testing.assert_array_equal(x.lam.values, run.lam)


def test_load_report_refuses_other_folders(tmp_path):
    from verify.report.results import load_report

    with pytest.raises(theory.SpecbiasError, match="no report.json"):
        load_report(tmp_path)
