"""Figures of the spiked report (Weitzner et al., arXiv 2410.14730): theory as lines, simulation as points
(matplotlib, Agg, deterministic)."""
from __future__ import annotations

import numpy as np

from verify.report.figures import _colors, _save, plt


def overlap(path, res: dict) -> None:
    """α² and μ̂/s² vs s²/s_c² for several γ (rank 1) and a rank-2 panel."""
    curves = res["curves"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    cols = _colors(len(curves))
    for c, col in zip(curves, cols):
        lam = c["lam"]
        for j, l in enumerate(lam):
            sc = float(l * np.sqrt(1 / c["gamma"]))
            ax = axes[2] if lam.size > 1 else axes[0]
            label = f"γ = {c['gamma']:.3g}" + (f", λ = {l:g}" if lam.size > 1 else "")
            ax.plot(c["dense"] / sc, c["overlap_th"][:, j], color=col if lam.size == 1 else plt.cm.tab10(j),
                    label=label)
            win = c["in_window"][:, j]
            kw = dict(color=col if lam.size == 1 else plt.cm.tab10(j), ls="none", ms=5, capsize=2)
            ax.errorbar(c["s2"][~win] / sc, c["overlap_mc"][~win, j], c["overlap_se"][~win, j], fmt="o", **kw)
            ax.errorbar(c["s2"][win] / sc, c["overlap_mc"][win, j], c["overlap_se"][win, j], fmt="o", mfc="none", **kw)
            if lam.size == 1:
                axes[1].plot(c["dense"] / sc, c["top_th"][:, 0] / c["dense"], color=col, label=label)
                axes[1].plot(c["s2"] / sc, c["top_mc"][:, 0] / c["s2"], "o", color=col, ms=5)
    for ax, yl, t in ((axes[0], "squared overlap α²", f"rank 1, d = {res['d']}"),
                      (axes[1], "top eigenvalue μ̂ / s²", "top sample eigenvalue (noise units)"),
                      (axes[2], "squared overlap α²", "rank 2 (λ = 4, 1): translates in log s²")):
        ax.set_xscale("log")
        ax.axvline(1.0, color="0.6", ls=":", lw=1)
        ax.set_xlabel("s² / s_c²(λ_min)" if ax is axes[2] else "s² / s_c²")
        ax.set_ylabel(yl)
        ax.set_title(t, fontsize=9)
        ax.legend(fontsize=7)
    axes[1].set_yscale("log")
    fig.suptitle("Spiked model: limits (lines) vs Monte Carlo means ± s.e. over 16 draws (open: threshold window)",
                 fontsize=10)
    _save(fig, path)


def jacobian(path, res: dict) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for j, l in enumerate(res["lam"]):
        col = plt.cm.tab10(j)
        ax.plot(res["dense"], res["theory"][:, j], color=col, label=f"α²(s²), λ = {l:g}")
        ax.plot(res["s2"], res["noisy"][:, j], "o", color=col, ms=5, label=f"Jacobian of noisy-PCA D, PC {j + 1}")
        ax.plot(res["s2"], res["wiener"][:, j], "x", color=col, ms=5, label=f"Jacobian of Ŝ(Ŝ+σ²)⁻¹, PC {j + 1}")
    ax.set_xscale("log")
    ax.set_xlabel("noise variance σ²")
    ax.set_ylabel("⟨v_j, u_j⟩² (Jacobian eigvec vs data PC)")
    ax.set_title(f"Jacobian alignment, one training set: d = {res['d']}, n = {res['n']}", fontsize=9)
    ax.legend(fontsize=6)
    _save(fig, path)


def fixation(path, res: dict) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    lo = min(v["lam"].min() for v in res.values())
    hi = max(v["lam"].max() for v in res.values())
    grid = np.geomspace(lo, hi, 100)
    from theory.spiked.chains import fixation_noise

    ax.plot(grid, fixation_noise(grid), color="k", lw=1, label="theory (μ + s_min²)/r² − μ, r = 1/√2")
    for (name, v), m in zip(res.items(), "osd"):
        ax.plot(v["lam"], v["measured"], m, ms=4, mfc="none", label=f"Heun, {name}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("eigenvalue μ_k")
    ax.set_ylabel("fixation noise variance s_k²")
    ax.set_title("Order of fixation: high-variance modes fix first (at larger noise)", fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, path)


def chains(path, res: dict) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    k = np.arange(1, res["mu"].size + 1)
    iT = list(res["T"]).index(256)
    ax = axes[0]
    ax.semilogy(k, np.exp(res["log_r1"][iT]), "o-", ms=3, label="R1 one-step MMSE")
    ax.semilogy(k, np.exp(res["log_pf"][iT]), "s-", ms=3, label="PF-ODE (Heun)")
    ax.semilogy(k, np.exp(res["log_r2"][iT] - res["log_r2"][iT, 0]), "^-", ms=3, label="R2 repeated Wiener, G_i/G_0")
    v = res["noisy_theory"]
    ax.semilogy(k, v / v[0], "-", color="0.4", label="noisy R2 variance / top (theory)")
    if res["noisy_measured"] is not None:
        m = res["noisy_measured"]
        ax.semilogy(k, m / m[0], "x", color="0.4", ms=4, label="noisy R2, simulated")
    ax.set_ylim(1e-30, 2)
    ax.set_xlabel("mode k of Ŝ (μ descending)")
    ax.set_ylabel("per-mode factor (relative)")
    ax.set_title(f"T = 256, S² = {res['S2']:g}, Ŝ from n = {res['n']} (d = {res['d']})", fontsize=9)
    ax.legend(fontsize=6)
    ax = axes[1]
    ax.semilogx(res["T"], res["overlap_r2"], "^-", label="R2 (normalised)")
    ax.semilogx(res["T"], res["overlap_pf"], "s-", label="PF-ODE")
    ax.set_xlabel("chain length T")
    ax.set_ylabel("|⟨P x, v_0⟩| / ‖P x‖")
    ax.set_title("collapse onto the leading eigenvector of Ŝ", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[2]
    ax.plot(res["T"], res["log_r2"][:, 1] - res["log_r2"][:, 0], "o", label="measured log(G_1/G_0)")
    T = np.asarray(res["T"], float)
    c = (res["log_r2"][-1, 1] - res["log_r2"][-1, 0]) + res["kappa_plugin"] * T[-1]
    ax.plot(T, c - res["kappa_plugin"] * T, "-", label=f"−κT + c, κ(Ŝ) = {res['kappa_plugin']:.4g}")
    ax.set_xlabel("chain length T")
    ax.set_ylabel("log(G_1/G_0)")
    ax.set_title("power-iteration rate", fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, path)


def clocks(path, res: dict) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    lam = res["lam"]
    ax.loglog(lam, res["tau_star"], "o-", color="C0", label="training time τ* (linear, Q = 0.1, geometric)")
    ax.set_xlabel("eigenvalue λ")
    ax.set_ylabel("training time τ*", color="C0")
    ax2 = ax.twinx()
    for (g, sc), ls in zip(res["s2_c"].items(), (":", "-", "--")):
        ax2.loglog(lam, sc, ls, color="C3", label=f"learnability s_c² = λ√(n/d), γ = {g:g}")
    ax2.loglog(lam, res["s2_fix"], "-", color="C2", label="fixation s_fix² (theory, r = 1/√2)")
    ax2.loglog(res["fix_lam_meas"], res["fix_meas"], "x", color="C2", ms=4, label="fixation, Heun (1/k² data)")
    ax2.set_ylabel("noise variance", color="C3")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=6, loc="upper center")
    ax.set_title("Three clocks: high-variance modes are learned first, learnable at more noise, fixed first",
                 fontsize=8)
    _save(fig, path)


def kl(path, res: dict) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    cols = _colors(len(res["n"]))
    for n, col, dk, tk, e in zip(res["n"], cols, res["data"], res["train"], res["endpoint"]):
        axes[0].loglog(res["tau"], dk, color=col, label=f"n = {n}")
        axes[0].axhline(e, color=col, ls="--", lw=0.8)
        axes[1].loglog(res["tau"], tk, color=col, label=f"n = {n}")
    axes[0].set_title("KL(generated ‖ data), mean of draws; dashed: E KL of N(μ̂, Ŝ) (Wishart)", fontsize=8)
    axes[1].set_title("KL(generated ‖ training-set Gaussian N(μ̂, Ŝ))", fontsize=8)
    for ax in axes:
        ax.set_xlabel("training time τ")
        ax.set_ylabel("KL")
        ax.legend(fontsize=7)
    _save(fig, path)
