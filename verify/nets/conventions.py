"""Emergence conventions for network runs: the authors' (Wang & Pehlevan, arXiv 2503.03206, §5 and their
Gaussian-MLP analysis; protocols.md §3) and specbias's, switchable one at a time (the ablation ladder).

A convention is four choices (`Conventions`):
- v0: "first-step" (the authors': the first recorded checkpoint after τ = 0, i.e. after one optimiser
  step, both as v₀ and as the start of the trajectory) or "exact" (specbias: the τ = 0 measurement);
- smooth: σ of a Gaussian filter along the checkpoint INDEX (the authors': 1, scipy's
  gaussian_filter1d with its defaults, mode "reflect", truncate 4) or 0 (specbias: none);
- exclusion: "mean" (the authors': λ within (0.5, 2) × the mean v₀ over all modes) or "per-mode"
  (specbias: v₀/λ of the mode itself within (0.5, 2));
- crossing: "checkpoint" (the authors': τ* is the first checkpoint past the threshold) or
  "interpolated" (specbias: log–log interpolation between the two bracketing checkpoints).
In both, the threshold uses the raw (unsmoothed) v₀, the direction is "decreasing" where the (smoothed)
trajectory starts above the threshold, the crossing is strict, and α is minus the OLS slope of ln τ* on
ln λ per direction (theory.fit_exponent on the selected modes). The authors' sampling noise is fresh at
every checkpoint; specbias measures every checkpoint with one fixed latent batch (CRN). That choice is
made when the run is measured (numerics.nets.train.train_net's crn_on; the training stream has its own seed, so a
run measured with fresh noise trains the same network): `ladder` takes such a run as `fresh`, and then
starts from the authors' conventions on it, with "fixed CRN latents" as one more rung.

`analyse` works on arrays (checkpoints first), `ladder` on a numerics.nets.train run: α [CI] under the
authors' conventions, with each specbias choice switched on alone, and with all of them (= specbias's,
identical to verify.nets.analysis.emergence).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d

import theory
from theory.emergence import CRITERIA, threshold
from theory.fit import GRAY_ZONE, Fit, in_gray_zone

from verify.nets.analysis import _combine, series


@dataclass(frozen=True)
class Conventions:
    v0: str = "exact"  # "first-step" | "exact"
    smooth: float = 0.0  # Gaussian σ in checkpoint-index units; 0 = no smoothing
    exclusion: str = "per-mode"  # "mean" | "per-mode"
    crossing: str = "interpolated"  # "checkpoint" | "interpolated"

    def __post_init__(self):
        for name, valid in (("v0", ("first-step", "exact")), ("exclusion", ("mean", "per-mode")),
                            ("crossing", ("checkpoint", "interpolated"))):
            if getattr(self, name) not in valid:
                raise theory.SpecbiasError(f"conventions {name} must be one of {', '.join(valid)} "
                                           f"(got {getattr(self, name)!r})")
        if not (np.isfinite(self.smooth) and self.smooth >= 0):
            raise theory.SpecbiasError(f"conventions smooth must be a finite σ ≥ 0 (got {self.smooth!r})")


AUTHORS = Conventions("first-step", 1.0, "mean", "checkpoint")
SPECBIAS = Conventions()
NAMED = {"authors": AUTHORS, "specbias": SPECBIAS}

#: the ladder's rungs: (label, the specbias choice switched on over the authors' conventions)
SWITCHES = (("exact τ = 0 v₀", {"v0": "exact"}), ("no smoothing", {"smooth": 0.0}),
            ("exclusion per mode", {"exclusion": "per-mode"}), ("interpolated crossing", {"crossing": "interpolated"}))


#: why specbias makes each choice (stated beside the ladder; the ladder measures how much each moves α)
WHY = {
    "exact τ = 0 v₀": "the theory's v₀ is the τ = 0 variance (theory.md §4.1); after one Adam step a network has "
                      "already moved, and that transient shifts every mode's threshold",
    "no smoothing": "a Gaussian of σ = 1 in checkpoint INDEX units on a log-spaced grid averages over a τ "
                    "window that grows with τ, so it moves late crossings more than early ones; CRN "
                    "measurement keeps the checkpoint-to-checkpoint noise low without it",
    "exclusion per mode": "the gray zone is about each mode's own distance from its start, v₀/λ; the mean v₀ "
                          "misplaces it wherever v₀ varies from mode to mode",
    "interpolated crossing": "the first checkpoint past the threshold quantises τ* to the grid (up to one "
                             "grid spacing late); log–log interpolation between the bracketing checkpoints does not",
}


def get(conventions) -> Conventions:
    """A Conventions from a name ("authors", "specbias") or a Conventions."""
    if isinstance(conventions, Conventions):
        return conventions
    if conventions not in NAMED:
        raise theory.SpecbiasError(f"unknown conventions {conventions!r}; valid: {', '.join(NAMED)}")
    return NAMED[conventions]


def crossings(tau, var, lam, criterion: str = "geometric", conventions="authors") -> dict:
    """τ* per trajectory under `conventions`. tau [J] (checkpoint 0 is τ = 0), var [J, ..., k], lam [k].

    Returns tau_star [..., k] (NaN: never crosses), decreasing [..., k] (bool), v0 [..., k], excluded
    [..., k] (bool: left out of the fit by the exclusion rule)."""
    c = get(conventions)
    if criterion not in CRITERIA:
        raise theory.SpecbiasError(f"criterion {criterion!r} is not defined under switchable conventions; "
                                   f"valid: {', '.join(CRITERIA)}")
    tau, var, lam = np.asarray(tau, float), np.asarray(var, float), np.asarray(lam, float)
    if tau.ndim != 1 or tau.size < 3 or tau[0] != 0 or var.shape[0] != tau.size:
        raise theory.SpecbiasError("conventions need τ = 0 and at least two more checkpoints, var[J, ..., k] "
                                   "with one row per checkpoint")
    first = 1 if c.v0 == "first-step" else 0
    t, rows = tau[first:], var[first:]
    v0 = rows[0]
    s = gaussian_filter1d(rows, c.smooth, axis=0, mode="reflect", truncate=4.0) if c.smooth > 0 else rows
    thr = threshold(v0, lam, criterion)
    dec = s[0] > thr
    past = np.where(dec, s < thr, s > thr)
    found = past.any(axis=0)
    i = np.argmax(past, axis=0)
    t_hi = t[i]
    if c.crossing == "interpolated":
        prev = np.maximum(i - 1, 0)
        t_lo = t[prev]
        s_hi = np.take_along_axis(s, i[None], 0)[0]
        s_lo = np.take_along_axis(s, prev[None], 0)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = (np.log(thr) - np.log(s_lo)) / (np.log(s_hi) - np.log(s_lo))
            inter = np.exp(np.log(t_lo) + frac * (np.log(t_hi) - np.log(t_lo)))
        t_hi = np.where((t_lo > 0) & np.isfinite(inter), inter, t_hi)
    mean_v0 = np.mean(v0, axis=-1, keepdims=True)
    excluded = in_gray_zone(mean_v0 if c.exclusion == "mean" else v0, lam)
    return {"tau_star": np.where(found, t_hi, np.nan), "decreasing": dec, "v0": v0,
            "excluded": np.broadcast_to(excluded, dec.shape)}


def _fits(lam, cr: dict) -> dict:
    """theory.Fit per direction on the modes that crossed and are not excluded (OLS, t-interval)."""
    ok = np.isfinite(cr["tau_star"]) & ~cr["excluded"]
    out = {}
    for name, sel in (("increasing", ~cr["decreasing"]), ("decreasing", cr["decreasing"])):
        m = ok & sel
        out[name] = (theory.fit_exponent(lam[m], cr["tau_star"][m], gray_zone=GRAY_ZONE)["all"] if m.sum() >= 2
                     else Fit(np.nan, (np.nan, np.nan), np.nan, int(m.sum()), np.nan))
    return out


def analyse(tau, var, lam, criterion: str = "geometric", conventions="authors", boot=None) -> dict:
    """τ* and α per direction under `conventions`; with bootstrap replicates boot [J, B, k] the fits
    carry the Monte-Carlo CI as well (verify.nets.analysis.NetFit, combined like analysis.emergence's)."""
    lam = np.asarray(lam, float)
    cr = crossings(tau, var, lam, criterion, conventions)
    point = _fits(lam, cr)
    out = dict(cr, fits=point)
    if boot is not None:
        cb = crossings(tau, boot, lam, criterion, conventions)
        reps = [_fits(lam, {k: v[b] for k, v in cb.items()}) for b in range(cb["tau_star"].shape[0])]
        out["fits"] = {d: _combine(point[d], np.array([r[d].alpha for r in reps])) for d in point}
        out["tau_star_boot"] = cb["tau_star"]
    return out


def analyse_run(run, criterion: str = "geometric", conventions="authors", basis: str = "eigen") -> dict:
    """`analyse` on a numerics.nets.train run (its checkpoint variances and bootstrap replicates)."""
    tau, var, boot, lam = series(run, basis)
    return analyse(tau, var, lam, criterion, conventions, boot if boot.shape[1] else None)


def emergence(run, criteria=CRITERIA, conventions="authors", basis: str = "eigen") -> dict:
    """verify.nets.analysis.emergence's result (per criterion: tau_star, tau_star_boot, v0, fits) for a
    network run under `conventions` (the three threshold criteria; band is specbias's only)."""
    tau, var, boot, lam = series(run, basis)
    return {crit: analyse(tau, var, lam, crit, conventions, boot if boot.shape[1] else None) for crit in criteria}


def rungs() -> list:
    """(label, Conventions): the authors', each specbias choice alone over them, then specbias's."""
    return ([("authors", AUTHORS)] + [(f"authors + {label}", replace(AUTHORS, **sw)) for label, sw in SWITCHES]
            + [("specbias (all switched)", SPECBIAS)])


def ladder(tau, var, lam, criterion: str = "geometric", boot=None, fresh=None):
    """The ablation ladder as a pandas DataFrame: one row per rung and direction with α, its CI (combined;
    regression only without bootstrap replicates), R², N and the shift from the authors' α.

    fresh: (var, boot) of the same training measured with fresh latents at every checkpoint (the authors'
    way; same checkpoints): the authors' rung and each single switch then use it, and "fixed CRN latents"
    (the authors' conventions on var) is one more rung; the last rung (all of specbias's) uses var."""
    import pandas as pd

    steps = rungs()
    if fresh is not None:
        steps = steps[:1] + [("authors + fixed CRN latents", AUTHORS)] + steps[1:]
    rows = []
    for label, conv in steps:
        own = fresh is None or label in ("authors + fixed CRN latents", "specbias (all switched)")
        v, b = (var, boot) if own else fresh
        fits = analyse(tau, v, lam, criterion, conv, b)["fits"]
        for d, f in fits.items():
            rows.append({"conventions": label, "direction": d, "alpha": f.alpha, "ci_lo": f.ci[0], "ci_hi": f.ci[1],
                         "r2": f.r2, "n": f.n, "v0": conv.v0, "smooth": conv.smooth, "exclusion": conv.exclusion,
                         "crossing": conv.crossing, "latents": "fixed (CRN)" if own else "fresh"})
    df = pd.DataFrame(rows)
    base = df[df.conventions == "authors"].set_index("direction")["alpha"]
    df["shift"] = df["alpha"] - df["direction"].map(base)
    return df


def ladder_run(run, criterion: str = "geometric", basis: str = "eigen", fresh=None):
    """`ladder` on a numerics.nets.train run; an empty DataFrame for a run of fewer than 3 checkpoints
    (the authors' trajectory starts at the second one and needs one more). fresh: the same training
    measured with fresh latents per checkpoint (train_net(..., crn_on=False), same seed and sizes)."""
    tau, var, boot, lam = series(run, basis)
    if tau.size < 3:
        import pandas as pd

        return pd.DataFrame(columns=["conventions", "direction", "alpha", "ci_lo", "ci_hi", "r2", "n", "v0",
                                     "smooth", "exclusion", "crossing", "latents", "shift"])
    pair = None
    if fresh is not None:
        ft, fv, fb, fl = series(fresh, basis)
        if not (np.array_equal(ft, tau) and np.array_equal(fl, lam)):
            raise theory.SpecbiasError("the fresh-noise run must have the same checkpoints and spectrum")
        if fresh.meta["sampler"].get("common_random_numbers", True):
            raise theory.SpecbiasError("the fresh-noise run was measured with common random numbers")
        pair = (fv, fb if fb.shape[1] else None)
    return ladder(tau, var, lam, criterion, boot if boot.shape[1] else None, pair)


def ladder_rows(df) -> list:
    """The ladder as table rows (header first) for the reports."""
    rows = [["conventions", "direction", "α [95% CI]", "N", "shift from the authors'"]]
    for r in df.itertuples():
        a = "–" if not np.isfinite(r.alpha) else f"{r.alpha:.3f} [{r.ci_lo:.3f}, {r.ci_hi:.3f}]"
        rows.append([r.conventions, r.direction, a, str(r.n), "" if not np.isfinite(r.shift) else f"{r.shift:+.3f}"])
    return rows
