"""Emergence, exponents and the comparison with the linear theory for trained networks
(numerics.nets.train runs).

- Emergence (theory.md §4.1) per mode and criterion from the CRN checkpoint variances, with the network's
  own τ = 0 variance v₀ (measured before any step) per mode, gray zone v₀/λ ∈ (0.5, 2) excluded, by
  theory.emergence_from_checkpoints (log–log interpolation, no smoothing); fits by theory.fit_exponent.
- The exponent's uncertainty has two parts: the regression CI (scatter of the modes about the line)
  and the Monte-Carlo error of the variance estimates, from the bootstrap replicates the sampler
  recorded (resampled generated samples, the same resampling at every checkpoint): every replicate is
  re-crossed and re-fitted. `ci` combines both half-widths in quadrature; both parts are reported.
- Comparison: the one-layer linear theory on the same spectrum at the Q whose exact τ = 0 variance
  σ_0^{2(1−Q)} σ_T^{2Q} (theory.md §3.2) equals the network's median measured v₀ (`q_effective`); then the
  departure classifier of the linear architectures (verify.departure.classify) with that reference;
  a mode counts as off target only if the bootstrap CI of its last-checkpoint variance lies wholly
  beyond the classifier's 10% rule (`converged_ci`); the target is what the optimal denoiser of the
  spectrum the network was trained on (population λ for fresh Gaussian draws; for a finite training
  set, its empirical covariance) generates through the same sampler (`sampler_bias`).
  The network's clock is steps × lr; under Adam (EDM protocol) it is not the theory's ητ, so a
  "different constant" is expected there and the time-scale factor is reported with its CI.
- The same run under the first paper's authors' conventions: verify.nets.conventions.emergence(run,
  conventions="authors"), with the ladder between the two.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from types import SimpleNamespace

import numpy as np

import theory
from theory.emergence import ALL_CRITERIA, checkpoint_crossings, starts_inside
from theory import validate as V
from theory.fit import GRAY_ZONE, in_gray_zone
from verify import departure
from verify.tolerances import tol

CONFIDENCE = 0.95


@dataclass
class NetFit:
    """α of τ* = aλ^{−α} for one direction: point fit, regression CI, Monte-Carlo CI, combined CI."""

    alpha: float
    ci: tuple
    ci_fit: tuple
    ci_mc: tuple
    r2: float
    n: int
    a: float
    mc_replicates: int  # bootstrap replicates with a finite α
    censored: int = 0  # modes of this direction left out: crossed before the first checkpoint (τ* ≤ τ₁)

    def as_dict(self) -> dict:
        return asdict(self)


def _half(ci) -> float:
    return 0.5 * (ci[1] - ci[0])


def _combine(point, boot: np.ndarray) -> NetFit:
    ok = np.isfinite(boot)
    q = (1 - CONFIDENCE) / 2
    ci_mc = tuple(float(v) for v in np.quantile(boot[ok], [q, 1 - q])) if ok.sum() >= 10 else (np.nan, np.nan)
    # no Monte-Carlo part (bootstrap 0, or < 10 finite replicates): the regression CI alone, with
    # mc_replicates telling it so (hypot with NaN made the headline CI NaN although the fit has one)
    half = np.hypot(_half(point.ci), _half(ci_mc)) if np.isfinite(ci_mc[0]) else _half(point.ci)
    return NetFit(point.alpha, (point.alpha - half, point.alpha + half), tuple(point.ci), ci_mc, point.r2,
                  point.n, point.a, int(ok.sum()))


def series(run, basis: str = "eigen"):
    """(τ [J], variances [J, k], bootstrap replicates [J, B, k], λ [k]) of a network run; a basis the
    run was not measured in is a SpecbiasError naming the ones it was."""
    if not isinstance(getattr(run, "arrays", None), dict) or getattr(run, "tau", None) is None:
        raise theory.SpecbiasError(f"run must be a network run (numerics.run.Run: train_net's result or "
                                   f"Run.load; anything with .tau and an .arrays dict), got {type(run).__name__}")
    measured = sorted(k[len("var_boot_"):] for k in run.arrays if k.startswith("var_boot_"))
    if not isinstance(basis, str) or any(f"{w}_{basis}" not in run.arrays for w in ("var", "var_boot", "lam")):
        raise theory.SpecbiasError(f"basis must be one the run was measured in: {', '.join(measured) or 'none'} "
                                   f"(got {V._short(basis)})")
    return (np.asarray(run.tau, float), np.asarray(run.arrays[f"var_{basis}"], float),
            np.asarray(run.arrays[f"var_boot_{basis}"], float), np.asarray(run.arrays[f"lam_{basis}"], float))


def _crossings(tau, var, boot, lam, crit) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """τ* per mode [k] and per bootstrap replicate [B, k] from checkpoints 1.. (checkpoint 0 is v₀),
    and where each is censored (crossed before checkpoint 1: τ* = τ₁ is only an upper bound)."""
    ts, cs = checkpoint_crossings(tau[1:], var[1:].T, var[0], lam, crit)
    tb, cb = checkpoint_crossings(tau[1:], np.moveaxis(boot[1:], 0, -1), boot[0],
                                  np.broadcast_to(lam, boot[0].shape), crit)
    return ts, tb, cs, cb


def _fit_measured(lam, ts, censored, v0, gray_zone) -> dict:
    """fit_exponent on the measured crossings only: censored τ* (upper bounds) are left out."""
    return theory.fit_exponent(lam, np.where(censored, np.nan, ts), v0, gray_zone)


def _criteria(criteria) -> tuple:
    """A non-empty sequence of emergence criteria (a single name is one criterion)."""
    if isinstance(criteria, str):
        criteria = (criteria,)
    if not isinstance(criteria, (list, tuple)) or not criteria:
        raise theory.SpecbiasError(f"criteria must be a non-empty list of {', '.join(ALL_CRITERIA)} "
                                   f"(got {V._short(criteria)})")
    return tuple(V.choice("emergence criterion", c, ALL_CRITERIA) for c in criteria)


def emergence(run, basis: str = "eigen", criteria=ALL_CRITERIA, gray_zone=GRAY_ZONE) -> dict:
    """Per criterion: τ* per mode, its bootstrap replicates, v₀, NetFit per direction, and the censored
    modes (crossed before the first checkpoint after τ = 0: τ* ≤ τ₁, shown as bounds, left out of every
    fit and counted in NetFit.censored)."""
    tau, var, boot, lam = series(run, basis)
    criteria = _criteria(criteria)
    if tau.size < 2 or tau[0] != 0:
        raise theory.SpecbiasError("a network run needs its τ = 0 checkpoint and at least one more")
    v0, v0b = var[0], boot[0]
    out = {}
    for crit in criteria:
        ts, tb, cs, cb = _crossings(tau, var, boot, lam, crit)
        point = _fit_measured(lam, ts, cs, v0, gray_zone)
        reps = [_fit_measured(lam, t, c, v, gray_zone) for t, c, v in zip(tb, cb, v0b)]
        fits = {d: _combine(point[d], np.array([r[d].alpha for r in reps])) for d in point}
        ratio, outside = v0 / lam, ~in_gray_zone(v0, lam, gray_zone)
        for d, sel in (("increasing", ratio < 1), ("decreasing", ratio > 1)):
            fits[d].censored = int(np.sum(cs & sel & outside))
        out[crit] = {"tau_star": ts, "tau_star_boot": tb, "v0": v0, "fits": fits, "censored": cs,
                     "censored_boot": cb}
    return out


def all_emerged(run, criteria=("geometric",), basis: str = "eigen") -> str | None:
    """For train_net's `stop`: a reason once every mode has its τ* for good under `criteria`, in the
    point estimate AND every bootstrap replicate (crossed, or past the threshold at τ = 0), else None.
    τ* is a FIRST crossing interpolated between the two checkpoints that bracket it, so checkpoints
    after this one cannot change the τ* table, the exponents or their CIs (`emergence`); only what is
    read at the last checkpoint (the converged-variance verdict) is then not measured."""
    tau, var, boot, lam = series(run, basis)
    criteria = _criteria(criteria)
    if tau.size < 2:
        return None
    for crit in criteria:
        ts, tb = _crossings(tau, var, boot, lam, crit)[:2]
        if (np.isnan(ts) & ~starts_inside(var[0], lam, crit)).any() or \
                (np.isnan(tb) & ~starts_inside(boot[0], lam, crit)).any():
            return None
    steps = run.arrays["steps"]
    return (f"every mode has emerged ({', '.join(criteria)}; the point estimate and all {boot.shape[1]} "
            f"bootstrap replicates) by step {int(steps[-1])}")


def within_ci(ref: dict, other: dict) -> dict:
    """Does `other` (one criterion's entry of `emergence`, e.g. a mixed-precision run) agree with `ref`
    (the float32 run) within ref's CIs? τ*: every mode where either is finite lies inside ref's bootstrap
    95% interval of τ* (NaN in both counts as agreement); α per direction: inside ref's combined CI.
    Returns {"ok", "tau_outside": indices, "alpha": {direction: (ref α, other α, ref CI, inside)}}."""
    q = (1 - CONFIDENCE) / 2
    boot = np.asarray(ref["tau_star_boot"], float)
    boot = np.where(np.isfinite(boot), boot, np.inf)  # a replicate that never crosses: later than any τ
    lo, hi = np.quantile(boot, q, axis=0, method="lower"), np.quantile(boot, 1 - q, axis=0, method="higher")
    t_ref, t = np.asarray(ref["tau_star"], float), np.asarray(other["tau_star"], float)
    both_nan = np.isnan(t_ref) & np.isnan(t)
    inside = both_nan | (np.isfinite(t) & (t >= np.minimum(lo, t_ref)) & (t <= np.maximum(hi, t_ref)))
    alpha = {}
    for d, f in ref["fits"].items():
        g = other["fits"][d]
        ok = (np.isnan(f.alpha) and np.isnan(g.alpha)) or bool(f.ci[0] <= g.alpha <= f.ci[1])
        alpha[d] = (float(f.alpha), float(g.alpha), tuple(f.ci), ok)
    return {"ok": bool(inside.all() and all(a[3] for a in alpha.values())),
            "tau_outside": np.nonzero(~inside)[0].tolist(), "alpha": alpha}


def within_two_sample(ref: dict, other: dict, v0, lam, gray_zone=GRAY_ZONE) -> dict:
    """Do two runs measured with DIFFERENT Monte-Carlo errors (e.g. 2000 vs 1000 CRN samples per checkpoint)
    agree? within_ci's yardstick (ref's own bootstrap interval) is too narrow for a run whose own sampling
    error is larger. Here, per mode outside the gray zone (those that enter the fits; v₀, λ of ref) with a
    finite τ* in both: z = |ln τ*_other − ln τ*_ref| / √(s_ref² + s_other²), s = the standard deviation of
    ln τ* over each run's bootstrap replicates; agreement when max z ≤ the Bonferroni 95% bound
    Φ⁻¹(1 − 0.025/m) over the m modes compared (treating the runs as independent: with shared latents the
    difference's true spread is smaller, so the check errs towards passing). α per direction: inside ref's
    combined CI, as within_ci. Returns {"ok", "z_max", "bound", "modes", "tau_outside", "alpha"}."""
    from scipy import stats

    def log_sd(boot):
        lb = np.log(np.asarray(boot, float))
        return np.array([np.std(c[np.isfinite(c)], ddof=1) if np.isfinite(c).sum() >= 10 else np.nan
                         for c in lb.T])

    t_ref, t = np.asarray(ref["tau_star"], float), np.asarray(other["tau_star"], float)
    V.same_shape(ref_tau_star=t_ref, other_tau_star=t)
    use = ~in_gray_zone(v0, lam, gray_zone) & np.isfinite(t_ref) & np.isfinite(t)
    se = np.hypot(log_sd(ref["tau_star_boot"]), log_sd(other["tau_star_boot"]))
    use &= np.isfinite(se) & (se > 0)
    z = np.abs(np.log(t[use] / t_ref[use])) / se[use]
    m = int(use.sum())
    bound = float(stats.norm.ppf(1 - (1 - CONFIDENCE) / 2 / max(m, 1)))
    alpha = within_ci(ref, other)["alpha"]
    ok = bool(m > 0 and z.max() <= bound and all(a[3] for a in alpha.values()))
    return {"ok": ok, "z_max": float(z.max()) if m else np.nan, "bound": bound, "modes": m,
            "tau_outside": np.nonzero(use)[0][z > bound].tolist(), "alpha": alpha}


def q_effective(v0, sigma0: float = 0.002, sigmaT: float = 80.0) -> float:
    """The Q with σ_0^{2(1−Q)} σ_T^{2Q} = median(v₀): the linear model with the network's τ = 0 variance."""
    v = float(np.median(V.as_array("initial variance (v0)", v0, positive=True)))
    sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
    return float(np.log(v / sigma0**2) / np.log(sigmaT**2 / sigma0**2))


def _times(name: str, value) -> np.ndarray:
    """Emergence times: 1-D (or replicates × modes), > 0 or NaN (never crossed)."""
    arr = V.as_array(name, value, positive=True, allow_nan=True)
    if arr.ndim == 0:
        raise theory.SpecbiasError(f"{name} must hold one time per mode, got a single number")
    return arr


def time_scale(tau_star, ref, tau_boot=None, use=None) -> dict:
    """Factor c in τ*_network ≈ c·τ*_linear (geometric mean over the modes `use` where both are
    finite), its bootstrap CI, and the residual spread (standard deviation of ln(τ*_network/(c τ*_linear)))."""
    tau_star, ref = _times("tau_star", tau_star), _times("ref", ref)
    V.same_shape(tau_star=tau_star, ref=ref)
    use = None if use is None else np.asarray(use, bool)
    if use is not None:
        V.same_shape(tau_star=tau_star, use=use)
    if tau_boot is not None and np.size(tau_boot):
        tau_boot = _times("tau_boot", tau_boot)
        if tau_boot.ndim != 2 or tau_boot.shape[1:] != tau_star.shape:
            raise theory.SpecbiasError(f"tau_boot must be (replicates, {tau_star.size}) like tau_star, got "
                                       f"shape {tau_boot.shape}")
    r = np.log(tau_star / ref)
    ok = np.isfinite(r) & (True if use is None else use)
    if ok.sum() < 2:
        return {"factor": np.nan, "ci": (np.nan, np.nan), "residual_sd": np.nan, "n": int(ok.sum())}
    c = float(np.mean(r[ok]))
    ci = (np.nan, np.nan)
    if tau_boot is not None and np.size(tau_boot):
        rb = np.log(np.asarray(tau_boot) / np.asarray(ref)[None, :])[:, ok]
        mb = np.array([np.mean(x[np.isfinite(x)]) if np.isfinite(x).any() else np.nan for x in rb])
        mb = mb[np.isfinite(mb)]
        if mb.size >= 10:
            q = (1 - CONFIDENCE) / 2
            ci = tuple(float(np.exp(v)) for v in np.quantile(mb, [q, 1 - q]))
    return {"factor": float(np.exp(c)), "ci": ci, "residual_sd": float(np.std(r[ok] - c, ddof=1)),
            "n": int(ok.sum())}


def sampler_bias(lam, sampler: dict) -> np.ndarray:
    """b_k = λ̃*_k/λ_k: the generated variance of the OPTIMAL denoiser D*(x; σ) = λ/(λ + σ²) x (mode by
    mode, exact, no grid) pushed through the run's own sampler (its Karras schedule, Heun steps, ρ,
    σ_0, σ_T, final step), over λ. Exact integration from x(σ_T) = σ_T z gives σ_T²(λ + σ_0²)/((λ + σ_T²)λ)
    (theory.md §3.1, eq. (3.4); the shorthand λ + σ_0² assumes the start variance λ + σ_T²); 20 Heun
    steps give 5–10% more. A network at its optimum, measured with this sampler, ends at b_k λ_k: that,
    not λ_k, is the converged target of the measurement."""
    import torch

    from numerics.samplers import edm_schedule, heun

    lam = np.atleast_1d(V.variances(lam))
    if lam.ndim != 1:
        raise theory.SpecbiasError(f"variances (lam) must be 1-D (one per mode), got shape {lam.shape}")
    V.record("sampler", sampler, ("heun_steps", "sigma0", "sigmaT", "rho"))
    steps = V.count("sampler heun_steps", sampler["heun_steps"], hi=10**6)
    s0, sT = V.sampling_range(sampler["sigma0"], sampler["sigmaT"])
    lam_t = torch.as_tensor(lam, dtype=torch.float64)
    sched = edm_schedule(steps, s0, sT, V.positive("sampler rho", sampler["rho"]))
    gain = heun(lambda x, s: x * lam_t / (lam_t + s**2), torch.ones(1, lam_t.numel(), dtype=torch.float64),
                sched, bool(sampler.get("final_denoise", False)))[0]
    return (sampler["sigmaT"] * gain.numpy()) ** 2 / lam_t.numpy()


def latent_variance(sampler: dict, U) -> np.ndarray:
    """Sample variance of the run's fixed CRN latent batch z (seed and size from the run's sampler
    record) along each column of U. For a converged network whose map is aligned with U, the generated
    variance along u_k is (its gain) × this, so λ̃_k/(target_k × this) removes the part of a mode's
    deviation that the one latent batch shared by every checkpoint causes (a control variate, E = 1)."""
    from numerics.nets.crn import CheckpointSampler

    U = V.as_array("basis (U)", U)
    if U.ndim != 2:
        raise theory.SpecbiasError(f"basis (U) must be a (d, m) matrix, got shape {U.shape}")
    V.record("sampler", sampler, ("n_samples", "heun_steps", "seed"))
    z = CheckpointSampler(U.shape[0], {}, int(sampler["n_samples"]), int(sampler["heun_steps"]),
                          seed=int(sampler["seed"]), bootstrap=0).z.numpy()
    return ((z - z.mean(0)) @ U).var(0, ddof=1)


def converged_ci(run, basis: str = "eigen") -> tuple:
    """95% CI (lo, hi) per mode of the last checkpoint's generated variance: the Monte-Carlo error of
    the sampled variance (percentile bootstrap over the generated samples), widened to contain the
    point estimate. Training noise (checkpoint-to-checkpoint jitter) is not in it; see `plateau`."""
    _, var, boot, _ = series(run, basis)
    q = (1 - CONFIDENCE) / 2
    if boot.shape[1] < 10:
        raise theory.SpecbiasError(f"converged_ci needs ≥ 10 bootstrap replicates (the run has {boot.shape[1]})")
    lo, hi = np.quantile(boot[-1].astype(float), [q, 1 - q], axis=0)
    return np.minimum(lo, var[-1]), np.maximum(hi, var[-1])


def plateau(run, basis: str = "eigen", last: int = 5) -> dict:
    """λ̃/λ over the last `last` checkpoints per mode: mean and standard deviation (the training noise
    the bootstrap CI leaves out), and the τ span they cover."""
    tau, var, _, lam = series(run, basis)
    last = V.count("last", last, lo=1, hi=tau.size)  # last = 0 was var[-0:], every checkpoint
    r = var[-last:] / lam
    return {"mean": r.mean(0), "sd": r.std(0, ddof=1) if r.shape[0] > 1 else np.full(lam.shape, np.nan),
            "tau": (float(tau[-last:][0]), float(tau[-1]))}


def fitted_modes(v0, lam, gray_zone=GRAY_ZONE) -> np.ndarray:
    """Increasing modes outside the gray zone (those the increasing-mode fit uses)."""
    outside = ~in_gray_zone(v0, lam, gray_zone)  # validates v₀, λ and the zone
    return (np.asarray(v0, float) / np.asarray(lam, float) < 1) & outside


def compare(run, basis: str = "eigen", criteria=("geometric", "harmonic"), em: dict | None = None) -> dict:
    """The linear theory on the same spectrum and the departure classification of the network.

    Declared range (verify.tolerances "nonlinear-exponent-band"): the linear theory's own fitted α on
    the same modes, criterion and τ = 0 variance, ± the band; the rest of the classification (target
    reached, time-scale constant) is verify.departure.classify's."""
    criteria = _criteria(criteria)
    if em is not None and not (isinstance(em, dict) and all(c in em for c in criteria)):
        raise theory.SpecbiasError(f"em must be verify.nonlinear.emergence's result for the criteria "
                                   f"{', '.join(criteria)} (got {V._short(em)})")
    em = em or emergence(run, basis, criteria)
    _, var, _, lam = series(run, basis)
    sampler = run.meta["sampler"]
    s0, sT = sampler["sigma0"], sampler["sigmaT"]
    Q = min(max(q_effective(var[0], s0, sT), 0.0), 1.0)
    linear = theory.get("linear")
    v0_lin = float(linear.initial_variance(Q, s0, sT))
    ref = {c: theory.emergence_time(linear, lam, criterion=c, Q=Q, sigma0=s0, sigmaT=sT) for c in criteria}
    band = tol("nonlinear-exponent-band", run.meta.get("dtype", "float32")).abs
    lin_fit = {c: theory.fit_exponent(lam, ref[c], v0_lin)["increasing"] for c in criteria}
    ranges = {(c, Q): (f.alpha - band, f.alpha + band) for c, f in lin_fit.items()}
    judge = SimpleNamespace(name=run.meta["net"], law=theory.Law("inverse-variance", "linear theory ± band",
                                                                 ranges))
    tau_star = {c: em[c]["tau_star"] for c in criteria}
    ci = converged_ci(run, basis) if np.asarray(run.arrays[f"var_boot_{basis}"]).shape[1] >= 10 else None
    bias = sampler_bias(lam, sampler)
    flag = departure.classify(judge, tau_star, lam, var[0], var[-1], lam * bias, Q, ref,
                              dataset=run.meta["data"]["name"], basis=basis, sigma0=s0, converged_ci=ci)
    use = fitted_modes(var[0], lam)
    scale = {c: time_scale(em[c]["tau_star"], ref[c], em[c]["tau_star_boot"], use) for c in criteria}
    return {"flag": flag, "Q_effective": Q, "sampler_bias": bias, "v0_linear": v0_lin, "reference_tau_star": ref,
            "linear_fit": {c: f.as_dict() for c, f in lin_fit.items()}, "time_scale": scale,
            "exponent_range": {c: ranges[(c, Q)] for c in criteria}}
