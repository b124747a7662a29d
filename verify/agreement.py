"""Theory vs training: per mode and checkpoint, the error of the weights and of ln λ̃, with the
tolerance used and its reason (from verify.tolerances), and pass/fail.

Weights: the trained per-mode gains (projected on the measurement basis after training) against the
theory's gradient-flow ψ on the same σ (or t) grid and τ checkpoints. Discrete GD differs from the
flow by O(h): with per-level steps h ≤ c/(σ² + λ_max) the gap is ≤ (c/e)|Q − K| (one-layer), the
"trajectory-gd-bound" row applied to the run's own c. Generated variance (sampled from the run's own σ_T
down to its σ_0): the trained weights' exact law
(numerics.measure, time-ordered, no eigenbasis) against the closed form: σ-grid (or t-grid)
interpolation error plus the propagated GD gap, the "log-variance-trained" row. Modes are read in
the architecture's own basis (eigen or Fourier).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import theory

from .tolerances import Tol, tol


@dataclass
class Agreement:
    arch: str
    dataset: str
    mode: str
    dtype: str
    weight_error: np.ndarray  # [checkpoint, level, mode] |ψ_trained − ψ_theory|
    weight_tol: Tol
    logvar_error: np.ndarray  # [checkpoint, mode] |ln λ̃_measured − ln λ̃_theory|
    logvar_tol: Tol
    measured_log_variance: np.ndarray = field(repr=False, default=None)
    theory_log_variance: np.ndarray = field(repr=False, default=None)

    @property
    def weights_ok(self) -> bool:
        t = self.weight_tol
        return bool(np.all(self.weight_error <= t.abs))

    @property
    def variance_ok(self) -> bool:
        return bool(np.all(self.logvar_error <= self.logvar_tol.abs))

    @property
    def ok(self) -> bool:
        return self.weights_ok and self.variance_ok

    def summary(self) -> dict:
        return {"arch": self.arch, "dataset": self.dataset, "mode": self.mode, "dtype": self.dtype,
                "worst_weight_error": float(np.max(self.weight_error)),
                "weight_tolerance": {"rel": self.weight_tol.rel, "abs": self.weight_tol.abs,
                                     "reason": self.weight_tol.reason},
                "worst_log_variance_error": float(np.max(self.logvar_error)),
                "log_variance_tolerance": {"rel": self.logvar_tol.rel, "abs": self.logvar_tol.abs,
                                           "reason": self.logvar_tol.reason},
                "weights_ok": self.weights_ok, "variance_ok": self.variance_ok, "ok": self.ok}


def measured_log_variance(run, data) -> np.ndarray:
    """ln λ̃ [checkpoint, mode] of the trained weights' exact generated law, in the run's basis."""
    from numerics import measure

    arch = theory.get(run.meta["arch"])
    m = measure.measure(run.W, run.b, run.levels, method="exact", family=arch.sampling,
                        fourier_shape=data.shape if run.meta["basis"] == "fourier" else None,
                        U=data.U if run.meta["basis"] == "eigen" else None)
    var = m.var_fourier if run.meta["basis"] == "fourier" else m.var_eig
    return np.log(var)


def _weight_tolerance(run, arch, dtype: str) -> Tol:
    """The GD-vs-flow bound of this run: max(abs, rel·(c/e)·max|Q − ψ*|) ("trajectory-gd-bound")."""
    t = tol("trajectory-gd-bound", dtype)
    c = run.meta.get("step_fraction")
    if c is None:  # a user-fixed h: its effective fraction max_l h_l (σ_l² + λ_max)
        c = float(np.max(run.h * (run.levels**2 + run.meta["lam_max"])))
    far = arch.weight(run.lam[None, :], run.levels[:, None], 1e12, Q=run.meta["Q"],
                      eta=run.meta["eta"], **run.meta.get("theory_params", {}))
    bound = t.rel * (c / np.e) * float(np.max(np.abs(run.meta["Q"] - far)))
    return Tol(0.0, max(t.abs, bound), t.reason + f" (this run: c = {c:g}, bound {bound:.3g})")


def sampling_range(run) -> dict:
    """The run's own σ_0, σ_T (its grid ends), for closed forms compared with it; {} for flows."""
    if run.level_name != "sigma":
        return {}
    return {"sigma0": float(run.levels[0]), "sigmaT": float(run.levels[-1])}


def compare(run, data, dataset: str = "") -> Agreement:
    """Agreement of one training run (with keep_weights=True) with its architecture's theory."""
    arch = theory.get(run.meta["arch"])
    dtype = run.meta.get("dtype", "float64").replace("torch.", "")
    psi_theory = run.theory_gains()
    lam = run.lam
    lv_theory = arch.log_generated_variance(lam[None, :], run.tau[:, None],
                                            Q=run.meta["Q"], eta=run.meta["eta"], **sampling_range(run),
                                            **run.meta.get("theory_params", {}))
    lv_meas = measured_log_variance(run, data)
    return Agreement(arch.name, dataset, run.meta["mode"], dtype,
                     np.abs(run.gains - psi_theory), _weight_tolerance(run, arch, dtype),
                     np.abs(lv_meas - lv_theory), tol("log-variance-trained", dtype), lv_meas, lv_theory)


def judge(run, data, dataset: str = "") -> dict:
    """The one verdict on a training run, by compare()'s bounds: the weights against the per-run GD-vs-flow
    bound ("trajectory-gd-bound"), and ln λ̃ of the trained weights ("log-variance-trained") when the
    run kept its weights (keep_weights=True; without them ln λ̃ cannot be measured and only the weights
    are judged). `specbias train`, `verify` and `report` all decide through here or compare(). JSON-able;
    {"available": False, "reason": ...} where the architecture has no theory for this run."""
    from theory.errors import SpecbiasError

    arch = theory.get(run.meta["arch"])
    dtype = run.meta.get("dtype", "float64").replace("torch.", "")
    try:
        if "W" in run.arrays:  # keep_weights=True
            a = compare(run, data, dataset)
            werr, wtol = a.weight_error, a.weight_tol
            lv = {"max_abs_error": a.logvar_error.max(-1).tolist(), "tolerance_abs": a.logvar_tol.abs,
                  "within_tolerance": a.variance_ok, "reason": a.logvar_tol.reason}
        else:
            werr, wtol, lv = np.abs(run.gains - run.theory_gains()), _weight_tolerance(run, arch, dtype), None
    except (SpecbiasError, NotImplementedError) as exc:
        return {"available": False, "reason": str(exc)}
    err = werr.reshape(werr.shape[0], -1).max(-1)
    weights_ok = bool(np.all(werr <= wtol.abs))
    return {"available": True, "max_abs_error": err.tolist(), "tolerance_abs": wtol.abs,
            "within_tolerance": weights_ok, "reason": wtol.reason, "log_variance": lv,
            "ok": weights_ok and (lv is None or lv["within_tolerance"])}
