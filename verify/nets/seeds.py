"""The nonlinear verdict over seeds on the paper's protocol (`specbias report --preset nonlinear`, and
`--preset nonlinear-paper` without the default's two shortcuts).

The MLP verdict against the paper (Wang & Pehlevan, arXiv 2503.03206, §5: the Gaussian-MLP experiment,
α "≈ 1", "follows") is stated only from the paper's training protocol (protocols.md §1, §4: MLP-UNet width
256, 4 residual blocks, no mapping network, Fourier scale 1; EDM, Adam lr 1e-4, batch 1024, 5000 steps; a
finite training set of 10 000 draws) over ≥ 3 seeds (data draw, initialisation, minibatches, latents all
follow the seed; the experiment: verify.nets.report.paper_mlp). Per seed: the classification and α per
criterion and direction (verify.nets.analysis);
across seeds: mean α with the seed-to-seed t-interval (mean ± t_{n−1} sd/√n). "Contradicts the paper"
is said only when every one of ≥ 3 seeds disagrees with the paper's verdict; otherwise the report gives
the per-seed verdicts as they are.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from verify.report import document as doc

SEEDS = 3  # seeds of the paper-protocol preset
MIN_SEEDS = 3  # fewest seeds from which a contradiction of the paper is stated
CONFIDENCE = 0.95


def seed_interval(values, confidence: float = CONFIDENCE) -> dict:
    """Mean over seeds of the finite values and its t-interval (NaN half-width with fewer than 2)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return {"mean": np.nan, "ci": (np.nan, np.nan), "sd": np.nan, "n": 0}
    mean = float(v.mean())
    if n < 2:
        return {"mean": mean, "ci": (np.nan, np.nan), "sd": np.nan, "n": 1}
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n))
    return {"mean": mean, "ci": (mean - half, mean + half), "sd": sd, "n": n}


def summarise(exp, per_seed: list, linear=None) -> dict:
    """per_seed: [(seed, classification, em)] → per-seed verdicts, α per criterion/direction per seed
    with the seed-to-seed interval, and whether the seeds together contradict the paper. linear: per seed,
    the linear theory's geometric increasing-mode α on the same spectrum and v₀ and its declared range
    (verify.nets.analysis.compare's linear_fit and exponent_range), what the verdict compares with."""
    agree = [c.startswith("follows") == (exp.paper == "follows") for _, c, _ in per_seed]
    alphas = {}
    for crit in per_seed[0][2]:
        for d in ("increasing", "decreasing"):
            vals = [float(em[crit]["fits"][d].alpha) for _, _, em in per_seed]
            alphas[f"{crit}/{d}"] = dict(seed_interval(vals), per_seed=vals)
    n = len(per_seed)
    contradicts = exp.protocol == "paper" and n >= MIN_SEEDS and not any(agree)
    return {"experiment": exp.name, "protocol": exp.protocol, "paper": exp.paper,
            "seeds": [s for s, _, _ in per_seed], "classifications": [c for _, c, _ in per_seed],
            "agrees_with_paper": agree, "alpha": alphas, "contradicts_paper": bool(contradicts),
            "all_agree": bool(all(agree)), "paper_slopes": [list(x) for x in getattr(exp, "paper_slopes", ())],
            "linear": [] if linear is None else [{"alpha": float(a), "range": [float(r[0]), float(r[1])]}
                                                 for a, r in linear]}


def verdict_text(summary: dict) -> str:
    n = len(summary["seeds"])
    per = "; ".join(f"seed {s}: {c}" for s, c in zip(summary["seeds"], summary["classifications"]))
    head = f"Over {n} seeds on the {summary['protocol']} protocol ({per}): "
    if summary["all_agree"]:
        return head + f"every seed agrees with the paper ({summary['paper']})."
    if summary["contradicts_paper"]:
        return head + f"**every seed contradicts the paper** (the paper: {summary['paper']})."
    why = (f"fewer than {MIN_SEEDS} seeds" if n < MIN_SEEDS and summary["protocol"] == "paper"
           else "a reduced protocol" if summary["protocol"] != "paper" else "the seeds disagree among themselves")
    return head + f"not every seed agrees with the paper ({summary['paper']}); no contradiction is stated ({why})."


def context_text(summary: dict) -> str:
    """What the seeds' exponent is compared with: the paper's own recorded slopes and the linear theory's
    prediction at the same v₀ (the classifier's reference), so that a disagreement says which one."""
    a = summary["alpha"].get("geometric/increasing")
    if a is None or not np.isfinite(a["mean"]):
        return ""
    ci = "" if not np.isfinite(a["ci"][0]) else f" [{a['ci'][0]:.3f}, {a['ci'][1]:.3f}]"
    out = f"Geometric criterion, increasing modes: mean α over seeds {a['mean']:.3f}{ci}."
    if summary.get("paper_slopes"):
        out += " The authors' notebooks record (geometric, increasing / decreasing) " + "; ".join(
            f"{lab}: {inc:.2f} / {dec:.2f}" for lab, inc, dec in summary["paper_slopes"]) + \
            " (protocols.md §4), and the paper's text says α ≈ 1."
    if summary.get("linear"):
        lin = summary["linear"]
        out += (" The linear theory on the same spectrum, at each seed's own measured τ = 0 variance, predicts "
                + ", ".join(f"{x['alpha']:.3f}" for x in lin) + " (declared ranges "
                + ", ".join(f"[{x['range'][0]:.2f}, {x['range'][1]:.2f}]" for x in lin)
                + "): the verdict compares the network with that prediction, not with α = 1.")
    return out


def section(summary: dict) -> list:
    """Blocks: the seed-to-seed table of α and the verdict over seeds."""
    rows = [["criterion / direction", "α per seed", f"mean α [{CONFIDENCE:.0%} t-interval over seeds]", "seeds"]]
    for key, a in summary["alpha"].items():
        per = ", ".join("–" if not np.isfinite(v) else f"{v:.3f}" for v in a["per_seed"])
        mean = "–" if not np.isfinite(a["mean"]) else (
            f"{a['mean']:.3f}" + ("" if not np.isfinite(a["ci"][0]) else f" [{a['ci'][0]:.3f}, {a['ci'][1]:.3f}]"))
        rows.append([key, per, mean, str(a["n"])])
    return [doc.h2(f"{summary['experiment']}: over seeds"), doc.table(rows),
            doc.p(verdict_text(summary) + " " + context_text(summary))]
