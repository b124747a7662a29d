"""Train the theory's torch models by real gradient descent, vectorised over noise levels.

    from numerics import data, train
    run = train.train("linear", data.gaussian(64), Q=0.1)        # population mode, log τ grid
    run.gains[j, l, k]            # ψ_k(σ_l, τ_j), projected on the data eigenvectors after training
    run.theory_gains()            # the theory's closed form on the same grid

Modes
- population: gradient descent on the EXACT expected loss, computed from the data mean and
  covariance only (Gaussian equivalence, THEORY §1.3). For input a·x + c·z and target e·x + f·z
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
untied products, deep linear) h_l is re-derived at each checkpoint from the current weights (an upper
bound on the gains still to come along an aligned trajectory, max(‖W‖, ‖W*‖)). The relative O(h)
gap to gradient flow is of order c.

A level stops stepping once it has reached the last checkpoint, or (population mode) once it is
numerically converged: ‖∇θ_l‖ ≤ tol · max_n ‖∇θ_l(step n)‖ with tol = `converge_tol` (default 1e−13
in float64, 1e−6 in float32), checked every CHECK_EVERY iterations; it then keeps its value for every
later checkpoint (`converged_tau` records when). Everything is recorded in the run's metadata.

A user-given `h` (one number, or one per level) is checked against the stability bound h < 2/curv_l
before training and refused with a SpecbiasError naming the bound (for the one-layer model the exact
1/(σ² + λ_max), for products a conservative bound); during training a NaN/inf loss or gradient stops
the run with an error naming the level and the step. `steps=N` instead of `taus` runs N steps with
ONE step size for every level (h, or c times the smallest per-level bound) and checkpoints on a log
grid of step counts.
"""
from __future__ import annotations

import contextlib
import functools
import time

import numpy as np
import torch

import theory
from theory import validate as V
from theory.errors import SpecbiasError

from .run import Run

STEP_FRACTION = 0.02
CONVERGE_TOL = {torch.float64: 1e-13, torch.float32: 1e-6}
MAX_SAMPLE_STEPS = 2_000_000
MAX_WEIGHT_BYTES = 4 * 2**30
CHECK_EVERY = 4  # iterations between convergence checks (the gradient norm costs a pass over θ)
SMALL_WORK = 2**26  # levels·d³ per step at or below which the CPU trainer uses one thread
MODES = ("population", "samples")
#: architecture parameters that name the signal length: filled in from the data when not given
SIZE_PARAMS = ("N",)
OPTIMIZERS = ("gd", "adam")


def resolve_device(device="auto") -> torch.device:
    """"auto" → cuda when torch sees a GPU, else cpu; "cuda" without a GPU is an error."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = str(device)
    if not (name == "cpu" or name.startswith("cuda")):
        raise SpecbiasError(f"device must be auto, cpu or cuda (got {device!r})")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SpecbiasError("device cuda requested but torch sees no GPU (use --device cpu or auto)")
    return torch.device(name)


@contextlib.contextmanager
def cpu_threads(n: int | None):
    """Run with `n` torch CPU threads (None: unchanged), restoring the previous count afterwards."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def default_threads(device: torch.device, levels: int, d: int) -> int | None:
    """One CPU thread for small problems (≤ SMALL_WORK flops per step): there the per-op overhead
    dominates and OpenMP barriers only cost time, badly so on a loaded machine; None otherwise."""
    return 1 if device.type == "cpu" and levels * d**3 <= SMALL_WORK else None


def default_taus(n: int = 36, lo: float = 1e-4, hi: float = 1e3) -> np.ndarray:
    """τ = 0 and n log-spaced times from lo to hi (THEORY §6: τ ∈ [1e−4, 1e3])."""
    return np.concatenate([[0.0], np.geomspace(lo, hi, int(n))])


# ---- the exact expected loss --------------------------------------------------------------------------
class Moments:
    """First and second moments of the data as tensors: μ, C = Σ + μμᵀ (uncentred), tr C."""

    def __init__(self, data, dtype, device):
        self.mu = torch.as_tensor(data.mu, dtype=dtype, device=device)
        C = data.cov + np.outer(data.mu, data.mu)
        self.C = torch.as_tensor(0.5 * (C + C.T), dtype=dtype, device=device)
        self.trC = float(np.trace(C))
        self.d = data.d
        self.centred = bool(np.all(data.mu == 0))
        self.eye = torch.eye(data.d, dtype=dtype, device=device)


class LevelTerms:
    """Per-level constants of the exact loss for levels with coefficients (a, c, e, f): with
    B = ae·C + cf·I and P = a²WC + c²W, L = Σ((P − 2B) ⊙ W) + e² tr C + f² d + ‖b‖² [+ 2bᵀ(aWμ − eμ)]
    and ∂L/∂W = 2(P − B [+ a b μᵀ])."""

    def __init__(self, coeffs: torch.Tensor, m: Moments):
        a, c, e, f = (v[:, None, None] for v in coeffs.unbind(-1))
        self.a, self.e = a[:, :, 0], e[:, :, 0]
        self.a2, self.c2 = a * a, c * c
        self.unit_a = bool((a == 1).all())  # denoisers: WC needs no per-level scaling
        self.B = (a * e) * m.C + (c * f) * m.eye
        self.ae, self.cf = (a * e)[:, 0, 0], (c * f)[:, 0, 0]
        self.const = (e * e)[:, 0, 0] * m.trC + (f * f)[:, 0, 0] * m.d
        self.m = m

    def dot_B(self, W: torch.Tensor) -> torch.Tensor:
        """Σ(B ⊙ W) = ae·Σ(C ⊙ W) + cf·tr W, by one matrix-vector product over all levels."""
        CW = W.reshape(W.shape[0], -1) @ self.m.C.reshape(-1)
        return self.ae * CW + self.cf * torch.diagonal(W, dim1=-2, dim2=-1).sum(-1)


def _dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Σ over all but the first axis of x ⊙ y, per level, without a temporary."""
    return torch.linalg.vecdot(x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1))


class _ExpectedLoss(torch.autograd.Function):
    """The exact per-level loss of an affine map and its derivative in (W, b), as one autograd node
    (see LevelTerms); autograd carries the derivative through the model's `effective()` to its
    parameters. The one d×d×d product per level is W·C, a single GEMM over all levels."""

    @staticmethod
    def forward(ctx, W, b, t):
        m = t.m
        WC = (W.reshape(-1, W.shape[-1]) @ m.C).reshape(W.shape)
        G = torch.addcmul(WC if t.unit_a else t.a2 * WC, t.c2, W) - t.B  # ½ ∂L/∂W for μ = 0
        loss = _dot(G, W) - t.dot_B(W) + t.const + (b * b).sum(-1)
        gb = b
        if not m.centred:
            r = t.a * (W @ m.mu) - t.e * m.mu  # aWμ − eμ
            loss = loss + 2.0 * (b * r).sum(-1)
            G = G + t.a[:, :, None] * b[:, :, None] * m.mu[None, None, :]
            gb = b + r
        ctx.save_for_backward(G, gb)
        return loss

    @staticmethod
    def backward(ctx, grad):
        G, gb = ctx.saved_tensors
        g2 = 2.0 * grad
        return g2[:, None, None] * G, g2[:, None] * gb, None


def population_loss(W, b, coeffs, m: Moments, terms: LevelTerms | None = None) -> torch.Tensor:
    """Exact E‖W(a x + c z) + b − (e x + f z)‖² per level (see the module docstring); pass `terms`
    (LevelTerms of the same coefficients) to reuse the per-level constants."""
    return _ExpectedLoss.apply(W, b, terms if terms is not None else LevelTerms(coeffs, m))


def population_loss_reference(W, b, coeffs, m: Moments) -> torch.Tensor:
    """The same loss written out in plain torch ops (the test reference for value and gradient)."""
    a, c, e, f = coeffs.unbind(-1)
    WC = W @ m.C
    loss = (a * a * (WC * W).sum((-2, -1)) + c * c * (W * W).sum((-2, -1))
            - 2.0 * (a * e * (W * m.C).sum((-2, -1)) + c * f * torch.diagonal(W, dim1=-2, dim2=-1).sum(-1))
            + e * e * m.trC + f * f * m.d + (b * b).sum(-1))
    return loss + 2.0 * (b * (a[:, None] * (W @ m.mu) - e[:, None] * m.mu)).sum(-1)


def sample_loss(model, params, coeffs, data, batch, generator, dtype, device) -> torch.Tensor:
    """Monte-Carlo loss per level on fresh data (or the whole finite set) and fresh noise."""
    A = coeffs.shape[0]
    if batch is None:  # the whole finite set, the same clean samples at every level
        x = data._tensor("X", dtype, device).expand(A, -1, -1)
    else:
        x = data.sample(A * batch, generator, dtype, device).reshape(A, batch, data.d)
    z = torch.randn(x.shape, generator=generator, dtype=dtype, device=device)
    a, c, e, f = (v[:, None, None] for v in coeffs.unbind(-1))
    pred = model(a * x + c * z, params=params)
    return ((pred - (e * x + f * z)) ** 2).sum(-1).mean(-1)


# ---- stability -------------------------------------------------------------------------------------------
def _norm_bound(W: torch.Tensor) -> torch.Tensor:
    """‖W‖₂ ≤ √(‖W‖₁‖W‖_∞) per level (exact for multiples of I and for circulants)."""
    return torch.sqrt(W.abs().sum(-2).amax(-1) * W.abs().sum(-1).amax(-1))


class Stability:
    """Per-level stability bounds 2/curvature from the data's top eigenvalue and the model."""

    def __init__(self, model, data, coeffs, dtype, device):
        lam = np.linalg.eigvalsh(data.cov)  # from Σ itself, never from the stored eigenbasis
        self.lam_max = float(lam[-1])
        a, c, e, f = (v.detach().cpu().numpy() for v in coeffs.unbind(-1))
        mu2 = float(data.mu @ data.mu)
        self.coupled = mu2 > 0
        # top eigenvalue of E[y yᵀ] for the input y = a x + c z: ≤ a²(λ_max + ‖μ‖²) + c²
        self.s = torch.as_tensor(a * a * (self.lam_max + mu2) + c * c, dtype=dtype, device=device)
        num = a[:, None] * e[:, None] * lam[None, :] + (c * f)[:, None]
        den = np.maximum(a[:, None] ** 2 * lam[None, :] + (c * c)[:, None], 1e-300)
        self.w_opt = torch.as_tensor(np.abs(num / den).max(-1), dtype=dtype, device=device)
        self.model = model

    def bound(self, W: torch.Tensor, idx) -> torch.Tensor:
        """2/curvature for the levels `idx` whose current effective matrices are W."""
        wmax = torch.maximum(_norm_bound(W.detach()), self.w_opt[idx])
        return 2.0 / self.model.curvature(self.s[idx], wmax, self.coupled)


# ---- optimisers (vectorised over levels: one step size per level) ---------------------------------------
class _GD:
    def __init__(self, params, **_):
        self.state = {}

    def step(self, params, grads, h):
        with torch.no_grad():
            for p, g in zip(params.values(), grads):
                p.addcmul_(h.view(-1, *([1] * (p.ndim - 1))), g, value=-1.0)

    def gather(self, idx):
        return self

    def scatter(self, idx, sub):
        pass


class _Adam:
    """Adam with one learning rate per level and per-level step counters; states live per level."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m = {k: torch.zeros_like(v) for k, v in params.items()}
        self.v = {k: torch.zeros_like(v) for k, v in params.items()}
        self.t = torch.zeros(next(iter(params.values())).shape[0], dtype=torch.float64)

    def gather(self, idx):
        sub = _Adam.__new__(_Adam)
        sub.lr, sub.betas, sub.eps = self.lr, self.betas, self.eps
        sub.m = {k: v[idx].clone() for k, v in self.m.items()}
        sub.v = {k: v[idx].clone() for k, v in self.v.items()}
        sub.t = self.t[idx.cpu()].clone()  # step counters live on the CPU
        return sub

    def scatter(self, idx, sub):
        for k in self.m:
            self.m[k][idx], self.v[k][idx] = sub.m[k], sub.v[k]
        self.t[idx.cpu()] = sub.t

    def step(self, params, grads, h):
        b1, b2 = self.betas
        self.t += 1
        c1 = torch.as_tensor(1 - b1 ** self.t.numpy(), dtype=h.dtype, device=h.device)
        c2 = torch.as_tensor(1 - b2 ** self.t.numpy(), dtype=h.dtype, device=h.device)
        with torch.no_grad():
            for (k, p), g in zip(params.items(), grads):
                shape = (-1, *([1] * (p.ndim - 1)))
                self.m[k].mul_(b1).add_(g, alpha=1 - b1)
                self.v[k].mul_(b2).addcmul_(g, g, value=1 - b2)
                p -= (self.lr * (h > 0)).view(shape) * (self.m[k] / c1.view(shape)) / (
                    (self.v[k] / c2.view(shape)).sqrt() + self.eps)


# ---- checkpoints ------------------------------------------------------------------------------------------
def _checkpoints(taus, steps, n_checkpoints):
    """(τ grid or None, step-count grid or None), validated."""
    if steps is not None and taus is not None:
        raise SpecbiasError("give either taus (per-level steps) or steps (one step size), not both")
    if steps is not None:
        grid = np.atleast_1d(np.asarray(steps))
        if grid.size == 1:
            n = int(grid.reshape(()))
            if n < 1:
                raise SpecbiasError(f"steps must be ≥ 1 (got {n})")
            want, k = min(max(int(n_checkpoints) - 1, 1), n), max(int(n_checkpoints) - 1, 1)
            grid = np.unique(np.round(np.geomspace(1, n, k)).astype(np.int64))
            while grid.size < want:  # small step counts collide after rounding: ask for more points
                k += 1
                grid = np.unique(np.round(np.geomspace(1, n, k)).astype(np.int64))
            grid = np.concatenate([[0], grid[np.round(np.linspace(0, grid.size - 1, want)).astype(int)]])
        if np.any(grid < 0) or np.any(np.diff(grid) <= 0) or np.any(grid != np.round(grid)):
            raise SpecbiasError("step checkpoints must be increasing non-negative integers")
        return None, grid.astype(np.int64)
    tau = default_taus() if taus is None else V.times(taus).reshape(-1)
    if np.any(np.diff(tau) <= 0):
        raise SpecbiasError("checkpoint times (taus) must be strictly increasing")
    return tau, None


class _Recorder:
    """Fills the run's arrays as levels reach checkpoints (or freeze)."""

    def __init__(self, n_ckpt, n_levels, basis, keep, d, m, dtype, device):
        lam, U_re, U_im = basis
        self.lam = lam
        self.U = [torch.as_tensor(u, dtype=dtype, device=device) for u in (U_re, U_im) if u is not None]
        self.gains = np.full((n_ckpt, n_levels, lam.size), np.nan)
        self.loss = np.full((n_ckpt, n_levels), np.nan)
        self.steps = np.zeros((n_ckpt, n_levels), dtype=np.int64)
        self.seg_h = np.zeros((n_ckpt, n_levels))
        self.seg_steps = np.zeros((n_ckpt, n_levels), dtype=np.int64)
        self.keep = keep
        if keep:
            size = n_ckpt * n_levels * d * (d + 1) * 8
            if size > MAX_WEIGHT_BYTES:
                raise SpecbiasError(f"keep_weights would store {size / 2**30:.1f} GiB "
                                    f"(limit {MAX_WEIGHT_BYTES / 2**30:.0f} GiB): use fewer checkpoints or levels")
            self.W = np.full((n_ckpt, n_levels, d, d), np.nan)
            self.b = np.full((n_ckpt, n_levels, d), np.nan)
        self.moments = m

    def project(self, W: torch.Tensor) -> np.ndarray:
        """Re u_k* W u_k for every mode k: Σ over the real and imaginary parts of the basis."""
        g = sum((U * (W @ U)).sum(-2) for U in self.U)
        return g.detach().cpu().numpy()

    def record(self, levels, js, W, b, loss, steps):
        """Write level levels[i]'s state into checkpoints js[i] (a list of checkpoint indices each)."""
        gains, W_np, b_np = self.project(W), None, None
        loss = loss.detach().cpu().numpy()
        if self.keep:
            W_np, b_np = W.detach().cpu().numpy(), b.detach().cpu().numpy()
        for i, (l, jj) in enumerate(zip(levels, js)):
            for j in jj:
                self.gains[j, l], self.loss[j, l], self.steps[j, l] = gains[i], loss[i], steps[l]
                if self.keep:
                    self.W[j, l], self.b[j, l] = W_np[i], b_np[i]


# ---- the trainer ------------------------------------------------------------------------------------------
def _threaded(fn):
    """Run the trainer under `cpu_threads(default_threads(...))` unless `threads` says otherwise."""

    @functools.wraps(fn)
    def wrapper(arch, data, **kwargs):
        threads = kwargs.get("threads", -1)
        if threads == -1:
            device = resolve_device(kwargs.get("device", "auto"))
            grid = kwargs.get("sigmas") if kwargs.get("sigmas") is not None else kwargs.get("ts")
            threads = default_threads(device, 64 if grid is None else np.size(grid), data.d)
        with cpu_threads(threads):
            run = fn(arch, data, **kwargs)
        run.meta["threads"] = threads or torch.get_num_threads()
        return run

    return wrapper


@_threaded
def train(arch, data, *, mode: str = "population", taus=None, steps=None, n_checkpoints: int = 40,
          h=None, step_fraction: float = STEP_FRACTION, optimizer: str = "gd", lr: float = 1e-3,
          batch: int | None = None, init: str = "aligned", Q=0.1, eta: float = 1.0, sigmas=None,
          ts=None, params: dict | None = None, scale: float = 1e-3, device="auto",
          dtype=torch.float64, keep_weights: bool = False, progress: bool = True, seed: int = 0,
          converge_tol: float | None = None, check_stability: bool = True,
          max_steps: int = MAX_SAMPLE_STEPS, model_kwargs: dict | None = None,
          threads: int | None = -1) -> Run:
    """Train `arch`'s torch model on `data` (a numerics.data.Dataset); see the module docstring.

    `params` are the architecture's theory parameters (a parameter named N, the signal length, defaults
    to data.d); `model_kwargs` are options of the torch model alone (e.g. `hidden` width); `threads`:
    torch CPU threads while training (-1: one for small problems, see `default_threads`; None: as is).
    Returns a Run: `tau`, `sigma` (or `t`), `lam`, `gains[tau, level, mode]`, `loss`, step records,
    optional `W`/`b`, and metadata (arch, params, h, steps, dtype, device, mode, seed, wall time).
    """
    t_start = time.perf_counter()
    arch = theory.get(arch)
    given = dict(params or {})
    for name in SIZE_PARAMS:  # the signal length is the data's, unless the caller says otherwise
        if name in arch.params and name not in given:
            given[name] = data.d
    theory_params = arch.resolve(given)
    if mode not in MODES:
        raise SpecbiasError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    if optimizer not in OPTIMIZERS:
        raise SpecbiasError(f"optimizer must be one of {', '.join(OPTIMIZERS)} (got {optimizer!r})")
    if dtype not in CONVERGE_TOL:
        raise SpecbiasError(f"dtype must be torch.float64 or torch.float32 (got {dtype})")
    if not 0 < step_fraction < 1:
        raise SpecbiasError(f"step_fraction c must lie in (0, 1) (got {step_fraction:g})")
    if batch is not None and (int(batch) != batch or batch < 1):
        raise SpecbiasError(f"batch must be a positive integer (got {batch!r})")
    if mode == "samples" and batch is None and data.X is None:
        raise SpecbiasError("samples mode on Gaussian data needs a batch size (there is no finite set)")
    Q_checked = arch.check_Q(Q)
    eta = V.rate(eta)
    device = resolve_device(device)
    tau_grid, step_grid = _checkpoints(taus, steps, n_checkpoints)
    gen_init = torch.Generator().manual_seed(int(seed))
    gen_data = torch.Generator(device=device).manual_seed(int(seed) + 1)

    # the grid the model trains on: noise levels `sigmas` (denoisers) or flow times `ts` (flow
    # models); a grid of the other kind is ignored (and noted), so callers can stay generic
    grid_name = {"sigma": "sigmas", "t": "ts"}[arch.sampling.variable.name]
    level_kw = {k: v for k, v in (("sigmas", sigmas), ("ts", ts)) if v is not None and k == grid_name}
    ignored = [k for k, v in (("sigmas", sigmas), ("ts", ts)) if v is not None and k != grid_name]
    model = arch.torch_model(d=data.d, shape=data.shape, init=init, Q=Q_checked if Q_checked.ndim else float(Q_checked),
                             cov=data.cov, scale=scale, dtype=dtype, device=device, generator=gen_init,
                             **level_kw, **dict(model_kwargs or {}), **theory_params)
    L = model.n_levels
    coeffs = model.pair_coefficients().to(dtype)
    moments = Moments(data, dtype, device)
    stab = Stability(model, data, coeffs, dtype, device)
    all_idx = np.arange(L)
    with torch.no_grad():
        W0, _ = model.effective()
        bound0 = stab.bound(W0, all_idx).cpu().numpy()

    # step sizes
    fixed_h = h is not None
    if fixed_h:
        h_arr = np.broadcast_to(V.as_array("step size (h)", h, positive=True), (L,)).astype(float).copy()
        if step_grid is not None and np.unique(h_arr).size > 1:
            raise SpecbiasError("steps=N runs every level with one step size: give a single h")
        bad = np.nonzero(h_arr >= bound0)[0]
        if check_stability and bad.size:
            l = bad[0]
            raise SpecbiasError(
                f"step size h = {h_arr[l]:.4g} is unstable at {model.level_name} = {float(model.levels[l]):.4g}: "
                f"gradient descent on {arch.name} diverges for h ≥ {bound0[l]:.4g} there (bound 2/curvature; "
                f"one-layer: 1/(σ² + λ_max), λ_max = {stab.lam_max:.4g}); every level is stable for "
                f"h < {bound0.min():.4g}, or leave h unset for per-level steps")
    elif step_grid is not None:
        h_arr = np.full(L, step_fraction * bound0.min())
    else:
        h_arr = step_fraction * bound0
    adaptive = not fixed_h and step_grid is None  # per-level h, re-derived at every checkpoint

    if step_grid is not None:
        tau_grid = step_grid * h_arr[0] / eta
    n_ckpt = tau_grid.size
    tol = 0.0 if mode == "samples" else (CONVERGE_TOL[dtype] if converge_tol is None else float(converge_tol))
    if mode == "samples":
        est = np.ceil(eta * tau_grid[-1] / h_arr).max() if step_grid is None else step_grid[-1]
        if est > max_steps:
            raise SpecbiasError(
                f"samples mode would take about {est:.3g} steps at the slowest level (> max_steps = "
                f"{max_steps:.3g}); shorten taus, use fewer/lower noise levels or pass max_steps")

    basis_name = getattr(arch, "basis", model.basis)  # the basis the theory's modes live in
    basis = data.basis(basis_name)
    rec = _Recorder(n_ckpt, L, basis, keep_weights, data.d, moments, dtype, device)
    theta = {k: v.detach().clone() for k, v in model.params().items()}
    opt = (_GD if optimizer == "gd" else _Adam)(theta, lr=lr)

    seg = np.zeros(L, dtype=np.int64)  # the segment (checkpoint index) each level is in
    remaining = np.zeros(L, dtype=np.int64)  # steps left in that segment
    seg_h = np.zeros(L)
    done_steps = np.zeros(L, dtype=np.int64)
    tau_now = np.zeros(L)
    converged_tau = np.full(L, np.nan)
    gmax = torch.zeros(L, dtype=dtype, device=device)
    active = np.ones(L, dtype=bool)

    from tqdm.auto import tqdm

    bar = tqdm(total=L * n_ckpt, disable=not progress, unit="ckpt", leave=False,
               desc=f"train {arch.name} ({mode}, {L} levels)")

    def start_segments(levels, W_lv):
        """For levels at a segment boundary: record zero-length segments and size the next one."""
        rec_levels, rec_js = [], []
        if adaptive and len(levels):
            h_new = step_fraction * stab.bound(W_lv, levels).cpu().numpy()
            h_arr[levels] = np.minimum(h_new, np.inf)
        for i, l in enumerate(levels):
            js = []
            while seg[l] < n_ckpt:
                j = seg[l]
                if step_grid is not None:
                    n = int(step_grid[j] - (step_grid[j - 1] if j else 0))
                    hs = h_arr[l]
                else:
                    delta = eta * (tau_grid[j] - (tau_grid[j - 1] if j else 0.0))
                    n = int(np.ceil(delta / h_arr[l] * (1 - 1e-12))) if delta > 0 else 0
                    hs = delta / n if n else 0.0
                rec.seg_h[j, l], rec.seg_steps[j, l] = hs, n
                if n:
                    remaining[l], seg_h[l] = n, hs
                    break
                js.append(j)
                seg[l] += 1
            if js:
                rec_levels.append(i)
                rec_js.append(js)
            if seg[l] >= n_ckpt:
                active[l] = False
        return rec_levels, rec_js

    def record(levels, positions, js, W, b, loss):
        if not positions:
            return
        pos = torch.as_tensor(positions, device=device)
        rec.record([levels[p] for p in positions], js, W[pos], b[pos], loss[pos], done_steps)
        bar.update(sum(len(j) for j in js))

    def exact_loss(W, b, idx):
        return population_loss(W, b, coeffs[torch.as_tensor(idx, device=device)], moments)

    with torch.no_grad():
        W, b = model.effective(theta)
        pos, js = start_segments(all_idx, W)
        record(all_idx, pos, js, W, b, exact_loss(W, b, all_idx))

    idx = np.nonzero(active)[0]
    work, sub_opt, hvec = None, None, None
    dirty, iteration = True, 0
    wall_loop = time.perf_counter()
    while idx.size:
        if dirty:
            tidx = torch.as_tensor(idx, device=device)
            work = {k: v[tidx].clone().requires_grad_(True) for k, v in theta.items()}
            sub_opt = opt.gather(tidx)
            hvec = torch.as_tensor(seg_h[idx], dtype=dtype, device=device)
            cidx = coeffs[tidx]
            terms = LevelTerms(cidx, moments)
            dirty = False
        if mode == "population":
            W, b = model.effective(work)
            loss = population_loss(W, b, cidx, moments, terms)
        else:
            loss = sample_loss(model, work, cidx, data, batch, gen_data, dtype, device)
        grads = torch.autograd.grad(loss.sum(), list(work.values()))
        iteration += 1
        if progress and iteration % 500 == 0:
            bar.set_postfix(iteration=iteration, active=int(active.sum()), refresh=False)
        with torch.no_grad():
            finite = torch.isfinite(loss)  # a non-finite parameter or gradient shows in the loss first
            if tol > 0 and iteration % CHECK_EVERY == 0:
                gn = sum(_dot(g, g) for g in grads)
                gm = torch.maximum(gmax[tidx], gn)
                gmax[tidx] = gm
                conv = gn <= (tol * tol) * gm
            else:
                conv = torch.zeros_like(finite)
            flags = torch.stack([finite, conv]).cpu().numpy()
        if not flags[0].all():
            p = int(np.nonzero(~flags[0])[0][0])
            l = idx[p]
            raise SpecbiasError(
                f"training diverged at {model.level_name} = {float(model.levels[l]):.4g} (level {l}) at step "
                f"{done_steps[l] + 1} (τ ≈ {tau_now[l]:.4g}): the loss is NaN/inf; step h = {seg_h[l]:.4g}, "
                f"stability bound {bound0[l]:.4g}")
        frozen = np.nonzero(flags[1])[0]
        if frozen.size:
            with torch.no_grad():
                Wf, bf = (W, b) if mode == "population" else model.effective(work)
                lf = loss if mode == "population" else exact_loss(Wf, bf, idx)
                js = [list(range(seg[idx[p]], n_ckpt)) for p in frozen]
                for l in idx[frozen]:
                    converged_tau[l] = tau_now[l]
                    rec.seg_steps[seg[l], l] -= remaining[l]  # the steps it actually took
                    rec.seg_steps[seg[l] + 1:, l] = 0
                    rec.seg_h[seg[l] + 1:, l] = 0.0
                    active[l] = False
                record(idx, list(frozen), js, Wf.detach(), bf.detach(), lf.detach())
            hvec[torch.as_tensor(frozen, device=device)] = 0.0
        sub_opt.step(work, grads, hvec)
        moving = idx[active[idx]]
        done_steps[moving] += 1
        remaining[moving] -= 1
        tau_now[moving] += seg_h[moving] / eta
        ended = np.nonzero(active[idx] & (remaining[idx] == 0))[0].tolist()
        if ended:
            with torch.no_grad():
                W2, b2 = model.effective(work)
                ended_levels = idx[ended]
                for l in ended_levels:
                    tau_now[l] = tau_grid[seg[l]]
                js = [[seg[l]] for l in ended_levels]
                record(idx, ended, js, W2, b2, exact_loss(W2, b2, idx))
                seg[ended_levels] += 1
                pos, js2 = start_segments(ended_levels, W2[torch.as_tensor(ended, device=device)])
                if pos:
                    sel = [ended[p] for p in pos]
                    record(idx, sel, js2, W2, b2, exact_loss(W2, b2, idx))
            hvec = torch.as_tensor(seg_h[idx], dtype=dtype, device=device)
            hvec[torch.as_tensor(~active[idx], device=device)] = 0.0
        if frozen.size or not active[idx].all():
            with torch.no_grad():
                for k in theta:
                    theta[k][tidx] = work[k].detach()
            opt.scatter(tidx, sub_opt)
            idx = np.nonzero(active)[0]
            dirty = True
    bar.close()
    if work is not None:
        with torch.no_grad():
            for k in theta:
                theta[k][tidx] = work[k].detach()
    with torch.no_grad():
        for k, p in model.params().items():
            p.copy_(theta[k])

    arrays = {"tau": np.asarray(tau_grid, dtype=float), model.level_name: model.levels.cpu().numpy(),
              "lam": rec.lam, "gains": rec.gains, "loss": rec.loss, "h": h_arr.copy(),
              "seg_h": rec.seg_h, "seg_steps": rec.seg_steps, "steps": rec.steps,
              "converged_tau": converged_tau}
    if keep_weights:
        arrays["W"], arrays["b"] = rec.W, rec.b
    meta = {
        "arch": arch.name, "theory_params": theory_params, "model_kwargs": dict(model_kwargs or {}),
        "model": model.describe(), "kind": model.kind,
        "level_name": model.level_name, "basis": basis_name, "mode": mode, "optimizer": optimizer,
        "lr": lr if optimizer == "adam" else None,
        "clock": "gradient flow: ητ = Σ h" if optimizer == "gd" else "nominal: ητ = Σ h (Adam is not gradient flow)",
        "Q": Q_checked.tolist(), "eta": eta, "init": init, "scale": scale, "seed": int(seed),
        "dtype": str(dtype).replace("torch.", ""), "device": str(device), "batch": batch,
        "step_rule": ("user h" if fixed_h else "one h for all levels: c·min(2/curvature)" if step_grid is not None
                      else "per level: h_l = c·2/curvature_l (one-layer: c/(σ²+λ_max)), re-derived at "
                      "each checkpoint from the current weights; segments split into equal steps ≤ h_l"),
        "step_fraction": None if fixed_h else step_fraction, "lam_max": stab.lam_max,
        "stability_bound_min": float(bound0.min()),
        "converge_tol": tol, "converge_rule": "freeze a level when ‖∇θ_l‖ ≤ tol·max_n ‖∇θ_l(n)‖"
                                              if tol > 0 else "off",
        "total_steps": int(done_steps.sum()), "max_level_steps": int(done_steps.max()),
        "levels_converged": int(np.isfinite(converged_tau).sum()),
        "wall_s": time.perf_counter() - t_start, "loop_s": time.perf_counter() - wall_loop,
        "data": data.describe(), "torch": torch.__version__,
        "ignored": [f"{k} (the model trains on {grid_name})" for k in ignored],
    }
    return Run(arrays, meta, model)
