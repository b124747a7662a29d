"""`specbias report --preset nonlinear`: do real networks follow the inverse-variance law?

Trains, with the paper's EDM protocol (PROTOCOLS §1) and CRN checkpoint measurement, an MLP-UNet-style
network on the Gaussian log-normal spectrum (the paper: α ≈ 1, "follows") and a small convolutional
U-Net on the 8×8 digits measured along their principal components (the paper: near-simultaneous
emergence, "departs"), fits the exponents with CIs that include the Monte-Carlo error, classifies each
against the linear theory on the same spectrum, and says plainly where the result contradicts the paper.
Runs are saved under runs/<name>/ (numerics.run.Run, reloadable) next to report.md/.html/.json.
Sized for < 10 min on 2 CPU cores.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory import output
from theory import validate as V

from . import document as doc
from . import figures_nonlinear as F
from . import nonlinear as NL


@dataclass(frozen=True)
class Experiment:
    name: str
    net: str
    data: str  # "lognormal" (Gaussian, d) or "digits"
    d: int
    paper: str  # what the paper reports for this kind of network: "follows" or "departs"
    net_options: dict = field(default_factory=dict)
    protocol_options: dict = field(default_factory=dict)
    steps: int = 3000
    checkpoints: int = 36
    n_samples: int = 2000
    #: 40, not the paper's 20: at the optimal denoiser 20 Heun steps overstate the generated variance by
    #: 5–10% (40 steps: ≤ 2.4%; tests/test_nonlinear.py measures it), which alone would trip the
    #: classifier's 10% target rule for the small modes
    heun_steps: int = 40


EXPERIMENTS = (
    Experiment("mlp-gaussian-d64", "mlp", "lognormal", 64, "follows",
               {"width": 128, "depth": 3}, {"lr": 5e-4, "batch": 256}),
    Experiment("unet-digits", "unet", "digits", 64, "departs",
               {"channels": (8, 16), "kernel": 3}, {"lr": 5e-4, "batch": 256}, n_samples=1000),
)


def _data(exp: Experiment, seed: int):
    from numerics import data

    if exp.data == "digits":
        return data.digits()
    return data.gaussian(exp.d, exp.data, seed=seed)


def run_experiment(exp: Experiment, folder: Path, seed: int, progress: bool):
    from numerics.train_net import train_net

    ds = _data(exp, seed)
    run = train_net(exp.net, ds, "edm", steps=exp.steps, checkpoints=exp.checkpoints,
                    net_options=exp.net_options, protocol_options=exp.protocol_options,
                    n_samples=exp.n_samples, heun_steps=exp.heun_steps, seed=seed,
                    out=folder / "runs" / exp.name, progress=progress)
    em = NL.emergence(run)
    return run, em, NL.compare(run, em=em)


def _fit_text(f) -> str:
    if f.n < 2 or not np.isfinite(f.alpha):
        return f"– (N = {f.n})"
    return (f"{f.alpha:.3f} [{f.ci[0]:.3f}, {f.ci[1]:.3f}] (fit [{f.ci_fit[0]:.3f}, {f.ci_fit[1]:.3f}], "
            f"MC [{f.ci_mc[0]:.3f}, {f.ci_mc[1]:.3f}], N = {f.n})")


def _figures(exp, run, em, cmp, tmp: Path) -> list:
    tau, var, lam = run.tau, run.var_eigen, run.lam_eigen
    gray = ~NL.fitted_modes(var[0], lam)
    geo = em["geometric"]
    names = [f"{exp.name}-{k}.png" for k in ("trajectories", "heatmap", "taustar")]
    F.trajectories(tmp / names[0], tau, var, lam, f"{exp.name}: variance per mode")
    F.heatmap(tmp / names[1], tau, var, lam, geo["tau_star"], gray, f"{exp.name}: ln(λ̃/λ)")
    F.tau_star(tmp / names[2], lam, geo["tau_star"], geo["fits"]["increasing"],
               cmp["reference_tau_star"]["geometric"], cmp["time_scale"]["geometric"]["factor"], gray,
               f"{exp.name}: τ* vs λ")
    if len(run.meta["data"]["shape"]) == 3:
        names.append(f"{exp.name}-samples.png")
        F.samples(tmp / names[-1], tau, run.samples, run.meta["data"]["shape"], f"{exp.name}: samples (CRN)")
    return [doc.figure(n, n.removesuffix('.png')) for n in names]


def _section(exp, run, em, cmp) -> tuple[list, dict]:
    m, flag = run.meta, cmp["flag"]
    verdict = flag.classification
    agrees = verdict.startswith("follows") == (exp.paper == "follows")
    blocks = [doc.h2(exp.name),
              doc.p(f"{exp.net} ({m['parameters']:,} parameters, {m['net_config']}) on {m['data']['name']} "
                    f"(d = {m['data']['d']}); protocol {m['protocol']['name']}: {m['protocol']['optimizer']} "
                    f"lr {m['protocol']['lr']:g}, batch {m['protocol']['batch']}, σ_d = "
                    f"{m['protocol']['sigma_data']:g}, {int(run.steps[-1])} steps; clock: "
                    f"{m['protocol']['clock']}. Sampler: {m['sampler']['n_samples']} samples × "
                    f"{m['sampler']['heun_steps']} Heun steps, common random numbers, no final denoising step. "
                    f"Wall: train {m['train_s']:.0f} s, sample {m['sample_s']:.0f} s."),
              doc.table([["criterion", "α increasing [95% CI]", "α decreasing", "linear theory α ± band"]]
                        + [[c, _fit_text(e["fits"]["increasing"]), _fit_text(e["fits"]["decreasing"]),
                          (f"{cmp['linear_fit'][c]['alpha']:.3f} → [{cmp['exponent_range'][c][0]:.2f}, "
                           f"{cmp['exponent_range'][c][1]:.2f}]") if c in cmp["exponent_range"] else "–"]
                         for c, e in em.items()]),
              doc.p(f"Classification against the one-layer linear theory at Q = {cmp['Q_effective']:.3f} "
                    f"(its exact τ = 0 variance equals the network's median measured one): **{verdict}** — "
                    f"{flag.reason}. Time-scale factor (geometric, fitted modes): "
                    f"{cmp['time_scale']['geometric']['factor']:.3g} "
                    f"[{cmp['time_scale']['geometric']['ci'][0]:.3g}, {cmp['time_scale']['geometric']['ci'][1]:.3g}], "
                    f"residual spread of ln τ* {cmp['time_scale']['geometric']['residual_sd']:.2f}; simultaneity "
                    f"index {getattr(flag, 'simultaneity', float('nan')):.2f} (std ln τ* / std ln λ over the "
                    f"emerging modes: 1 under the inverse law, 0 when all emerge at once)."),
              doc.p(f"The paper reports that this kind of network {exp.paper}; here it "
                    + ("agrees." if agrees else f"**contradicts the paper** (measured: {verdict}).")),
              ]
    table = {"experiment": exp.name, "paper": exp.paper, "classification": verdict, "reason": flag.reason,
             "agrees_with_paper": agrees, "Q_effective": cmp["Q_effective"],
             "simultaneity": getattr(flag, "simultaneity", float("nan")),
             "fits": {c: {d: f.as_dict() for d, f in e["fits"].items()} for c, e in em.items()},
             "linear_fit": cmp["linear_fit"], "exponent_range": cmp["exponent_range"],
             "time_scale": cmp["time_scale"], "meta": {k: m[k] for k in ("net", "net_config", "protocol",
                                                                           "sampler", "seeds", "train_s",
                                                                           "sample_s", "parameters")}}
    return blocks, table


def build(name: str = "nonlinear", seed: int = 0, out="reports", progress: bool = True) -> Path:
    """Train, measure, fit and write the nonlinear report into out/name (atomically, theory.output.Staged;
    name and folder checked before any training); returns the folder."""
    t0 = time.perf_counter()
    seed = V.seed(seed)
    output.prepare(out, name)
    with output.Staged(out, name) as tmp:
        blocks = [doc.h1("specbias report: nonlinear denoisers"),
                  doc.p("Do real networks follow the inverse-variance law τ* ∝ λ^−α, α ≈ 1? Each network is "
                        "trained with the paper's EDM protocol (log-normal σ, EDM weight and preconditioning, "
                        "Adam) and measured at log-spaced checkpoints with a fixed latent batch (CRN); v₀ is "
                        "the τ = 0 measurement before any step; emergence is the first crossing of the "
                        "geometric/harmonic/arithmetic mean of v₀ and λ, gray zone v₀/λ ∈ (0.5, 2) excluded; "
                        "CIs combine the regression CI and a bootstrap over generated samples.")]
        tables = []
        for exp in EXPERIMENTS:
            run, em, cmp = run_experiment(exp, tmp, seed, progress)
            sec, table = _section(exp, run, em, cmp)
            blocks += sec + _figures(exp, run, em, cmp, tmp)
            tables.append(table)
        blocks.append(doc.p(f"Total wall time {time.perf_counter() - t0:.0f} s, seed {seed}."))
        (tmp / "report.md").write_text(doc.to_markdown(blocks))
        (tmp / "report.html").write_text(doc.to_html(blocks, f"specbias report: {name}"))
        (tmp / "report.json").write_text(output.dumps({"preset": "nonlinear", "seed": seed, "experiments": tables},
                                                      indent=1, sort_keys=True))
    return Path(out) / name
