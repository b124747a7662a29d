"""Figures of the nonlinear-network report, in the first paper's style (matplotlib, Agg, deterministic):
variance trajectories per mode, a mode × checkpoint heatmap with emergence dots and the gray zone,
τ* against λ with the fits and the linear theory, and sample grids for image data."""
from __future__ import annotations

import numpy as np

from theory.fit import in_gray_zone
from verify.report.figures import _save, plt


def trajectories(path, tau, var, lam, title: str) -> None:
    """λ̃_k(τ)/λ_k per mode over τ (checkpoint 0, τ = 0, drawn at the first positive τ / 3)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    t = np.where(tau > 0, tau, tau[1] / 3 if tau.size > 1 else 1.0)
    colors = plt.cm.viridis(np.linspace(0, 0.95, lam.size))
    order = np.argsort(lam)
    for c, k in zip(colors, order):
        ax.plot(t, var[:, k] / lam[k], color=c, lw=0.8)
    ax.axhline(1.0, color="k", lw=0.6, ls="--")
    ax.set(xscale="log", yscale="log", xlabel="τ = steps × lr (τ = 0 at the left edge)",
           ylabel="generated variance / λ", title=title)
    sm = plt.cm.ScalarMappable(cmap="viridis", norm=plt.matplotlib.colors.LogNorm(lam.min(), lam.max()))
    fig.colorbar(sm, ax=ax, label="λ")
    _save(fig, path)


def heatmap(path, tau, var, lam, tau_star, gray, title: str) -> None:
    """ln(λ̃/λ) over (checkpoint, mode sorted by λ), emergence times as dots, gray-zone modes (v₀/λ in the
    gray zone, excluded from the fits) shaded."""
    order = np.argsort(lam)[::-1]
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    z = np.log(var[:, order] / lam[order]).T
    lim = np.nanmax(np.abs(z))
    ax.imshow(z, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, origin="upper",
              extent=(-0.5, tau.size - 0.5, lam.size - 0.5, -0.5))
    pos = np.interp(np.log(np.where(np.isfinite(tau_star), tau_star, np.nan)[order]),
                    np.log(tau[1:]), np.arange(1, tau.size))
    ax.plot(pos, np.arange(lam.size), "k.", ms=3, label="τ* (geometric)")
    for i in np.nonzero(gray[order])[0]:
        ax.axhspan(i - 0.5, i + 0.5, color="0.6", alpha=0.5, lw=0,
                   label="gray zone" if i == np.nonzero(gray[order])[0][0] else None)
    ax.set(xlabel="checkpoint index (log-spaced steps)", ylabel="mode (λ descending)", title=title)
    ax.legend(loc="lower left", fontsize=7)
    _save(fig, path)


def _segments(x, y, mask):
    """Runs of consecutive True in `mask` (x sorted): one line per run, so a curve never bridges a gap."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return [(x[a:b], y[a:b]) for a, b in zip(edges[::2], edges[1::2])]


def tau_star(path, lam, ts, fits, ref, factor, v0, v0_lin, gray_zone, title: str) -> None:
    """τ* against λ: increasing and decreasing modes outside the gray zone with their fits, gray-zone
    modes as crosses, and the linear theory (its own v₀) scaled by the fitted time-scale factor, drawn
    per direction outside ITS gray zone."""
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    r = v0 / lam
    gray = in_gray_zone(v0, lam, gray_zone)
    for name, sel, mark in (("increasing", ~gray & (r < 1), "o"), ("decreasing", ~gray & (r > 1), "s")):
        line, = ax.loglog(lam[sel], ts[sel], mark, ms=4, label=f"{name} (N = {int(sel.sum())})")
        fit = fits[name]
        if np.isfinite(fit.alpha) and sel.sum() >= 2:
            x = np.geomspace(lam[sel].min(), lam[sel].max(), 20)
            ax.loglog(x, fit.a * x ** (-fit.alpha), "-", color=line.get_color(),
                      label=f"fit α = {fit.alpha:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
    ax.loglog(lam[gray], ts[gray], "x", ms=4, color="0.5", label="gray zone (excluded)")
    if np.isfinite(factor):
        order = np.argsort(lam)
        x, y = lam[order], factor * np.asarray(ref)[order]
        ok = ~in_gray_zone(v0_lin, x, gray_zone) & np.isfinite(y)
        for i, (a, b) in enumerate(_segments(x, y, ok)):
            ax.loglog(a, b, "k--", lw=0.8, label=f"linear theory × {factor:.3g}" if i == 0 else None)
    ax.set(xlabel="λ", ylabel="τ* (geometric)", title=title)
    ax.legend(fontsize=6)
    _save(fig, path)


def samples(path, tau, snaps, shape, title: str, columns: int = 6) -> None:
    """Generated samples (the same latents) at `columns` checkpoints, tiled into one image: rows =
    samples, columns = τ."""
    J = snaps.shape[0]
    cols = np.unique(np.round(np.geomspace(1, J, min(columns, J)) - 1).astype(int))
    rows = min(4, snaps.shape[1])
    h, w = shape[-2], shape[-1]
    tiles = snaps[cols][:, :rows].reshape(cols.size, rows, h, w)
    pad = np.pad(tiles, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=np.nan)
    mosaic = pad.transpose(1, 2, 0, 3).reshape(rows * (h + 2), cols.size * (w + 2))
    fig, ax = plt.subplots(figsize=(1.1 * cols.size + 0.4, 1.1 * rows + 0.6))
    ax.imshow(mosaic, cmap="gray")
    ax.set_xticks((np.arange(cols.size) + 0.5) * (w + 2) - 0.5, [f"{tau[j]:.2g}" for j in cols], fontsize=7)
    ax.set_yticks([])
    ax.set(xlabel="τ", title=title)
    _save(fig, path)
