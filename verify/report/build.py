"""`specbias report`: the agreement report across every registered architecture (the main job).

Writes reports/<name>/: report.md, report.html, PNG figures, report.json (strict JSON: NaN is null)
and data.npz (arrays), and the `.specbias` marker. Deterministic for a given seed; written to a
temporary folder and renamed into place, so an interrupted run leaves no half-written report, and only
a folder specbias wrote is ever replaced (theory.output).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

import theory
from theory import output
from theory import validate as V
from theory.errors import SpecbiasError
from verify.localconv import report as report_localconv
from verify.report import data as R
from verify.report import document as doc
from verify.report.figure_blocks import figure_blocks as _figures
from verify.setups import data_kind, report_data
from verify.tolerances import tol


def compute(archs, preset: R.Preset, seed: int, progress: bool = True) -> list[R.ArchResult]:
    data_sets = {}  # per data kind, built once (verify.setups.report_data decides them)
    results = []
    bar = tqdm(total=3 * len(archs), desc="specbias report", disable=not progress, unit="step")
    for name in archs:
        arch = theory.get(name)
        kind = data_kind(arch)
        if kind not in data_sets:
            data_sets[kind] = report_data(arch, preset.d, preset.train_d, seed)
        ds = data_sets[kind]
        bar.set_postfix_str(f"{name}: theory")
        res = R.theory_result(name, ds["theory"][0], ds["theory"][1], preset)
        R.exponent_table(res)
        R.departures(res, ds["departure"])
        bar.update(2)
        bar.set_postfix_str(f"{name}: training")
        R.train_and_compare(res, ds["train"], preset, seed)
        bar.update(1)
        results.append(res)
    bar.close()
    return results


def _fmt(x, spec=".3g") -> str:
    return "–" if x is None or not np.isfinite(x) else format(x, spec)


def _fit_cell(fit) -> str:
    return "–" if fit.n < 2 else f"{fit.alpha:.3f} [{_fmt(fit.ci[0])}, {_fmt(fit.ci[1])}] (N={fit.n})"


def _tables(results, preset) -> list:
    blocks = [doc.h2("Agreement: theory vs trained torch models")]
    rows = [["architecture", "data", "mode", "worst |Δψ|", "tolerance", "worst |Δ ln λ̃|", "tolerance", "result"]]
    for r in results:
        if r.agreement is None:
            rows.append([r.name, "–", "–", "–", "–", "–", "–", f"skipped: {r.untrained}"])
            continue
        s = r.agreement.summary()
        rows.append([r.name, s["dataset"], s["mode"], _fmt(s["worst_weight_error"]),
                     _fmt(s["weight_tolerance"]["abs"]), _fmt(s["worst_log_variance_error"]),
                     _fmt(s["log_variance_tolerance"]["abs"]), "pass" if s["ok"] else "FAIL"])
    blocks.append(doc.table(rows))
    blocks.append(doc.p(f"Tolerances (verify/tolerances.py) — weights: {tol('trajectory-gd-bound').reason}; "
                        "each run's own bound is the tolerance column. Generated variance: "
                        f"{tol('log-variance-trained').reason}."))
    blocks.append(doc.h2("Departure flags"))
    rows = [["architecture", "data set", "basis", "classification", "α geometric (inc.)", "α harmonic (inc.)",
             "reason"]]
    for r in results:
        for f in r.flags:
            rows.append([r.name, f.dataset, f.basis, f.classification,
                         _fit_cell(f.fits["geometric"]["increasing"]), _fit_cell(f.fits["harmonic"]["increasing"]),
                         f.reason])
    blocks.append(doc.table(rows))
    blocks.append(doc.p("Emergence: first crossing of the threshold between v₀ (exact τ = 0 generated variance) "
                        "and λ; increasing modes only, gray zone v₀/λ ∈ (0.5, 2) excluded; Q = 0.1, η = 1, "
                        "σ₀ = 0.002, σ_T = 80."))
    blocks.append(doc.h2("Exponents α in τ* ∝ λ^−α by Q and criterion (theory, exact; increasing / decreasing)"))
    rows = [["architecture", "data"] + [f"Q={q:g} {c}" for q in R.Q_TABLE for c in R.CRITERIA]]
    for r in results:
        cells = []
        for q in R.Q_TABLE:
            for c in R.CRITERIA:
                f = r.exponents.get((q, c))
                cells.append("n/a" if f is None else
                             f"{_fmt(f['increasing'].alpha)} / {_fmt(f['decreasing'].alpha)}")
        rows.append([r.name, r.dataset] + cells)
    blocks.append(doc.table(rows))
    return blocks


def _payload(results, preset, seed) -> tuple[dict, dict]:
    """The report's tables as JSON and its arrays for the NPZ file (no wall times: reruns are identical)."""
    tables = {"seed": seed, "preset": preset.__dict__, "architectures": {}}
    arrays = {}
    for r in results:
        tables["architectures"][r.name] = {
            "dataset": r.dataset, "basis": r.basis, "v0": r.v0,
            "fits": {c: {k: f.as_dict() for k, f in fs.items()} for c, fs in r.fits.items()},
            "exponents": {f"Q={q:g} {c}": {k: f.as_dict() for k, f in fs.items()}
                          for (q, c), fs in r.exponents.items()},
            "departure": [f.as_dict() for f in r.flags],
            "agreement": r.agreement.summary() if r.agreement is not None else {"skipped": r.untrained},
            "run": None if r.run is None else {k: v for k, v in r.run.meta.items() if not _is_timing(k)},
        }
        arrays.update({f"{r.name}/lam": r.lam, f"{r.name}/tau": r.tau, f"{r.name}/log_variance": r.log_variance,
                       f"{r.name}/tau_star_geometric": r.tau_star["geometric"],
                       f"{r.name}/tau_star_harmonic": r.tau_star["harmonic"]})
        if r.run is not None:
            arrays.update({f"{r.name}/trained_tau": r.run.tau, f"{r.name}/trained_gains": r.run.gains,
                           f"{r.name}/trained_lam": r.run.lam, f"{r.name}/trained_levels": r.run.levels,
                           f"{r.name}/trained_log_variance": r.agreement.measured_log_variance})
    return tables, arrays


def _is_timing(key: str) -> bool:
    """Wall-clock metadata (seconds) differs between identical runs: kept out of report files."""
    return key.endswith("_s") or "time" in key or "wall" in key


def build(name: str = "default", preset: str = "default", seed: int = 0, out="reports", archs=None,
          progress: bool = True) -> Path:
    """Compute and write the report for `archs` (all registered by default); returns its folder.

    Checked before any compute: `name` is a plain folder name, `out` a writable folder, and an existing
    `out/name` was written by specbias (theory.output); the write is atomic (theory.output.Staged)."""
    if preset not in R.PRESETS:
        raise SpecbiasError(f"preset must be one of {', '.join(R.PRESETS)} (got {preset!r}); the reports of "
                            "their own (spiked, nonlinear) are built by verify.cli.report.REPORTS")
    cfg = R.PRESETS[preset]
    seed = V.seed(seed)
    names = [theory.get(a).name for a in (archs or theory.available())]
    output.prepare(out, name)
    results = compute(names, cfg, seed, progress)
    with output.Staged(out, name) as tmp:
        blocks = _intro(name, preset, cfg, seed, names) + _tables(results, cfg) + [doc.h2("Figures")]
        blocks += _figures(results, tmp)
        tables, arrays = _payload(results, cfg, seed)
        if report_localconv.ARCHS & set(names):
            local_blocks, tables["local_convolution"] = report_localconv.section(tmp)
            blocks += local_blocks
        doc.write_report(tmp, name, blocks, tables, arrays)
    return Path(out) / name


def _intro(name, preset, cfg, seed, names) -> list:
    return [
        doc.h1(f"specbias agreement report: {name}"),
        doc.p("Does the analytical theory of spectral bias hold for these architectures? Each one's closed "
              "forms (derived and checked in sympy) are compared with real gradient-descent training of the "
              "matching torch model, and its emergence exponent and converged spectrum are classified."),
        doc.p(f"Preset {preset!r}: theory on d = {cfg.d} (the paper's log-normal spectrum for eigenbasis "
              f"models, a stationary power-law 1-D signal for convolutions, image patches and image rows "
              f"from scikit-image's bundled camera image for departures); training on d = {cfg.train_d}, "
              f"population mode, {cfg.checkpoints} checkpoints, float64, seed {seed}. "
              f"Architectures: {', '.join(names)}."),
        doc.p("The second paper (finite training sets, the spiked covariance model, reverse chains as power "
              "iteration) has its own report: `specbias report --preset spiked` writes [reports/spiked/report.md]"
              "(../spiked/report.md)."),
    ]
