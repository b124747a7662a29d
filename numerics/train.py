"""Train the theory's torch models by real gradient descent, vectorised over noise levels.

    from numerics import data, train
    run = train.train("linear", data.gaussian(64), Q=0.1)        # population mode, log τ grid
    run.gains[j, l, k]            # ψ_k(σ_l, τ_j), projected on the data eigenvectors after training
    run.theory_gains()            # the theory's closed form on the same grid

Modes
- population: gradient descent on the EXACT expected loss, computed from the data mean and
  covariance only (Gaussian equivalence, theory.md §1.3). For input a·x + c·z and target e·x + f·z
  (denoiser: a = 1, c = σ, e = 1, f = 0; flow matching: a = t, c = 1 − t, e = 1, f = −1) and the
  model's effective map W x + b, with C = Σ + μμᵀ,
      L = a² tr(W C Wᵀ) + c² ‖W‖² − 2(ae tr(W C) + cf tr W) + e² tr C + f² d + ‖b‖² + 2bᵀ(aWμ − eμ),
  which for the denoiser is tr((W − I)Σ(W − I)ᵀ) + σ²‖W‖_F² + ‖(W − I)μ + b‖² (no factor ½). The
  per-level losses are summed; levels have disjoint parameters, so each gets its own gradient, by
  torch autograd through the model's `effective()` (the loss and its derivative in (W, b) form one
  custom autograd node, so one d×d×d product per level and step is all the heavy work).
- samples: gradient descent on minibatches of actual data samples (the finite set itself when
  batch=None and the data have one) with fresh noise every step; plain GD by default, Adam if asked
  (labelled in the metadata; with Adam, τ = Σ steps·h/η is only a nominal clock).

Time. Gradient flow dθ/dτ = −η∇L; one GD step of size h advances ητ by h. A single h for all levels
would have to satisfy h < 1/(σ_T² + λ_max) ≈ 1.6e−4 at σ_T = 80, so τ ~ 100 would take ~10⁶ steps.
Instead each level l gets its own step h_l = c · 2/curv_l (c = `step_fraction`, default 0.02; for
the one-layer model curv = 2(σ_l² + λ_max), i.e. h_l = c/(σ_l² + λ_max), λ_max computed from Σ, not
from the eigenbasis), and takes its own number of steps: between consecutive checkpoints τ_{j−1},
τ_j a level takes n = ⌈η(τ_j − τ_{j−1})/h_l⌉ equal steps of size η(τ_j − τ_{j−1})/n ≤ h_l, so every
level lands exactly on every checkpoint. For models whose curvature depends on the weights (tied and
untied products, deep linear) h_l is re-derived at each checkpoint from the current weights: the
derived Hessian bound 2 s L w^{2−2/L} + 2(L − 1) g w^{1−2/L} (tied: 8 s w + 4 g) with w the largest
gain still to come along an aligned trajectory, max(‖W‖₂, max|w*|), and g = ‖½ ∂L/∂W‖₂, exact on the
top aligned mode (numerics.models.dense, numerics.stability). The relative O(h) gap to gradient flow
is of order c.

A level stops stepping once it has reached the last checkpoint, or (population mode) once it is
numerically converged: ‖∇θ_l‖ ≤ tol · max_n ‖∇θ_l(step n)‖ with tol = `converge_tol` (default 1e−13
in float64, 1e−6 in float32), checked every CHECK_EVERY iterations; it then keeps its value for every
later checkpoint (`converged_tau` records when). Everything is recorded in the run's metadata.

Pieces (one module each, shared by every model trained here, affine or not): the loop
(numerics.loop: parameter groups, one step size each), the optimisers (numerics.optim: GD, Adam), the
checkpoint schedule (numerics.schedule), the recorder (numerics.recorder), the objectives or protocols
(numerics.objectives; the exact expected loss in numerics.population) and the step bound
(numerics.stability). `train` only validates, builds the model and wires these together.

A user-given `h` (one number, or one per level) is checked against the stability bound h < 2/curv_l
before training and refused with a SpecbiasError naming the bound (for the one-layer model the exact
1/(σ² + λ_max), for products the bound above at the initial weights); during training a NaN/inf loss or gradient stops
the run with an error naming the level and the step. `steps=N` instead of `taus` runs N steps with
ONE step size for every level (h, or c times the smallest per-level bound) and checkpoints on a log
grid of step counts.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import torch

import theory
from theory import validate as V
from theory.errors import SpecbiasError

from . import budget
from .data import Dataset
from .devices import SMALL_WORK, cpu_threads, default_threads, resolve_device
from .loop import CHECK_EVERY, LevelParams, fit
from .models import check_options as check_model_options
from .models import weights_per_level
from .models.base import LEVELS
from .objectives import PopulationObjective, SampleObjective, sample_loss
from .optim import OPTIMIZERS, make_optimizer
from .population import LevelTerms, Moments, population_loss, population_loss_reference
from .recorder import MAX_WEIGHT_BYTES, AffineRecorder
from .run import Run
from .schedule import Schedule, checkpoint_grid, default_taus
from .stability import Stability, check_step

__all__ = ["train", "TrainOptions", "resolve_device", "cpu_threads", "default_threads", "default_taus",
           "Moments", "LevelTerms", "population_loss", "population_loss_reference", "sample_loss",
           "STEP_FRACTION", "CONVERGE_TOL", "MAX_SAMPLE_STEPS", "MAX_WEIGHT_BYTES", "CHECK_EVERY",
           "SMALL_WORK", "MODES", "SIZE_PARAMS", "OPTIMIZERS"]

STEP_FRACTION = 0.02
CONVERGE_TOL = {torch.float64: 1e-13, torch.float32: 1e-6}
MAX_SAMPLE_STEPS = 2_000_000
MODES = ("population", "samples")
#: architecture parameters that name the signal length: filled in from the data when not given
SIZE_PARAMS = ("N",)


def _threaded(fn):
    """Run the trainer under `cpu_threads(default_threads(...))` unless `threads` says otherwise."""

    @functools.wraps(fn)
    def wrapper(arch, data, **kwargs):
        threads = kwargs.get("threads", -1)
        if threads == -1:
            device = resolve_device(kwargs.get("device", "auto"))
            grid = kwargs.get("sigmas") if kwargs.get("sigmas") is not None else kwargs.get("ts")
            threads = default_threads(device, 64 if grid is None else np.size(grid), getattr(data, "d", 1))
        with cpu_threads(threads):
            run = fn(arch, data, **kwargs)
        run.meta["threads"] = threads or torch.get_num_threads()
        return run

    return wrapper


@_threaded
def train(arch, data, *, mode: str = "population", taus=None, steps=None, n_checkpoints: int = 40,
          h=None, step_fraction: float = STEP_FRACTION, optimizer: str = "gd", lr: float | None = None,
          batch: int | None = None, init: str = "aligned", Q=0.1, eta: float = 1.0, sigmas=None,
          ts=None, params: dict | None = None, scale: float | None = None, device="auto",
          dtype=torch.float64, keep_weights: bool = False, progress: bool = True, seed: int = 0,
          converge_tol: float | None = None, check_stability: bool = True,
          max_steps: int = MAX_SAMPLE_STEPS, model_kwargs: dict | None = None,
          threads: int | None = -1, allow_large: bool = False) -> Run:
    """Train `arch`'s torch model on `data` (a numerics.data.Dataset); see the module docstring.

    `params` are the architecture's theory parameters (a parameter named N, the signal length, defaults
    to data.d); `model_kwargs` are options of the torch model alone (e.g. `hidden` width); `threads`:
    torch CPU threads while training (-1: one for small problems, see `default_threads`; None: as is).
    `lr` (Adam only, default 1e-3) and `scale` (init="random" only, default 1e-3) are refused where
    they would be ignored, as is `batch` in population mode. Before the model is built the memory is
    estimated, and before training the steps (numerics.budget): a run that cannot fit or finish is
    refused unless `allow_large=True`.
    Returns a Run: `tau`, `sigma` (or `t`), `lam`, `gains[tau, level, mode]`, `loss`, step records,
    optional `W`/`b`, and metadata (arch, params, h, steps, dtype, device, mode, seed, wall time).
    """
    options = TrainOptions(**{k: v for k, v in locals().items() if k not in ("arch", "data")})
    return _train(theory.get(arch), data, options)


@dataclass
class TrainOptions:
    """The keyword arguments of `train`, as given (defaults and meaning: see `train`)."""

    mode: str
    taus: object
    steps: object
    n_checkpoints: int
    h: object
    step_fraction: float
    optimizer: str
    lr: float
    batch: int | None
    init: str
    Q: object
    eta: float
    sigmas: object
    ts: object
    params: dict | None
    scale: float
    device: object
    dtype: torch.dtype
    keep_weights: bool
    progress: bool
    seed: int
    converge_tol: float | None
    check_stability: bool
    max_steps: int
    model_kwargs: dict | None
    threads: int | None
    allow_large: bool


def check_options(o: TrainOptions, data, arch) -> None:
    """Refuse options outside their valid ranges, or that would be ignored, before any model is built;
    fills in the defaults of `lr` and `scale`."""
    if not isinstance(data, Dataset):
        raise SpecbiasError(f"data must be a numerics.data.Dataset (e.g. data.gaussian(16)), got "
                            f"{type(data).__name__}")
    V.choice("mode", o.mode, MODES)
    V.choice("optimizer", o.optimizer, OPTIMIZERS)
    if o.dtype not in CONVERGE_TOL:
        raise SpecbiasError(f"dtype must be torch.float64 or torch.float32 (got {o.dtype})")
    o.step_fraction = V.scalar("step_fraction c", o.step_fraction, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    o.n_checkpoints = V.count("n_checkpoints", o.n_checkpoints, lo=2, hi=10**6)
    o.seed, o.max_steps = V.seed(o.seed), V.count("max_steps", o.max_steps)
    if o.batch is not None:
        o.batch = V.count("batch", o.batch, hi=10**8)
        if o.mode == "population":
            raise SpecbiasError("batch applies to mode='samples' only (population mode uses the exact loss)")
    if o.mode == "samples" and o.batch is None and data.X is None:
        raise SpecbiasError("samples mode on Gaussian data needs a batch size (there is no finite set)")
    if o.lr is not None and o.optimizer == "gd":
        raise SpecbiasError("lr is Adam's learning rate: gradient descent uses h / step_fraction")
    if o.scale is not None and o.init == "aligned":
        raise SpecbiasError("scale is the std of init='random'; the aligned init has none")
    o.lr = V.positive("lr", 1e-3 if o.lr is None else o.lr)
    o.scale = V.nonneg("scale", 1e-3 if o.scale is None else o.scale)
    if o.converge_tol is not None:
        o.converge_tol = V.nonneg("converge_tol", o.converge_tol)
    o.model_kwargs = check_model_options(arch, o.model_kwargs)


def _check_memory(o: TrainOptions, data, device, arch, theory_params) -> None:
    """Refuse (before the model exists) a run whose working set cannot fit (numerics.budget); the
    model's own sizes (hidden width, depth) count through its weights per level."""
    grid = o.sigmas if o.sigmas is not None else o.ts
    levels = LEVELS if grid is None else int(np.size(grid))
    n_ckpt = np.size(o.taus) if o.taus is not None else np.size(o.steps) if np.size(o.steps) > 1 else o.n_checkpoints
    weights = weights_per_level(arch, data.d, {**theory_params, **dict(o.model_kwargs or {})})
    nbytes = budget.training_bytes(data.d, levels, int(n_ckpt), keep_weights=o.keep_weights, weights=weights)
    if o.mode == "samples":  # clean samples, noise, inputs and predictions of every level's minibatch
        nbytes += 4.0 * budget.FLOAT * levels * data.d * (o.batch or data.X.shape[0])
    budget.check_memory(f"training d = {data.d:,} at {levels:,} levels", nbytes, device=str(device),
                        allow_large=o.allow_large, hint="use a smaller d, batch or fewer levels/checkpoints")


def _theory_params(arch, data, params) -> dict:
    """The architecture's resolved theory parameters; the signal length defaults to the data's."""
    given = dict(params or {})
    for name in SIZE_PARAMS:
        if name in arch.params and name not in given:
            given[name] = data.d
    return arch.resolve(given)


def _build_model(arch, data, o: TrainOptions, Q, device, theory_params):
    """The architecture's torch model on the level grid it trains on: noise levels `sigmas`
    (denoisers) or flow times `ts` (flows); a grid of the other kind is ignored (and noted), so callers
    can stay generic. Returns (model, grid name, ignored notes)."""
    grid_name = {"sigma": "sigmas", "t": "ts"}[arch.sampling.variable.name]
    grids = (("sigmas", o.sigmas), ("ts", o.ts))
    level_kw = {k: v for k, v in grids if v is not None and k == grid_name}
    ignored = [f"{k} (the model trains on {grid_name})" for k, v in grids if v is not None and k != grid_name]
    model = arch.torch_model(d=data.d, shape=data.shape, init=o.init, Q=Q if Q.ndim else float(Q), cov=data.cov,
                             scale=o.scale, dtype=o.dtype, device=device,
                             generator=torch.Generator().manual_seed(int(o.seed)),
                             **level_kw, **dict(o.model_kwargs or {}), **theory_params)
    return model, grid_name, ignored


def _step_sizes(o: TrainOptions, step_grid, bound0, model, arch, stab):
    """Initial per-level step sizes h [levels] and the re-derivation rule (None: fixed sizes)."""
    if o.h is not None:
        h_arr = np.broadcast_to(V.as_array("step size (h)", o.h, positive=True), bound0.shape).astype(float).copy()
        if step_grid is not None and np.unique(h_arr).size > 1:
            raise SpecbiasError("steps=N runs every level with one step size: give a single h")
        if o.check_stability:
            check_step(h_arr, bound0, model, arch.name, stab.lam_max)
        return h_arr, None
    if step_grid is not None:
        return np.full(bound0.shape, o.step_fraction * bound0.min()), None

    def rule(levels, snap, positions):  # re-derived at every checkpoint from the current weights
        pos = torch.as_tensor(positions, device=snap.W.device)
        return o.step_fraction * stab.bound(snap.W[pos], levels, snap.b[pos]).cpu().numpy()

    return o.step_fraction * bound0, rule


def _objective(o: TrainOptions, model, coeffs, moments, data, device):
    if o.mode == "population":
        return PopulationObjective(model, coeffs, moments)
    gen = torch.Generator(device=device).manual_seed(int(o.seed) + 1)
    return SampleObjective(model, coeffs, data, o.batch, gen, o.dtype, device)


def _train(arch, data, o: TrainOptions) -> Run:
    t_start = time.perf_counter()
    check_options(o, data, arch)
    theory_params = _theory_params(arch, data, o.params)
    Q = arch.check_Q(o.Q)
    eta, device = V.rate(o.eta), resolve_device(o.device)
    tau_grid, step_grid = checkpoint_grid(o.taus, o.steps, o.n_checkpoints)
    _check_memory(o, data, device, arch, theory_params)
    model, grid_name, ignored = _build_model(arch, data, o, Q, device, theory_params)
    s = _Setup(arch, data, o, model, theory_params, Q, eta, device, ignored)
    coeffs = model.pair_coefficients().to(o.dtype)
    moments = Moments(data, o.dtype, device)
    stab = Stability(model, data, coeffs, o.dtype, device)
    with torch.no_grad():
        W0, b0 = model.effective()
        bound0 = stab.bound(W0, np.arange(model.n_levels), b0).cpu().numpy()
    h_arr, rule = _step_sizes(o, step_grid, bound0, model, arch, stab)
    if step_grid is not None:
        tau_grid = step_grid * h_arr[0] / eta
    h_most = h_arr if rule is None else o.step_fraction * stab.ceiling(np.arange(model.n_levels)).cpu().numpy()
    _check_step_counts(s, tau_grid, step_grid, h_arr, h_most)
    tol = 0.0 if o.mode == "samples" else (CONVERGE_TOL[o.dtype] if o.converge_tol is None else float(o.converge_tol))
    if o.mode == "samples":
        _check_step_budget(o, tau_grid, step_grid, eta, h_arr)
    basis_name = getattr(arch, "basis", model.basis)  # the basis the theory's modes live in
    schedule = Schedule(tau_grid, step_grid, h_arr, eta, rule)
    recorder = AffineRecorder(tau_grid.size, model.n_levels, data.basis(basis_name), o.keep_weights, data.d,
                              model, coeffs, moments, o.dtype, device)
    params = LevelParams(model.params())
    h_start = h_arr.copy()  # the schedule re-derives h_arr in place at every checkpoint

    def on_diverge(l, step, tau, h):
        return (f"training diverged at {model.level_name} = {float(model.levels[l]):.4g} (level {l}) at step "
                f"{step} (τ ≈ {tau:.4g}): the loss is NaN/inf; step h = {h:.4g}, stability bound {bound0[l]:.4g}")

    stats = fit(params, _objective(o, model, coeffs, moments, data, device),
                make_optimizer(o.optimizer, params.theta, lr=o.lr), schedule, recorder, tol=tol,
                on_diverge=on_diverge, progress=o.progress,
                desc=f"train {arch.name} ({o.mode}, {model.n_levels} levels)")
    params.copy_to(model)
    arrays = {"tau": np.asarray(tau_grid, dtype=float), model.level_name: model.levels.cpu().numpy(),
              "lam": recorder.lam, "gains": recorder.gains, "loss": recorder.loss, "h": h_start,
              "seg_h": schedule.seg_h, "seg_steps": schedule.seg_steps, "steps": recorder.steps,
              "converged_tau": schedule.converged_tau}
    if o.keep_weights:
        arrays["W"], arrays["b"] = recorder.W, recorder.b
    meta = _meta(s, basis_name, stab, bound0, tol, schedule)
    meta.update(wall_s=time.perf_counter() - t_start, loop_s=stats["loop_s"])
    return Run(arrays, meta, model)


@dataclass
class _Setup:
    """What a training run has resolved before it steps: read by the step-count check and the metadata."""

    arch: object
    data: Dataset
    o: TrainOptions
    model: object
    theory_params: dict
    Q: object  # np.ndarray, scalar or per mode
    eta: float
    device: object
    ignored: list


def _check_step_counts(s: _Setup, tau_grid, step_grid, h_arr, h_most) -> None:
    """Before training: the level that steps least, even at the largest step it can reach (h_most),
    must finish (numerics.budget.check_steps); the time estimate takes it at its initial step (h_arr:
    the ceiling h_most is far above what a deep product reaches, 10× at L = 50); and the step count of
    every level at its initial step h_arr must be representable (a level may freeze early, but its
    schedule is counted in int64 first: an absurd σ_T makes h_l underflow)."""
    o, eta, model, d, device = s.o, s.eta, s.model, s.data.d, s.device
    if step_grid is not None:
        budget.check_steps(float(step_grid[-1]), d, device=str(device), allow_large=o.allow_large,
                           tensors=len(model.params()))
        return
    with np.errstate(over="ignore", divide="ignore"):
        n = np.ceil(eta * float(tau_grid[-1]) / h_arr)
    if not np.all(n < 2.0**62):
        l = int(np.argmax(n))
        raise SpecbiasError(f"{model.level_name} = {float(model.levels[l]):.4g} would need {n[l]:.3g} steps of "
                            f"h = {h_arr[l]:.3g} to reach tau = {float(tau_grid[-1]):.4g}: lower the largest "
                            "noise level (sigmaT) or the last checkpoint")
    with np.errstate(over="ignore", divide="ignore"):
        n_min = np.ceil(eta * float(tau_grid[-1]) / h_most).min()
    budget.check_steps(float(n_min), d, device=str(device), allow_large=o.allow_large,
                       tensors=len(model.params()), n_estimate=max(float(n_min), float(n.min())))


def _check_step_budget(o: TrainOptions, tau_grid, step_grid, eta, h_arr) -> None:
    """Refuse samples-mode runs whose slowest level would take more than `max_steps` steps."""
    est = np.ceil(eta * tau_grid[-1] / h_arr).max() if step_grid is None else step_grid[-1]
    if est > o.max_steps:
        raise SpecbiasError(
            f"samples mode would take about {est:.3g} steps at the slowest level (> max_steps = "
            f"{o.max_steps:.3g}); shorten taus, use fewer/lower noise levels or pass max_steps")


def _meta(s: _Setup, basis_name, stab, bound0, tol, schedule) -> dict:
    """The run's metadata: everything needed to say what was trained, how, and how far."""
    arch, data, o, model, theory_params, Q, eta, device = (s.arch, s.data, s.o, s.model, s.theory_params, s.Q,
                                                            s.eta, s.device)
    ignored = s.ignored
    fixed_h, done = o.h is not None, schedule.done_steps
    return {
        "arch": arch.name, "theory_params": theory_params, "model_kwargs": dict(o.model_kwargs or {}),
        "model": model.describe(), "kind": model.kind,
        "level_name": model.level_name, "basis": basis_name, "mode": o.mode, "optimizer": o.optimizer,
        "lr": o.lr if o.optimizer == "adam" else None,
        "clock": "gradient flow: ητ = Σ h" if o.optimizer == "gd" else "nominal: ητ = Σ h (Adam is not gradient flow)",
        "Q": Q.tolist(), "eta": eta, "init": o.init, "scale": o.scale, "seed": int(o.seed),
        "dtype": str(o.dtype).replace("torch.", ""), "device": str(device), "batch": o.batch,
        "step_rule": ("user h" if fixed_h else "one h for all levels: c·min(2/curvature)"
                      if schedule.step_grid is not None
                      else "per level: h_l = c·2/curvature_l (one-layer: c/(σ²+λ_max)), re-derived at "
                      "each checkpoint from the current weights; segments split into equal steps ≤ h_l"),
        "step_fraction": None if fixed_h else o.step_fraction, "lam_max": stab.lam_max,
        "stability_bound_min": float(bound0.min()),
        "converge_tol": tol, "converge_rule": "freeze a level when ‖∇θ_l‖ ≤ tol·max_n ‖∇θ_l(n)‖"
                                              if tol > 0 else "off",
        "total_steps": int(done.sum()), "max_level_steps": int(done.max()),
        "levels_converged": int(np.isfinite(schedule.converged_tau).sum()),
        "data": data.describe(), "torch": torch.__version__,
        "ignored": ignored,
    }
