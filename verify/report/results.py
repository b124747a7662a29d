"""An agreement report's results as labelled objects: each architecture's NetCDF file (written next to
data.npz, `<arch>.nc`, opens with `xarray.open_dataset`), and `load_report(path)` returning pandas tables
and xarray datasets.

    rep = load_report("reports/default")
    rep.summary                     # one row per architecture: derivation, agreement, v₀, α
    rep.exponents                   # tidy: arch, Q, criterion, direction, alpha, ci_lo, ci_hi, r2, n
    rep.departures                  # the departure flags
    ds = rep.dataset("linear")      # theory (mode, tau) and training (tau_trained, sigma, mode_trained)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import theory
from theory.errors import SpecbiasError
from theory.labelled import UNITS, provenance, write_netcdf


def arch_dataset(r, derivation=None, skip_meta=lambda key: False):
    """One report architecture (verify.report.data.ArchResult) as an xarray.Dataset; metadata keys for which
    `skip_meta` is true (wall times: verify.report.build._is_timing) are left out, so reruns are identical."""
    import xarray as xr

    arch = theory.get(r.name)
    level = arch.sampling.variable.name
    ds = xr.Dataset(
        {"log_variance": (("mode", "tau"), r.log_variance, {"units": "ln of " + UNITS["generated_variance"]}),
         "weight": (("mode", "tau"), r.weights, {"units": UNITS["weight"], level: r.level}),
         **{f"tau_star_{c}": (("mode",), t, {"units": UNITS["tau_star"], "criterion": c})
            for c, t in r.tau_star.items()}},
        coords={"mode": np.arange(r.lam.size), "lam": ("mode", r.lam, {"units": UNITS["lam"]}),
                "tau": ("tau", r.tau, {"units": UNITS["tau"]})},
        attrs=provenance(arch, dataset=r.dataset, basis=r.basis, v0=r.v0, Q=0.1, quantity="closed form",
                         derivation="unknown" if derivation is None else derivation.label, **r.params))
    if r.run is not None:
        run = r.run.to_xarray(theory_gains=True).drop_vars(["W", "b"], errors="ignore")
        run = run.rename({"tau": "tau_trained", "mode": "mode_trained", "lam": "lam_trained"})
        run = run.rename({k: "theory_gains_trained_grid" if k == "theory_gains" else f"trained_{k}"
                          for k in run.data_vars})
        lv = r.agreement.measured_log_variance
        if lv is not None and lv.shape == (run.sizes["tau_trained"], run.sizes["mode_trained"]):
            run["trained_log_variance"] = (("tau_trained", "mode_trained"), lv,
                                           {"units": "ln of " + UNITS["generated_variance"],
                                            "long_name": "exact generated variance of the trained weights"})
        run.attrs = {}
        ds = xr.merge([ds, run], combine_attrs="override")
        ds.attrs["agreement"] = "pass" if r.agreement.ok else "FAIL"
        ds.attrs["training_meta_json"] = json.dumps({k: v for k, v in r.run.meta.items() if not skip_meta(k)},
                                                    default=str, sort_keys=True)
    return ds


def write(results, folder: Path, derivations: dict, skip_meta=lambda key: False) -> None:
    """`<arch>.nc` for every architecture of the report."""
    for r in results:
        write_netcdf(arch_dataset(r, derivations.get(r.name), skip_meta), folder / f"{r.name}.nc")


@dataclass
class Report:
    """A written agreement report, read back (load_report)."""

    path: Path
    json: dict = field(repr=False)

    @property
    def archs(self) -> list:
        return list(self.json["architectures"])

    @property
    def summary(self):
        import pandas as pd

        rows = []
        for name, a in self.json["architectures"].items():
            agr, der = a["agreement"], a.get("derivation", {})
            geo = a["fits"]["geometric"]["increasing"]
            rows.append({"arch": name, "dataset": a["dataset"], "basis": a["basis"], "v0": a["v0"],
                         "derivation_ok": der.get("ok"), "derivation_failed_at": der.get("failed_at"),
                         "agreement": ("skipped" if "skipped" in agr else "pass" if agr["ok"] else "FAIL"),
                         "worst_weight_error": agr.get("worst_weight_error"),
                         "worst_log_variance_error": agr.get("worst_log_variance_error"),
                         "alpha_geometric": geo["alpha"], "alpha_lo": geo["ci"][0], "alpha_hi": geo["ci"][1]})
        return pd.DataFrame(rows).set_index("arch")

    @property
    def exponents(self):
        import pandas as pd

        rows = []
        for name, a in self.json["architectures"].items():
            for key, fits in a["exponents"].items():
                q, crit = key.split(" ")
                for direction, f in fits.items():
                    rows.append({"arch": name, "Q": float(q.removeprefix("Q=")), "criterion": crit,
                                 "direction": direction, "alpha": f["alpha"], "ci_lo": f["ci"][0],
                                 "ci_hi": f["ci"][1], "r2": f["r2"], "n": f["n"]})
        return pd.DataFrame(rows, columns=["arch", "Q", "criterion", "direction", "alpha", "ci_lo", "ci_hi",
                                           "r2", "n"])

    @property
    def departures(self):
        import pandas as pd

        return pd.DataFrame([{"arch": name, **{k: v for k, v in f.items() if not isinstance(v, dict)}}
                             for name, a in self.json["architectures"].items() for f in a["departure"]])

    def dataset(self, arch: str):
        import xarray as xr

        path = self.path / f"{arch}.nc"
        if not path.is_file():
            raise SpecbiasError(f"{self.path} has no {arch}.nc (architectures: {', '.join(self.archs)})")
        with xr.open_dataset(path) as ds:
            return ds.load()


def load_report(path) -> Report:
    """Read an agreement report folder (report.json and the `<arch>.nc` files) written by `specbias report`."""
    folder = Path(path)
    file = folder / "report.json"
    if not file.is_file():
        raise SpecbiasError(f"{path} holds no report (no report.json)")
    data = json.loads(file.read_text())
    if "architectures" not in data:
        raise SpecbiasError(f"{path} is not an agreement report (the {data.get('preset', 'other')!r} preset "
                            "writes its own tables: read its report.json)")
    return Report(folder, data)
