"""Figures of an agreement report, in the paper's style (matplotlib, Agg backend, deterministic).

Every function takes plain arrays and writes one PNG; theory is drawn as lines, training
measurements as points on top.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PNG = {"dpi": 110, "metadata": {"Software": None}}


def _grid(n: int):
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _colors(n: int):
    return plt.cm.viridis(np.linspace(0.0, 0.9, n))


def _save(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, **PNG)
    plt.close(fig)


def trajectories(path, panels: list[dict], ylabel: str, title: str, log_y: bool = False) -> None:
    """Small multiples: per panel, one theory line per mode over τ and optional measured points.

    panel = {"title", "tau", "lam", "theory"[mode, tau], optional "tau_meas", "meas"[mode, tau],
             optional "target"[mode]}."""
    fig, axes = _grid(len(panels))
    for ax, p in zip(axes, panels):
        colors = _colors(len(p["lam"]))
        for k, c in enumerate(colors):
            ax.plot(p["tau"], p["theory"][k], color=c, lw=1.2)
            if "meas" in p:
                ax.plot(p["tau_meas"], p["meas"][k], "o", color=c, ms=2.5, mfc="none")
            if "target" in p:
                ax.axhline(p["target"][k], color=c, ls=":", lw=0.6)
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_title(p["title"], fontsize=9)
        ax.set_xlabel("training time τ")
        ax.set_ylabel(ylabel)
    fig.suptitle(title + ("  (lines: theory, circles: trained torch model)"
                          if any("meas" in p for p in panels) else "  (theory)"), fontsize=10)
    _save(fig, path)


def emergence(path, panels: list[dict]) -> None:
    """τ* against λ on log–log axes with the fitted line, per panel.

    panel = {"title", "lam", "tau_star", "fit": Fit or None, optional "lam_meas", "tau_meas"}."""
    fig, axes = _grid(len(panels))
    for ax, p in zip(axes, panels):
        ok = np.isfinite(p["tau_star"])
        ratio = p.get("v0", 0.0) / p["lam"]
        gray = (ratio > 0.5) & (ratio < 2.0)
        ax.loglog(p["lam"][ok & ~gray], p["tau_star"][ok & ~gray], "k.", ms=4, label="exact τ*")
        if np.any(ok & gray):
            ax.loglog(p["lam"][ok & gray], p["tau_star"][ok & gray], ".", color="0.7", ms=4,
                      label="gray zone (excluded)")
        fit = p.get("fit")
        if fit is not None and fit.n >= 2:
            xs = np.geomspace(p["lam"][ok].min(), p["lam"][ok].max(), 20)
            ax.loglog(xs, fit.a * xs ** (-fit.alpha), "r-", lw=1,
                      label=f"α = {fit.alpha:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]")
        if "tau_meas" in p:
            okm = np.isfinite(p["tau_meas"])
            ax.loglog(p["lam_meas"][okm], p["tau_meas"][okm], "o", mfc="none", ms=5, color="tab:blue",
                      label="trained model")
        if "tau_theory_meas" in p:
            okt = np.isfinite(p["tau_theory_meas"])
            ax.loglog(p["lam_meas"][okt], p["tau_theory_meas"][okt], "x", ms=4, color="tab:blue",
                      label="theory, trained size")
        ax.set_title(p["title"], fontsize=9)
        ax.set_xlabel("mode variance λ")
        ax.set_ylabel("emergence time τ*")
        ax.legend(fontsize=7)
    fig.suptitle("Emergence time vs variance (geometric criterion, increasing modes; "
                 "gray zone excluded from the fit)", fontsize=10)
    _save(fig, path)


def heatmap(path, lam, tau, ratio, tau_star, title: str) -> None:
    """log10(λ̃/λ) over modes × τ with the emergence times marked."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    lim = float(np.nanmax(np.abs(np.log10(ratio))))
    im = ax.pcolormesh(tau, np.arange(len(lam)), np.log10(ratio), cmap="RdBu_r", vmin=-lim, vmax=lim,
                       shading="nearest")
    ok = np.isfinite(tau_star)
    ax.plot(tau_star[ok], np.arange(len(lam))[ok], "k.", ms=3, label="emergence τ*")
    ax.set_xscale("log")
    ax.set_xlabel("training time τ")
    ax.set_ylabel("mode (sorted by decreasing λ)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.colorbar(im, ax=ax, label="log10 λ̃/λ")
    _save(fig, path)


def spectra(path, panels: list[dict]) -> None:
    """Converged generated spectrum against the target, per panel (departure figure).

    panel = {"title", "target", "converged", optional "measured"}."""
    fig, axes = _grid(len(panels))
    for ax, p in zip(axes, panels):
        k = np.arange(len(p["target"]))
        ax.semilogy(k, p["target"], "k-", lw=1, label="target")
        ax.semilogy(k, p["converged"], "r--", lw=1, label="theory, τ → ∞")
        if "measured" in p:
            ax.semilogy(k, p["measured"], "o", mfc="none", ms=3, label="trained model")
        ax.set_title(p["title"], fontsize=8)
        ax.set_xlabel("mode index")
        ax.set_ylabel("variance")
        ax.legend(fontsize=7)
    fig.suptitle("Converged generated spectrum vs target", fontsize=10)
    _save(fig, path)
