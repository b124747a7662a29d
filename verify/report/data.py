"""The computations behind an agreement report: theory curves, emergence, exponents, departures and
training agreement, per registered architecture, on each architecture's natural data and basis."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import theory
from verify.departure import classify_theory

Q_TABLE = (0.0, 0.1, 0.5, 0.6, 1.0)  # theory.md §6
CRITERIA = ("harmonic", "geometric")


@dataclass
class Preset:
    """Sizes of a report run: theory at d (the paper's d = 64), training at train_d."""

    d: int = 64
    train_d: int = 16
    checkpoints: int = 16
    n_tau: int = 160
    tau_max: float = 1e3
    train_tau_max: float = 30.0  # every training mode has emerged by then (λ_min ≈ 0.1)


PRESETS = {
    "quick": Preset(d=32, train_d=8, checkpoints=10, n_tau=80),
    "default": Preset(),
    "full": Preset(train_d=64, checkpoints=40, n_tau=240, train_tau_max=100.0),
}


@dataclass
class ArchResult:
    name: str
    dataset: str
    basis: str
    lam: np.ndarray
    tau: np.ndarray
    log_variance: np.ndarray  # [mode, tau] theory
    weights: np.ndarray  # [mode, tau] theory ψ at σ = 1 (t = 1/2 for flow matching)
    level: float
    tau_star: dict  # criterion → τ* per mode (exact)
    fits: dict  # criterion → {"increasing": Fit, "decreasing": Fit}
    v0: float
    exponents: dict = field(default_factory=dict)  # (Q, criterion) → fits
    flags: list = field(default_factory=list)
    departure_sets: dict = field(default_factory=dict)  # data set label → spectrum
    agreement: object = None
    run: object = None
    measured_tau_star: np.ndarray | None = None
    params: dict = field(default_factory=dict)  # theory parameters used (e.g. N = signal length)
    untrained: str = ""  # why there is no training run (e.g. no torch model declared)


def sized(arch, n: int) -> dict:
    """Architecture parameters naming the signal length (e.g. the circulant's N), set to the data's n,
    exactly as numerics.train fills them in."""
    from numerics.train import SIZE_PARAMS

    return {k: int(n) for k in SIZE_PARAMS if k in arch.params}


def natural_level(arch) -> float:
    """The σ (or t) at which weight trajectories are drawn: σ = 1 as in the paper, t = 1/2 for flows."""
    return 1.0 if arch.sampling.variable.name == "sigma" else 0.5


def theory_result(name: str, dataset: str, lam: np.ndarray, preset: Preset, Q: float = 0.1) -> ArchResult:
    """Closed-form curves, exact emergence times and fits for one architecture on spectrum `lam`."""
    arch = theory.get(name)
    lam = np.asarray(lam, float) if arch.coupled else np.sort(arch.as_spectrum(lam))[::-1]
    tau = np.geomspace(1e-4, preset.tau_max, preset.n_tau)
    kw = sized(arch, lam.size)
    lv = arch.log_generated_variance(lam[None, :], tau[:, None], Q=Q, **kw).T
    level = natural_level(arch)
    w = arch.weight(lam[None, :], level, tau[:, None], Q=Q, **kw).T
    v0 = float(arch.initial_variance(Q))
    ts = {c: theory.emergence_time(arch, lam, criterion=c, Q=Q, **kw) for c in CRITERIA}
    fits = {c: theory.fit_exponent(lam, t, v0) for c, t in ts.items()}
    return ArchResult(name, dataset, arch.basis, lam, tau, lv, w, level, ts, fits, v0, params=kw)


def exponent_table(res: ArchResult) -> None:
    """α for Q ∈ {0, 0.1, 0.5, 0.6, 1} × {harmonic, geometric} on the architecture's spectrum."""
    arch = theory.get(res.name)
    for Q in Q_TABLE:
        if not arch.q_range[0] <= Q <= arch.q_range[1] or Q in arch.q_fixed_points:
            continue
        v0 = float(arch.initial_variance(Q))
        for c in CRITERIA:
            ts = theory.emergence_time(arch, res.lam, criterion=c, Q=Q, **res.params)
            res.exponents[(Q, c)] = theory.fit_exponent(res.lam, ts, v0)


def departures(res: ArchResult, datasets: dict) -> None:
    """Departure flags on every data set of the architecture's basis (theory, exact)."""
    res.departure_sets = dict(datasets)
    arch = theory.get(res.name)
    for label, lam in datasets.items():
        res.flags.append(classify_theory(res.name, lam, dataset=label, basis=res.basis,
                                         **sized(arch, len(lam))))


def train_and_compare(res: ArchResult, lam_train: np.ndarray, preset: Preset, seed: int, Q: float = 0.1) -> None:
    """Train the architecture's torch model (population mode, data from verify.setups) and compare."""
    from numerics import train
    from theory.emergence import emergence_from_checkpoints
    from verify.agreement import compare
    from verify.setups import has_model, training_setup

    arch = theory.get(res.name)
    if not has_model(arch):
        res.untrained = "no torch model declared (theory only)"
        return
    data, kw = training_setup(arch, preset.train_d, lam_train, seed, levels=32)
    taus = np.geomspace(1e-3, preset.train_tau_max, preset.checkpoints)
    run = train.train(res.name, data, Q=Q, taus=taus, keep_weights=True, progress=False, **kw)
    res.run = run
    res.agreement = compare(run, data, data.name)
    lam_meas = np.exp(res.agreement.measured_log_variance).T  # [mode, checkpoint]
    res.measured_tau_star = emergence_from_checkpoints(run.tau, lam_meas, res.v0, run.lam)
