"""The figures of an agreement report (verify.report.figures draws them): theory lines for every architecture,
trained-model points on top where the architecture declares a torch model and was trained."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import theory
from verify.agreement import sampling_range
from verify.report import data as R
from verify.report import document as doc
from verify.report import figures


def _weight_panel(r) -> dict:
    """ψ_k(τ) at the natural level: on the trained modes (with the trained gains) where there is a run."""
    run = r.run
    title = f"{r.name} ({'σ' if r.level == 1.0 else 't'} = {r.level:g})"
    if run is None:
        return {"title": title + ", not trained", "tau": r.tau, "lam": r.lam, "theory": r.weights}
    lev = int(np.argmin(np.abs(run.levels - r.level)))
    arch, kw = theory.get(r.name), run.meta.get("theory_params", {})
    if arch.coupled:  # the last axis is one whole spectrum: keep it last, times down the first axis
        th = arch.weight(run.lam[None, :], run.levels[lev], r.tau[:, None], Q=0.1, **kw).T
    else:
        th = arch.weight(run.lam[:, None], run.levels[lev], r.tau[None, :], Q=0.1, **kw)
    return {"title": title + f", trained d={run.lam.size}", "tau": r.tau, "lam": run.lam, "theory": th,
            "tau_meas": run.tau, "meas": run.gains[:, lev, :].T}


def _variance_panel(r) -> dict:
    """λ̃_k(τ) against the target: on the trained modes (with the exact measurement) where there is a run."""
    run = r.run
    if run is None:
        return {"title": f"{r.name}, not trained", "tau": r.tau, "lam": r.lam,
                "theory": np.exp(r.log_variance), "target": r.lam}
    lt = np.exp(theory.get(r.name).log_generated_variance(run.lam[None, :], r.tau[:, None], Q=0.1,
                                                          **run.meta.get("theory_params", {}))).T
    return {"title": f"{r.name}, trained d={run.lam.size}", "tau": r.tau, "lam": run.lam, "theory": lt,
            "tau_meas": run.tau, "meas": np.exp(r.agreement.measured_log_variance).T, "target": run.lam}


def _emergence_panel(r) -> dict:
    p = {"title": f"{r.name} on {r.dataset}", "lam": r.lam, "tau_star": r.tau_star["geometric"],
         "fit": r.fits["geometric"]["increasing"], "v0": r.v0}
    if r.run is not None:
        p.update(lam_meas=r.run.lam, tau_meas=r.measured_tau_star, tau_theory_meas=_trained_theory_tau_star(r))
    return p


def _trained_theory_tau_star(r) -> np.ndarray:
    """Exact τ* of the closed form for the trained run's own modes, size parameters and σ range."""
    run = r.run
    return theory.emergence_time(r.name, run.lam, Q=run.meta["Q"], **sampling_range(run),
                                 **run.meta.get("theory_params", {}))


def figure_blocks(results, out: Path) -> list:
    """Write every figure into `out`; return the report blocks that show them."""
    blocks = []
    figures.trajectories(out / "weights.png", [_weight_panel(r) for r in results], "gain ψ",
                         "Per-mode weight trajectories")
    blocks.append(doc.figure("weights.png", "Per-mode gain ψ_k at σ = 1 (t = 1/2 for flow matching): "
                             "theory lines, trained torch model as circles (training-size data)."))
    figures.trajectories(out / "variance.png", [_variance_panel(r) for r in results], "generated variance λ̃",
                         "Generated variance vs τ", log_y=True)
    blocks.append(doc.figure("variance.png", "Generated variance λ̃_k(τ): closed form (lines), exact "
                             "measurement of the trained model (circles), target λ_k (dotted)."))
    figures.emergence(out / "emergence.png", [_emergence_panel(r) for r in results])
    blocks.append(doc.figure("emergence.png", "Emergence time τ* vs λ (geometric criterion, exact v₀, "
                             "Q = 0.1) with the least-squares fit over increasing modes outside the gray "
                             "zone (grey dots: excluded); circles: trained model from its checkpoints, "
                             "crosses: theory for the trained configuration (its size and σ grid)."))
    for r in results:
        order = np.argsort(-r.lam)
        ratio = np.exp(r.log_variance[order]) / r.lam[order, None]
        figures.heatmap(out / f"heatmap_{r.name}.png", r.lam[order], r.tau, ratio,
                        r.tau_star["geometric"][order], f"{r.name}: log10 λ̃/λ on {r.dataset}")
        blocks.append(doc.figure(f"heatmap_{r.name}.png", f"{r.name}: λ̃/λ over modes × τ, emergence marked."))
    spec_panels = []
    for r in results:
        arch = theory.get(r.name)
        for label, lam in r.departure_sets.items():
            spec_panels.append({"title": f"{r.name}: {label}", "target": lam,
                                "converged": arch.generated_variance(lam, 1e12, Q=0.1,
                                                                     **R.sized(arch, len(lam)))})
    figures.spectra(out / "departure.png", spec_panels)
    blocks.append(doc.figure("departure.png", "Converged generated spectrum (τ → ∞) against the target on "
                             "each data set: a local convolution cannot reach it."))
    return blocks
