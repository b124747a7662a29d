"""Figures of the report's "Local convolution" section (matplotlib, Agg, deterministic)."""
from __future__ import annotations

import numpy as np

from verify.report.figures import _colors, _grid, _save, plt


def tau_star_panels(path, panels: list[dict]) -> None:
    """Per panel (a basis): τ* vs the data variance along each vector, one marker series per model.
    panel = {"title", "series": [(label, lam, tau_star)]}."""
    fig, axes = _grid(len(panels))
    for ax, p in zip(axes, panels):
        for (label, lam, ts), c in zip(p["series"], _colors(len(p["series"]))):
            ok = np.isfinite(ts)
            ax.loglog(lam[ok], ts[ok], "o", ms=3, color=c, label=label, alpha=0.8)
        ax.set_xlabel("data variance along the vector λ")
        ax.set_ylabel("τ* (geometric)")
        ax.set_title(p["title"], fontsize=9)
        ax.legend(fontsize=6)
    _save(fig, path)


def bars(path, groups: list[str], series: dict, ylabel: str, title: str, line: float | None = None) -> None:
    """Grouped bars: series = {label: [value per group]}; an optional horizontal reference line."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(groups)), 3.2))
    width = 0.8 / max(1, len(series))
    for i, ((label, vals), c) in enumerate(zip(series.items(), _colors(len(series)))):
        ax.bar(np.arange(len(groups)) + i * width, vals, width, label=label, color=c)
    if line is not None:
        ax.axhline(line, color="k", ls="--", lw=0.8)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
    ax.set_xticklabels(groups, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, ncol=3)
    _save(fig, path)


def heatmaps(path, panels: list[dict]) -> None:
    """log10 λ̃/λ over (vector, τ) with τ* marked; panel = {"title", "lam", "tau", "ratio", "tau_star"}."""
    fig, axes = _grid(len(panels))
    for ax, p in zip(axes, panels):
        im = ax.pcolormesh(p["tau"], np.arange(p["lam"].size), np.log10(p["ratio"]), cmap="RdBu_r",
                           vmin=-4, vmax=4, shading="auto")
        ax.plot(p["tau_star"], np.arange(p["lam"].size), "k.", ms=2)
        _tau_map(fig, ax, im, "PC index (λ descending)", p["title"], "log10 λ̃/λ")
    _save(fig, path)


def _tau_map(fig, ax, im, ylabel, title, bar_label) -> None:
    ax.set_xscale("log")
    ax.set_xlabel("τ")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label=bar_label)


def mechanism(path, lam, bar, tau, traj, thresholds, picks) -> None:
    """Left: shift-averaged target uᵀΣ̄u vs λ_u = uᵀΣu per PC. Right: λ̃_u(τ) of the convolution for a
    few PCs with their thresholds √(v₀λ_u) (dashed): the same rise, crossed at nearly the same τ."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    keep = lam >= 1e-6 * lam.max()  # constant pixels (λ ≈ 0) left out
    a.loglog(lam[keep], bar[keep], "o", ms=3)
    lo, hi = lam[keep].min(), lam.max()
    a.loglog([lo, hi], [lo, hi], "k--", lw=0.8, label=r"$u^\top\bar{\Sigma}u = \lambda_u$ (stationary data)")
    a.set_xlabel(r"$\lambda_u = u^\top\Sigma u$ (data PC variance)")
    # mathtext: the combining macron of "Σ̄" is dropped by the default font, which printed uᵀΣu
    a.set_ylabel(r"$u^\top\bar{\Sigma}u$ (shift-averaged)")
    a.legend(fontsize=7)
    for k, c in zip(picks, _colors(len(picks))):
        b.loglog(tau, traj[:, k], color=c, label=f"PC {k}: λ = {lam[k]:.2g}")
        b.axhline(thresholds[k], color=c, ls="--", lw=0.8)
    b.set_xlabel("τ")
    b.set_ylabel("λ̃ along the PC (conv2d)")
    b.legend(fontsize=6)
    _save(fig, path)


def errorbars(path, xs, series: dict, xlabel: str, ylabel: str, title: str) -> None:
    """series = {label: (values, lo, hi)} against xs, with CI bars."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for i, ((label, (v, lo, hi)), c) in enumerate(zip(series.items(), _colors(len(series)))):
        x = np.asarray(xs, float) + 0.08 * i
        ax.errorbar(x, v, yerr=[np.asarray(v) - lo, np.asarray(hi) - v], fmt="o-", color=c, label=label,
                    capsize=3)
    ax.axhline(1.0, color="k", ls=":", lw=0.8)
    ax.axhline(0.0, color="k", ls="-", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, path)


def sigma_tau_map(path, panels: list[dict]) -> None:
    """Relative error heatmaps over (σ, τ); panel = {"title", "sigma", "tau", "err"[σ, τ]}."""
    fig, axes = _grid(len(panels))
    for ax, p in zip(axes, panels):
        im = ax.pcolormesh(p["tau"], p["sigma"], p["err"], cmap="viridis", vmin=0, vmax=1, shading="auto")
        ax.set_yscale("log")
        _tau_map(fig, ax, im, "σ", p["title"], "‖W − best P×P conv‖/‖W‖")
    _save(fig, path)
