"""Labelled results of the closed forms: trajectories as `xarray.Dataset`, emergence tables and fits as
dataclasses with `.to_frame()` (pandas), each carrying units and provenance.

    ds = theory.trajectory("linear", lam, tau, sigma=[0.1, 1.0], Q=0.1)
    ds.generated_variance.sel(mode=0).plot()       # λ̃_k(τ), dims (mode, tau); ds.weight: (mode, tau, sigma)
    em = theory.emergence_table("linear", lam)      # τ* per mode and criterion, the fits
    em.to_frame(), em.fits["geometric"].to_frame()

The numbers are those of Architecture.generated_variance / weight, theory.emergence_time and
theory.fit_exponent (Wang & Pehlevan arXiv 2503.03206, Prop. 4.2 and eq. 7 for the one-layer model);
this module only labels them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import registry
from . import validate as V
from .emergence import emergence_time
from .fit import GRAY_ZONE, fit_exponent, in_gray_zone

UNITS = {"tau": "gradient-flow time ητ (dimensionless; discrete GD: steps × h)",
         "lam": "data variance along the mode (units of x²)",
         "sigma": "noise level σ (units of x)", "t": "flow time t ∈ [0, 1]",
         "generated_variance": "variance of generated samples along the mode (units of x²)",
         "weight": "per-mode gain ψ_k (dimensionless)", "tau_star": "emergence time ητ*"}


def provenance(arch, **extra) -> dict:
    """NetCDF-safe attrs (str/number) naming the architecture, its source and the run's settings."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("specbias")
    except PackageNotFoundError:
        ver = "unknown"
    attrs = {"arch": arch.name, "title": arch.title, "source": arch.source, "specbias_version": ver,
             "papers": "Wang & Pehlevan arXiv 2503.03206; Weitzner et al. arXiv 2410.14730"}
    attrs.update({k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in extra.items()})
    return attrs


def write_netcdf(ds, path) -> None:
    """Write `ds` as NetCDF (3, 64-bit offsets; scipy's writer: no extra dependency, byte-identical reruns);
    64-bit integers become int32 where they fit, else float64. Opens with `xarray.open_dataset(path)`."""
    ds = ds.copy()
    for name, var in ds.variables.items():
        if var.dtype == np.int64 or var.dtype == np.uint64:
            small = var.size == 0 or np.abs(var.values).max() < 2**31
            ds[name] = var.astype(np.int32 if small else np.float64)
        elif var.dtype == bool:
            ds[name] = var.astype(np.int8)
    ds.to_netcdf(path, engine="scipy", format="NETCDF3_64BIT")


def trajectory(arch, lam, tau, sigma=None, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0, **params):
    """The closed form's generated variance λ̃_k(τ) [mode, tau] (and the gains ψ_k(σ, τ) [mode, tau, sigma]
    when `sigma` is given: noise levels, or flow times t for flow matching) as an xarray.Dataset with λ as
    a coordinate, v₀ and the exact τ* (geometric criterion) per mode, units and provenance in attrs."""
    import xarray as xr

    arch = registry.get(arch)
    lam = np.asarray(V.variances(lam), float).reshape(-1)
    lam = arch.as_spectrum(lam) if arch.coupled else lam
    tau = V.as_array("tau", tau).reshape(-1)
    kw = dict(Q=Q, eta=eta, sigma0=sigma0, sigmaT=sigmaT, **params)
    var = (arch.generated_variance(lam[None, :], tau[:, None], **kw).T if arch.coupled
           else arch.generated_variance(lam[:, None], tau[None, :], **kw))
    level = arch.sampling.variable.name  # "sigma" or "t"
    ds = xr.Dataset(
        {"generated_variance": (("mode", "tau"), var, {"units": UNITS["generated_variance"]}),
         "tau_star": (("mode",), emergence_time(arch, lam, criterion="geometric", **kw),
                      {"units": UNITS["tau_star"], "criterion": "geometric"})},
        coords={"mode": np.arange(lam.size), "tau": ("tau", tau, {"units": UNITS["tau"]}),
                "lam": ("mode", lam, {"units": UNITS["lam"]})},
        attrs=provenance(arch, Q=Q, eta=eta, sigma0=sigma0, sigmaT=sigmaT, v0=float(arch.initial_variance(
            Q, sigma0, sigmaT)), quantity="closed form, float64", **params))
    if sigma is not None:
        s = V.as_array(level, sigma, positive=(level == "sigma")).reshape(-1)
        w = arch.weight(lam[:, None, None], s[None, None, :], tau[None, :, None], Q=Q, eta=eta, **params)
        ds["weight"] = (("mode", "tau", level), np.broadcast_to(w, (lam.size, tau.size, s.size)),
                        {"units": UNITS["weight"]})
        ds = ds.assign_coords({level: (level, s, {"units": UNITS[level]})})
    return ds


@dataclass
class Emergence:
    """Exact emergence times of the closed form per mode and criterion, with the fits of τ* ∝ λ^−α."""

    arch: str
    lam: np.ndarray
    v0: float
    Q: float
    tau_star: dict  # criterion → τ* per mode
    fits: dict  # criterion → theory.fit.Fits ({"increasing": Fit, "decreasing": Fit})
    gray_zone: tuple = GRAY_ZONE
    params: dict = field(default_factory=dict)

    def to_frame(self):
        """One row per mode: λ, v₀/λ, direction, in the gray zone (excluded from fits), τ* per criterion."""
        import pandas as pd

        ratio = self.v0 / self.lam
        frame = pd.DataFrame({"arch": self.arch, "mode": np.arange(self.lam.size), "lam": self.lam,
                              "v0_over_lam": ratio,
                              "direction": np.where(ratio < 1, "increasing", "decreasing"),
                              "gray_zone": in_gray_zone(self.v0, self.lam, self.gray_zone)})
        for c, ts in self.tau_star.items():
            frame[f"tau_star_{c}"] = ts
        frame.attrs = {"Q": self.Q, "v0": self.v0, **self.params}
        return frame

    def fits_frame(self):
        """One row per criterion and direction: α, its CI, R², N, the prefactor a."""
        import pandas as pd

        return pd.concat([f.to_frame().assign(criterion=c) for c, f in self.fits.items()], ignore_index=True)


def emergence_table(arch, lam, criteria=("geometric", "harmonic"), Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0,
                    **params) -> Emergence:
    """theory.emergence_time for each criterion and theory.fit_exponent on it (exact v₀), labelled."""
    arch = registry.get(arch)
    lam = np.asarray(V.variances(lam), float).reshape(-1)
    kw = dict(Q=Q, eta=eta, sigma0=sigma0, sigmaT=sigmaT, **params)
    v0 = float(arch.initial_variance(Q, sigma0, sigmaT))
    ts = {c: emergence_time(arch, lam, criterion=c, **kw) for c in criteria}
    return Emergence(arch.name, lam, v0, Q, ts, {c: fit_exponent(lam, t, v0) for c, t in ts.items()},
                     params=dict(params))
