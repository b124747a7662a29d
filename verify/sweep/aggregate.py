"""Per configuration (all seeds of one configuration), the exponent with two confidence intervals and
a verdict against the law the theory declares.

- seed-to-seed CI: the Student t interval of the mean over the successful seeds,
  ᾱ ± t_{0.975, n−1} s/√n (s the sample standard deviation of the n per-seed exponents; needs n ≥ 2);
- pooled within-run CI: the same mean's interval from the runs' own regression errors alone,
  ᾱ ± √(Σ h_i²)/n, h_i the half-width of run i's 95% CI (independent runs add in quadrature).
If the seed-to-seed interval is much wider, one run's CI understates how far the exponent moves.

Verdict (increasing modes, against the range the architecture's registered law declares for the
criterion and Q, theory.Law.exponent_range; never widened): with half = the wider of the two
half-widths, "holds" if [ᾱ − half, ᾱ + half] lies inside the range, "fails" if it lies outside it,
"inconclusive" if it straddles an end; "no range" where the law declares none (a departing law, the
decreasing direction, or a criterion/Q without a stated range).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from .kinds import get_kind

CONFIDENCE = 0.95


@dataclass
class Group:
    config_id: str
    label: str
    kind: str
    criterion: str
    direction: str
    n_runs: int
    n_ok: int
    n_fitted: int
    mean: float
    sd: float
    seed_half: float
    within_half: float
    theory_alpha: float
    declared: tuple | None
    note: str
    verdict: str

    def as_dict(self) -> dict:
        return asdict(self)


def seed_interval(alphas, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, sd, half-width) of the Student t interval over seeds; half NaN for fewer than 2."""
    a = np.asarray(alphas, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return np.nan, np.nan, np.nan
    if a.size == 1:
        return float(a[0]), np.nan, np.nan
    sd = float(np.std(a, ddof=1))
    return float(a.mean()), sd, float(stats.t.ppf(0.5 + confidence / 2, a.size - 1) * sd / np.sqrt(a.size))


def pooled_within(halves) -> float:
    """Half-width of the mean's interval from the runs' own CIs: √(Σ h_i²)/n over finite h_i."""
    h = np.asarray(halves, dtype=float)
    h = h[np.isfinite(h)]
    return float(np.sqrt(np.sum(h**2)) / h.size) if h.size else np.nan


def verdict(mean: float, seed_half: float, within_half: float, declared) -> str:
    if declared is None:
        return "no range"
    if not np.isfinite(mean):
        return "no fit"
    halves = [h for h in (seed_half, within_half) if np.isfinite(h)]
    if not halves:
        return "inconclusive"
    lo, hi = mean - max(halves), mean + max(halves)
    if declared[0] <= lo and hi <= declared[1]:
        return "holds"
    if hi < declared[0] or lo > declared[1]:
        return "fails"
    return "inconclusive"


def groups(records: list, labels: dict) -> list[Group]:
    """One Group per configuration × criterion × direction, in the order configurations first appear."""
    by_config: dict = {}
    for r in records:
        by_config.setdefault(r["config_id"], []).append(r)
    out = []
    for cid, runs in by_config.items():
        ok = [r for r in runs if r["status"] == "ok"]
        pairs = list(dict.fromkeys((e["criterion"], e["direction"]) for r in ok for e in r["exponents"]))
        kind, config = get_kind(runs[0]["kind"]), runs[0]["config"]
        for crit, direction in pairs or [("", "")]:
            ex = [e for r in ok for e in r["exponents"] if (e["criterion"], e["direction"]) == (crit, direction)]
            alphas = [e["alpha"] for e in ex]
            mean, sd, seed_half = seed_interval(alphas)
            within = pooled_within([(_num(e["ci_hi"]) - _num(e["ci_lo"])) / 2 for e in ex])
            theory_alpha = _mean([e.get("theory_alpha") for e in ex])
            declared, note = kind.declared(config, crit, direction) if crit else (None, "no successful run")
            out.append(Group(cid, labels.get(cid, ""), kind.name, crit, direction, len(runs), len(ok),
                             int(np.sum(np.isfinite(np.asarray(alphas, dtype=float)))), mean, sd, seed_half,
                             within, theory_alpha, declared, note, verdict(mean, seed_half, within, declared)))
    return out


def _num(x) -> float:
    """A stored number (strict JSON writes NaN as null)."""
    return np.nan if x is None else float(x)


def _mean(values) -> float:
    v = np.asarray([_num(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else np.nan
