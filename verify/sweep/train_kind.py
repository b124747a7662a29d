"""The built-in run kind `train`: one registered architecture trained by numerics.train.train, its
generated law measured exactly (verify.agreement.compare), its emergence times read off the
checkpoints and the law τ* ∝ λ^{−α} fitted per criterion and direction (theory.fit_exponent), next to
the closed form's exact emergence times for the same modes (theory.emergence_time).

Data are built the way the agreement report builds them (verify.setups.training_setup): the spectrum
`spectrum` (numerics.data.spectrum, with `beta` for powerlaw) at dimension `d`, drawn with `seed`,
rotated randomly (eigenbasis models) or turned into a stationary signal's power spectrum (Fourier
models). The seed also seeds the initial weights and (samples protocol) the minibatches and noise; with
the population protocol and aligned initialisation a run is deterministic, and seeds differ only by
the data they draw (the lognormal spectrum and the rotation), so on a fixed spectrum (powerlaw,
logspace) the seed-to-seed spread is round-off.
"""
from __future__ import annotations

import functools
import json

import numpy as np

import theory
from theory import validate as V
from theory.errors import SpecbiasError

from .kinds import Key, Result, RunKind, choice, integer, number, optional, register_kind

CRITERIA = ("geometric", "harmonic", "arithmetic")


def _arch(_, name):
    if not isinstance(name, str):
        raise SpecbiasError("must be an architecture name")
    if name not in theory.available():
        raise SpecbiasError(f"unknown architecture (valid: {', '.join(theory.available())}; a researcher's "
                            "own: give its file as module)")
    return name


def _module(_, path):
    """`module: my_arch.py`: loaded here (theory.load_module, the CLI's --module path) so that `arch` may name
    what it registers; stored as an absolute path, and loaded again in each worker before its run."""
    if path is None:
        return None
    if not isinstance(path, str) or not path.endswith(".py"):
        raise SpecbiasError("must be the path of a .py architecture module")
    from pathlib import Path

    path = str(Path(path).resolve())
    theory.load_module(path)
    return path


def get_arch(c: dict):
    """The configuration's architecture; its module is loaded first where this process lacks it (a worker)."""
    if c.get("module") and c["arch"] not in theory.available():
        theory.load_module(c["module"])
    return theory.get(c["arch"])


def _criteria(_, value):
    vals = [value] if isinstance(value, str) else list(value)
    if not vals or any(v not in CRITERIA for v in vals):
        raise SpecbiasError(f"must be a non-empty list of {', '.join(CRITERIA)}")
    return sorted(set(vals), key=CRITERIA.index)


def _spectra():
    from numerics.data import SPECTRA

    return SPECTRA


def _modes():
    from numerics.train import MODES

    return MODES


def _inits():
    from numerics.models.base import INITS

    return INITS


@functools.lru_cache(maxsize=4096)
def _closed_form_problem(config_json: str) -> str:
    """The closed form evaluated at τ = 0 on the data of a configuration (seed 0 stands for every seed:
    seeds change the drawn variances, never the sizes or parameters this catches, e.g. a kernel wider
    than the signal); '' when it evaluates. Cached per configuration, so planning builds data once per
    configuration, not once per run (it was ~37 ms per run)."""
    c = dict(json.loads(config_json), seed=0)
    arch = theory.get(c["arch"])
    ds, kw = TrainKind.data(c)
    lam = ds.basis(arch.basis)[0]
    level = 1.0 if arch.sampling.variable.name == "sigma" else 0.5
    try:
        arch.weight(lam[None, :], level, 0.0, Q=c["Q"], **TrainKind.params(c, kw))
    except SpecbiasError as exc:
        names = ", ".join(f"{k} = {c[k]!r}" for k in arch.params) or f"d = {c['d']}"
        return f"{names}: {exc}"
    return ""


class TrainKind(RunKind):
    name = "train"
    version = "1"

    @property
    def keys(self) -> dict:
        return {  # module first: it registers the architecture that arch names
            "module": Key(None, _module, "a researcher's architecture module (.py) to load"),
            "arch": Key("linear", _arch, "architecture (theory.available(), or one registered by module)"),
            "spectrum": Key("lognormal", choice(*_spectra()), "data spectrum (numerics.data.spectrum)"),
            "beta": Key(1.0, number(0.0, open_lo=True), "power-law exponent (spectrum = powerlaw)"),
            "d": Key(16, integer(2, 4096), "data dimension / signal length"),
            "seed": Key(0, lambda n, v: V.seed(v, n), "seed of the data draw, initial weights and minibatches"),
            "Q": Key(0.1, number(), "initial gain (the architecture's range)"),
            "eta": Key(1.0, number(0.0, open_lo=True), "learning rate of the gradient flow"),
            "protocol": Key("population", choice(*_modes()), "exact expected loss or minibatches"),
            "init": Key("aligned", choice(*_inits()), "initial weights"),
            "batch": Key(None, optional(integer(1)), "minibatch size (samples protocol)"),
            "levels": Key(24, integer(2, 512), "noise levels σ ∈ [0.002, 80] trained"),
            "checkpoints": Key(16, integer(3, 1000), "log-spaced checkpoints τ"),
            "tau_min": Key(1e-3, number(0.0, open_lo=True), "first checkpoint"),
            "tau_max": Key(30.0, number(0.0, open_lo=True), "last checkpoint"),
            "step_fraction": Key(0.02, number(0.0, 1.0, open_lo=True), "per-level step h = c·2/curvature"),
            "criteria": Key(["geometric", "harmonic"], _criteria, "emergence criteria measured"),
            "device": Key("auto", choice("auto", "cpu", "cuda"), "torch device (auto: a GPU when present)"),
        }

    def extra_keys(self, config: dict) -> dict:
        """The architecture's own parameters (e.g. patch_conv's K), defaults from the registry; a size
        parameter (N) is the data's d."""
        from numerics.train import SIZE_PARAMS

        arch = get_arch(config)
        out = {}
        for name, default in arch.params.items():
            default = config["d"] if name in SIZE_PARAMS else default
            out[name] = Key(default, _param_check(arch, name), f"{arch.name} parameter")
        return out

    def normalise(self, config: dict) -> dict:
        """As RunKind.normalise, with keys that do not apply set to None (beta off the powerlaw
        spectrum, batch in the population protocol), so equal runs get equal keys."""
        out = super().normalise(config)
        if out["module"] is None:  # absent, as before the key existed: stored runs keep their keys
            del out["module"]
        if out["spectrum"] != "powerlaw":
            out["beta"] = None
        if out["protocol"] == "population":
            out["batch"] = None
        return out

    def check(self, c: dict) -> None:
        """Everything the run needs that can be checked without training: Q in the architecture's
        range and not a fixed point, the checkpoint range, and the closed form evaluated on the run's
        own data at τ = 0 (e.g. a kernel wider than the signal is refused there)."""
        arch = get_arch(c)
        try:
            arch.check_Q(c["Q"])
        except SpecbiasError as exc:
            raise SpecbiasError(f"Q = {c['Q']!r}: {exc}") from None
        if arch.note_on_Q(c["Q"]):
            raise SpecbiasError(f"Q = {c['Q']!r}: {arch.note_on_Q(c['Q'])}")
        if c["tau_min"] >= c["tau_max"]:
            raise SpecbiasError(f"tau_max = {c['tau_max']!r}: must exceed tau_min = {c['tau_min']!r}")
        if c["protocol"] == "samples" and c["batch"] is None:
            raise SpecbiasError("batch = None: the samples protocol on Gaussian data needs a batch size")
        problem = _closed_form_problem(json.dumps({k: v for k, v in c.items() if k != "seed"},
                                                  sort_keys=True, default=str))
        if problem:
            raise SpecbiasError(problem)

    def declared(self, c: dict, criterion: str, direction: str) -> tuple:
        """The architecture's registered law (theory.Law.exponent_range), increasing modes only."""
        law = get_arch(c).law
        if law.kind != "inverse-variance":
            return None, f"law {law.kind}: {law.rate}"
        if direction != "increasing":
            return None, "the law declares increasing modes only"
        rng = law.exponent_range(criterion, c["Q"])
        return (rng, "") if rng else (None, f"no range declared for {criterion}, Q = {c['Q']:g}")

    # ---- one run ------------------------------------------------------------------------------------
    @staticmethod
    def data(c: dict):
        from numerics import data

        from ..setups import training_setup

        lam = data.spectrum(c["spectrum"], c["d"], beta=c["beta"] or 1.0, seed=c["seed"])
        return training_setup(get_arch(c), c["d"], lam, c["seed"], levels=c["levels"], m=c.get("m"))

    @staticmethod
    def params(c: dict, kw: dict) -> dict:
        arch = get_arch(c)
        return {**{k: c[k] for k in arch.params}, **kw["params"]}

    def run(self, c: dict) -> Result:
        from numerics import train

        from ..agreement import compare

        ds, kw = self.data(c)
        taus = np.geomspace(c["tau_min"], c["tau_max"], c["checkpoints"])
        run = train.train(c["arch"], ds, mode=c["protocol"], init=c["init"], batch=c["batch"], Q=c["Q"],
                          eta=c["eta"], taus=taus, step_fraction=c["step_fraction"], sigmas=kw["sigmas"],
                          params=self.params(c, kw), seed=c["seed"], device=c["device"],
                          keep_weights=True, progress=False, threads=1)
        agreement = compare(run, ds, ds.name)
        exponents, modes = emergence(run, np.exp(agreement.measured_log_variance).T, c["criteria"])
        return Result(exponents, _scalars(agreement, run), modes, str(run.meta["device"]))


def _param_check(arch, name):
    def check(_, v):
        arch.resolve({name: v})
        return v
    return check


def emergence(run, lam_meas: np.ndarray, criteria) -> tuple[list, list]:
    """Per criterion: measured τ* from the checkpoints (log–log interpolation), the exact τ* of the
    closed form for the same modes, size parameters and σ range, and both fits of the law (the theory
    fit on the modes the run saw emerge, so the two are comparable)."""
    from theory.emergence import emergence_from_checkpoints

    from ..agreement import sampling_range

    arch, meta = theory.get(run.meta["arch"]), run.meta
    rng = sampling_range(run)
    v0 = float(arch.initial_variance(meta["Q"], **rng))
    exponents, modes = [], []
    for crit in criteria:
        measured = emergence_from_checkpoints(run.tau, lam_meas, v0, run.lam, crit)
        exact = theory.emergence_time(arch, run.lam, criterion=crit, Q=meta["Q"], eta=meta["eta"], **rng,
                                      **meta.get("theory_params", {}))
        fit = theory.fit_exponent(run.lam, measured, v0)
        fit_th = theory.fit_exponent(run.lam, np.where(np.isfinite(measured), exact, np.nan), v0)
        for direction, f in fit.items():
            exponents.append({"criterion": crit, "direction": direction, "alpha": f.alpha, "ci_lo": f.ci[0],
                              "ci_hi": f.ci[1], "r2": f.r2, "n": f.n, "theory_alpha": fit_th[direction].alpha})
        modes += [{"criterion": crit, "mode": k, "lam": float(run.lam[k]), "tau_star": float(measured[k]),
                   "tau_star_theory": float(exact[k])} for k in range(run.lam.size)]
    return exponents, modes


def _scalars(agreement, run) -> dict:
    s = agreement.summary()
    return {"worst_weight_error": s["worst_weight_error"], "weight_tolerance": s["weight_tolerance"]["abs"],
            "worst_log_variance_error": s["worst_log_variance_error"],
            "log_variance_tolerance": s["log_variance_tolerance"]["abs"],
            "weights_ok": s["weights_ok"], "variance_ok": s["variance_ok"], "agreement_ok": s["ok"],
            "n_modes": int(run.lam.size), "total_steps": int(run.meta["total_steps"])}


TRAIN = register_kind(TrainKind())
