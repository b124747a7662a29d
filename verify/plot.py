"""The report's figures, redrawn from labelled results in a notebook: each function takes an xarray.Dataset
(theory.trajectory, or load_report(...).dataset(arch)) and an optional matplotlib Axes, and returns the Axes.

    from verify import plot, results
    ds = results.load_report("reports/default").dataset("linear")
    plot.variance(ds); plot.emergence(ds); plot.agreement(ds)
"""
from __future__ import annotations

import numpy as np

from theory.errors import SpecbiasError
from theory.fit import fit_exponent


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.6))
    return ax


def _log_variance(ds):
    return ds["log_variance"] if "log_variance" in ds else np.log(ds["generated_variance"])


def _colours(ax, lam):
    """One colour per mode from λ (log scale), with the colour key as a colorbar labelled λ."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    norm = LogNorm(float(lam.min()), float(lam.max()))
    sm = plt.cm.ScalarMappable(cmap="viridis", norm=norm)
    ax.figure.colorbar(sm, ax=ax, label="λ (data variance)")
    return [sm.to_rgba(v) for v in lam]


def variance(ds, ax=None):
    """Generated variance λ̃_k(τ)/λ_k of every mode over τ (closed form), colour = λ; dashed: target."""
    ax = _axes(ax)
    lam, tau = ds["lam"].values, ds["tau"].values
    lv = _log_variance(ds).values
    for k, c in enumerate(_colours(ax, lam)):
        ax.plot(tau, np.exp(lv[k]) / lam[k], color=c, lw=1)
    ax.axhline(1.0, color="k", ls="--", lw=0.7)
    ax.set(xscale="log", yscale="log", xlabel="τ (gradient-flow time ητ)", ylabel="λ̃ / λ",
           title=f"{ds.attrs.get('arch', '')}: generated variance")
    return ax


def emergence(ds, ax=None, criterion: str = "geometric"):
    """τ* against λ (exact), with the fitted power law drawn over the fitted modes' λ range only."""
    ax = _axes(ax)
    lam, ts = ds["lam"].values, ds[f"tau_star_{criterion}"].values
    v0 = float(ds.attrs["v0"])
    ax.loglog(lam, ts, "o", ms=4, label=f"closed form ({criterion})")
    for direction, fit in fit_exponent(lam, np.where(np.isfinite(ts), ts, np.nan), v0).items():
        sel = (v0 < lam) if direction == "increasing" else (v0 > lam)
        sel &= np.isfinite(ts)
        if fit.n >= 2 and np.isfinite(fit.alpha):
            x = np.geomspace(lam[sel].min(), lam[sel].max(), 20)
            ax.loglog(x, fit.a * x ** -fit.alpha, "-", lw=1, label=f"fit {direction}: α = {fit.alpha:.3f}")
    ax.set(xlabel="λ (data variance)", ylabel="τ* (ητ)", title=f"{ds.attrs.get('arch', '')}: emergence")
    ax.legend(fontsize=7, loc="best")
    return ax


def weights(ds, ax=None):
    """The closed form's per-mode gain ψ_k(τ) at the report's level (σ = 1, or t = 1/2), colour = λ."""
    ax = _axes(ax)
    lam, tau, w = ds["lam"].values, ds["tau"].values, ds["weight"].values
    w = w if w.ndim == 2 else w[..., -1]
    for k, c in enumerate(_colours(ax, lam)):
        ax.plot(tau, w[k], color=c, lw=1)
    ax.set(xscale="log", xlabel="τ (gradient-flow time ητ)", ylabel="gain ψ_k",
           title=f"{ds.attrs.get('arch', '')}: per-mode gain")
    return ax


def agreement(ds, ax=None, level: int | None = None):
    """Trained gains (points) against the closed form on the training grid (lines) at one level (by index,
    default the middle one), colour = λ; needs a report dataset with a training run."""
    ax = _axes(ax)
    if "trained_gains" not in ds:
        raise SpecbiasError(f"{ds.attrs.get('arch', 'this dataset')} has no training run (no trained_gains)")
    lev = [d for d in ds["trained_gains"].dims if d not in ("tau_trained", "mode_trained")][0]
    j = ds.sizes[lev] // 2 if level is None else level
    tau = ds["tau_trained"].values
    t = np.where(tau > 0, tau, np.nan)
    lam = ds["lam_trained"].values
    for k, c in enumerate(_colours(ax, lam)):
        ax.plot(t, ds["theory_gains_trained_grid"].values[:, j, k], color=c, lw=1)
        ax.plot(t, ds["trained_gains"].values[:, j, k], "o", color=c, ms=3)
    ax.set(xscale="log", xlabel="τ (gradient-flow time ητ)", ylabel="gain ψ_k",
           title=f"trained (points) vs closed form (lines), {lev} = {float(ds[lev][j]):.3g}")
    return ax
