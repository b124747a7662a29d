"""Departure flags: does an architecture follow the inverse-variance law on given data, in a given
measurement basis (data PCs, Fourier modes, patch PCs)?

Measured per (architecture, data, basis), from exact emergence times (theory.md §4.1; increasing modes,
gray zone excluded):
- the exponent α of τ* = aλ^{−α} with its 95% CI, over all emerging modes and over the high-variance
  half of them (the emerging modes with λ at or above their median);
- the simultaneity index S = std(ln τ*) / std(ln λ) over the emerging modes: 1 under the inverse law
  τ* ∝ 1/λ, 0 when every mode emerges at once (the paper's convolutional phenomenon);
- the converged-target mismatch: λ̃(τ → ∞) against the target variance along each basis vector. A
  mode is off target when |ln(λ̃/target)| ≥ REACHED; for a measured λ̃ with a confidence interval (the
  Monte-Carlo error of a sampled variance), only when the WHOLE interval lies beyond REACHED, i.e. the
  data say so beyond their error (`TargetCheck`).
Each of these is a separate reason. Classification:
- "departs": at least one reason — target not reached, α outside the declared range, or S < SIMULTANEOUS;
- "departs (declared), not detected here": the architecture's declared law is "departs" but none of
  the reasons fires on this data (a declared law is never reported as "follows");
- "follows, different constant": no reason, prefactor differs from the one-layer linear model's;
- "follows": no reason, same constant.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import theory
from theory.emergence import emergence_from_checkpoints
from theory.fit import GRAY_ZONE, Fit

REACHED = 0.1  # |ln(λ̃(∞)/target)| below this counts as reaching the target (10%)
#: targets below FLOOR·σ_0² are left out of the target check: the sampler stops at σ_0, so even the
#: optimum gives λ̃(∞) ≈ λ + σ_0² (theory.md §3.1); e.g. constant pixels of real images (λ ≈ 0)
FLOOR = 100.0
SAME_CONSTANT = np.log(1.5)  # prefactor ratios within 1.5× count as the same constant
#: S below this flags near-simultaneous emergence: τ* spans less than half as many decades as λ, i.e.
#: halfway between the inverse law (S = 1) and all modes at once (S = 0). Fixed a priori, not fitted.
SIMULTANEOUS = 0.5
MIN_MODES = 3  # fewer emerging modes give no exponent, no simultaneity index
CONVERGED_TAU = 1e12


@dataclass
class Flag:
    arch: str
    dataset: str
    basis: str
    classification: str
    reason: str
    fits: dict = field(default_factory=dict)  # criterion → {"increasing": Fit, "decreasing": Fit}
    fits_high: dict = field(default_factory=dict)  # criterion → Fit over the high-variance emerging half
    simultaneity: float = float("nan")  # S (first criterion), see the module doc
    reasons: list = field(default_factory=list)
    declared: str = ""
    constant_ratio: float = float("nan")
    worst_target_ratio: float = float("nan")
    fraction_reached: float = float("nan")
    tau_star: dict = field(default_factory=dict, repr=False)  # criterion → τ* per mode (not in as_dict)
    target: TargetCheck | None = field(default=None, repr=False)  # the converged-target check (not in as_dict)
    lam: np.ndarray | None = field(default=None, repr=False)  # the variances τ* belongs to

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("fits", "fits_high", "tau_star", "lam", "target")}
        d["fits"] = {c: {k: f.as_dict() for k, f in fs.items()} for c, fs in self.fits.items()}
        d["fits_high"] = {c: f.as_dict() for c, f in self.fits_high.items()}
        return d


@dataclass
class TargetCheck:
    """Converged variance against target per mode (modes with target ≥ FLOOR·σ₀² only): ratio λ̃/target,
    its CI (None for exact values) and the off-target mask (beyond REACHED, beyond the CI if given)."""

    target: np.ndarray
    ratio: np.ndarray
    ci: tuple | None
    off: np.ndarray
    keep: np.ndarray  # which of the given modes were checked (target ≥ FLOOR·σ₀²)

    @classmethod
    def of(cls, converged, target, ci=None, sigma0: float = 0.002) -> "TargetCheck":
        target = np.asarray(target, float)
        keep = target >= FLOOR * sigma0**2
        ratio = (np.asarray(converged, float) / target)[keep]
        if ci is None:
            off = np.abs(np.log(ratio)) >= REACHED
        else:
            lo, hi = ((np.asarray(b, float) / target)[keep] for b in ci)
            if np.any(~(lo <= ratio) | ~(ratio <= hi)):
                raise theory.SpecbiasError("converged_ci must bracket the converged variances (lo ≤ λ̃ ≤ hi)")
            off = (np.log(hi) <= -REACHED) | (np.log(lo) >= REACHED)
            ci = (lo, hi)
        return cls(target[keep], ratio, ci, off, keep)

    def describe(self, limit: int = 5) -> str:
        """One line naming the off-target modes (largest |ln ratio| first)."""
        idx = np.nonzero(self.off)[0]
        idx = idx[np.argsort(-np.abs(np.log(self.ratio[idx])))]
        parts = [f"target {self.target[i]:.3g}: {self.ratio[i]:.3f}"
                 + ("" if self.ci is None else f" [{self.ci[0][i]:.3f}, {self.ci[1][i]:.3f}]") for i in idx[:limit]]
        more = f", … ({idx.size - limit} more)" if idx.size > limit else ""
        return ", ".join(parts) + more


def emerging(lam, tau_star, v0) -> np.ndarray:
    """Mask of the modes that emerge: increasing (v₀ < λ), outside the gray zone, finite τ*."""
    lam, ts = np.asarray(lam, float), np.asarray(tau_star, float)
    ratio = v0 / lam
    return (ratio <= GRAY_ZONE[0]) & np.isfinite(ts) & (ts > 0)


def simultaneity(lam, tau_star, v0) -> float:
    """S = std(ln τ*) / std(ln λ) over the emerging modes (NaN with fewer than MIN_MODES, and NaN when
    their λ are all equal: S is then undefined, like the slope of a fit; it was inf)."""
    ok = emerging(lam, tau_star, v0)
    if ok.sum() < MIN_MODES:
        return float("nan")
    spread = np.std(np.log(np.asarray(lam, float)[ok]))
    if spread == 0:
        return float("nan")
    return float(np.std(np.log(np.asarray(tau_star)[ok])) / spread)


def high_variance_fit(lam, tau_star, v0):
    """The exponent fit over the emerging modes with λ at or above their median."""
    lam, ts = np.asarray(lam, float), np.asarray(tau_star, float)
    ok = emerging(lam, ts, v0)
    sel = ok & (lam >= np.median(lam[ok])) if ok.any() else ok
    if not sel.any():  # no mode emerged (e.g. a very short run): no fit, not an error
        return Fit(np.nan, (np.nan, np.nan), np.nan, 0, np.nan)
    v0 = np.broadcast_to(np.asarray(v0, float), lam.shape)[sel]  # a per-mode v0 follows its modes
    return theory.fit_exponent(lam[sel], ts[sel], v0)["increasing"]


def _faster(ratio: float) -> str:
    """ratio = τ*_linear / τ* (median): above 1 this architecture is faster."""
    return (f"modes emerge {ratio:.3g}× faster" if ratio >= 1 else f"modes emerge {1 / ratio:.3g}× slower") \
        + " than the one-layer linear model (median τ* ratio)"


def _reasons(arch, fits, S, check: TargetCheck, Q) -> list:
    out = []
    if check.off.any():
        beyond = "" if check.ci is None else " beyond their 95% CI"
        out.append(f"target not reached: {int(check.off.sum())} of {check.off.size} modes (target ≥ "
                   f"{FLOOR:g}σ₀²) end with |ln(λ̃/target)| ≥ {REACHED:g}{beyond} "
                   f"(converged λ̃/target{'' if check.ci is None else ' [CI]'}: {check.describe()}); "
                   f"all modes span {check.ratio.min():.3g}–{check.ratio.max():.3g}")
    for crit, fit in fits.items():
        inc = fit["increasing"]
        rng = arch.law.exponent_range(crit, Q)
        if rng is not None and inc.n >= MIN_MODES and not rng[0] <= inc.alpha <= rng[1]:
            out.append(f"{crit} exponent α = {inc.alpha:.3f} outside the predicted [{rng[0]:.3g}, {rng[1]:.3g}] "
                       f"(Q = {Q:g}, increasing modes, N = {inc.n})")
    if np.isfinite(S) and S < SIMULTANEOUS:
        out.append(f"near-simultaneous emergence: simultaneity index S = {S:.2f} < {SIMULTANEOUS} "
                   "(spread of ln τ* over that of ln λ, emerging modes)")
    return out


def classify(arch_name, lam_tau_star: dict, lam: np.ndarray, v0: float, converged: np.ndarray,
             target: np.ndarray, Q: float, reference_tau_star: dict | None = None,
             dataset: str = "", basis: str = "eigen", sigma0: float = 0.002, converged_ci=None) -> Flag:
    """Classify from emergence times per criterion (τ* per mode, `lam` = the data variance along each
    measured direction), the converged generated variances and the targets (see the module doc).
    `reference_tau_star`: the one-layer linear model's τ* on the same variances (for the constant).
    `converged_ci`: (lo, hi) per mode, the CI of a measured `converged` (see TargetCheck)."""
    arch = theory.get(arch_name)
    lam = np.asarray(lam, float)
    fits = {c: theory.fit_exponent(lam, ts, v0) for c, ts in lam_tau_star.items()}
    high = {c: high_variance_fit(lam, ts, v0) for c, ts in lam_tau_star.items()}
    first = next(iter(lam_tau_star))
    S = simultaneity(lam, lam_tau_star[first], v0)
    check = TargetCheck.of(converged, target, converged_ci, sigma0)
    dev = np.abs(np.log(check.ratio))
    flag = Flag(arch.name, dataset, basis, "", "", fits, high, S, declared=arch.law.kind,
                tau_star=dict(lam_tau_star), lam=lam,
                worst_target_ratio=float(np.exp(np.max(dev)) if dev.size else np.nan),
                fraction_reached=float(np.mean(~check.off)) if dev.size else np.nan)
    flag.target = check
    flag.reasons = _reasons(arch, fits, S, check, Q)
    if reference_tau_star:
        ok = np.isfinite(lam_tau_star[first]) & np.isfinite(reference_tau_star[first])
        if ok.any():
            flag.constant_ratio = float(np.exp(np.median(np.log(reference_tau_star[first][ok]
                                                                 / lam_tau_star[first][ok]))))
    if flag.reasons:
        flag.classification, flag.reason = "departs", "; ".join(flag.reasons)
    elif arch.law.kind == "departs":
        flag.classification = "departs (declared), not detected here"
        flag.reason = (f"declared: {arch.law.note or arch.law.rate}; on this data every mode reaches its "
                       f"target, S = {S:.2f}" + (f", {_faster(flag.constant_ratio)}"
                                                 if np.isfinite(flag.constant_ratio) else ""))
    elif np.isfinite(flag.constant_ratio) and abs(np.log(flag.constant_ratio)) > SAME_CONSTANT:
        flag.classification, flag.reason = "follows, different constant", _faster(flag.constant_ratio)
    else:
        flag.classification = "follows"
        flag.reason = "exponent in the predicted range and every mode reaches its target"
    return flag


def classify_theory(arch_name, lam, Q: float = 0.1, criteria=("geometric", "harmonic"),
                    dataset: str = "", basis: str = "eigen", **params) -> Flag:
    """Departure flag from the closed forms alone, on the spectrum `lam` (the architecture's own modes)."""
    arch = theory.get(arch_name)
    lam = np.asarray(lam, float)
    tau_star = {c: theory.emergence_time(arch, lam, criterion=c, Q=Q, **params) for c in criteria}
    ref = None if arch.name == "linear" else {  # the one-layer model on the same spectrum
        c: theory.emergence_time("linear", lam, criterion=c, Q=Q) for c in criteria}
    converged = arch.generated_variance(lam, CONVERGED_TAU, Q=Q, **params)
    return classify(arch.name, tau_star, lam, float(arch.initial_variance(Q)), converged, lam, Q, ref,
                    dataset, basis)


_REFERENCES: dict = {}  # (targets, criteria, Q) → the one-layer τ*: many models share one basis's targets


def linear_reference(target, criteria, Q: float) -> dict:
    """The one-layer linear model's τ* per criterion on the variances `target` (the reference for the
    constant), computed once per (targets, criteria, Q) and shared (copies) by every model measured there."""
    target = np.asarray(target, float)
    key = (target.tobytes(), tuple(criteria), float(Q))
    if key not in _REFERENCES:
        if len(_REFERENCES) >= 32:
            _REFERENCES.clear()
        _REFERENCES[key] = {c: theory.emergence_time("linear", target, criterion=c, Q=Q) for c in criteria}
    return {c: v.copy() for c, v in _REFERENCES[key].items()}


def classify_along(arch_name, lam, weights, target, Q: float = 0.1, criteria=("geometric", "harmonic"),
                   dataset: str = "", basis: str = "", bisections: int = 56, **params) -> Flag:
    """Departure flag measured along an orthonormal basis: `lam` the architecture's own modes (Fourier
    spectrum or data eigenvalues), `weights` (n_modes, m) from theory.basis, `target` the data variance
    along each basis vector (e.g. the PC eigenvalues). Closed forms, exact crossings (`bisections` as in
    theory.along.emergence_along)."""
    from theory.along import emergence_along, variance_along

    arch = theory.get(arch_name)
    target = np.asarray(target, float)
    tau_star = {c: emergence_along(arch, lam, weights, target, criterion=c, Q=Q, bisections=bisections, **params)
                for c in criteria}
    ref = linear_reference(target, criteria, Q)
    converged = variance_along(arch, lam, [CONVERGED_TAU], weights, Q=Q, **params)[0]
    return classify(arch.name, tau_star, target, float(arch.initial_variance(Q)), converged, target, Q, ref,
                    dataset, basis)


def classify_sampled(arch_name, tau, lam_tilde, target, v0: float, Q: float = 0.1,
                     criteria=("geometric", "harmonic"), dataset: str = "", basis: str = "") -> Flag:
    """Departure flag from generated variances sampled on a time grid (T,) × (T, m) — an exact
    propagator or a trained model; the last time stands for τ → ∞ (make it late enough)."""
    target = np.asarray(target, float)
    lt = np.asarray(lam_tilde, float)
    tau_star = {c: emergence_from_checkpoints(tau, lt.T, v0, target, c) for c in criteria}
    ref = linear_reference(target, criteria, Q)
    return classify(arch_name, tau_star, target, v0, lt[-1], target, Q, ref, dataset, basis)
