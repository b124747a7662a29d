"""Sampling from a denoiser D(x, σ) or a velocity v(x, t): the EDM Heun sampler and Heun in t.

- `sample`: x(σ_T) = σ_T z, then deterministic Heun steps of the probability-flow ODE
  dx/dσ = (x − D(x; σ))/σ on the EDM ρ-schedule (Karras et al. 2022, eq. 5 and Alg. 1 with
  S_churn = 0), optionally followed by x ← D(x; σ_0);
- `sample_flow`: x(0) = z, then Heun steps of dx/dt = v(x, t) on a uniform t-schedule.
Any callable works (a nonlinear network included); per-level affine weights are wrapped as a
`GridDenoiser` / `GridVelocity` (interpolated as in numerics.grid).
"""
from __future__ import annotations

import numpy as np
import torch

from theory.errors import SpecbiasError

from .grid import as_tensor, interpolate, resolve_device, sampling_family, validated_grid

DEFAULT_SIGMA0, DEFAULT_SIGMAT, DEFAULT_RHO = 0.002, 80.0, 7.0


def edm_schedule(steps: int, sigma0: float = DEFAULT_SIGMA0, sigmaT: float = DEFAULT_SIGMAT,
                 rho: float = DEFAULT_RHO) -> np.ndarray:
    """The steps + 1 EDM levels σ_i = (σ_T^{1/ρ} + i/steps (σ_0^{1/ρ} − σ_T^{1/ρ}))^ρ, i = 0..steps,
    from σ_T down to σ_0 (Karras et al. 2022, eq. 5; ρ = 7, theory.md §6). No appended σ = 0."""
    if int(steps) < 1:
        raise SpecbiasError(f"steps must be >= 1, got {steps!r}")
    if not 0 < sigma0 < sigmaT:
        raise SpecbiasError(f"need 0 < sigma0 < sigmaT (got {sigma0:g}, {sigmaT:g})")
    i = np.arange(int(steps) + 1) / int(steps)
    out = (sigmaT ** (1 / rho) + i * (sigma0 ** (1 / rho) - sigmaT ** (1 / rho))) ** rho
    out[0], out[-1] = sigmaT, sigma0
    return out


def heun(denoiser, x: torch.Tensor, schedule, final_denoise: bool = False) -> torch.Tensor:
    """Deterministic Heun integration of dx/dσ = (x − D(x; σ))/σ along the decreasing `schedule`
    (Karras et al. 2022, Alg. 1 with S_churn = 0): with d_i = (x − D(x; σ_i))/σ_i and h = σ_{i+1} − σ_i,
        x̂ = x + h d_i,   d̂ = (x̂ − D(x̂; σ_{i+1}))/σ_{i+1},   x ← x + h (d_i + d̂)/2.
    Second order in the step. final_denoise: then x ← D(x; σ_last) — EDM's closing Euler step to σ = 0;
    for an aligned linear denoiser it multiplies the variance of mode k by ψ_k(σ_0)² (theory.md §1.1).
    `denoiser(x, sigma)` gets x of shape [..., n, d] and a float σ and returns the same shape."""
    drift = getattr(denoiser, "drift", None) or (lambda y, sigma: (y - denoiser(y, sigma)) / sigma)
    x = heun_ode(drift, x, schedule)
    if final_denoise:
        x = denoiser(x, float(schedule[-1]))
    return x


def heun_ode(drift, x: torch.Tensor, schedule) -> torch.Tensor:
    """Heun's method (explicit trapezoid) for dx/du = f(x, u), f = drift, along `schedule` (either
    direction): with h = u_{i+1} − u_i, x̂ = x + h f(x, u_i), x ← x + h (f(x, u_i) + f(x̂, u_{i+1}))/2.
    The stepper of `heun` (denoisers) and `sample_flow` (flow matching, f = v(x, t))."""
    sched = [float(v) for v in schedule]
    x = x.clone()
    for s, s_next in zip(sched[:-1], sched[1:]):
        h = s_next - s
        d_cur = drift(x, s)
        d_next = drift(torch.add(x, d_cur, alpha=h), s_next)
        x.add_(d_cur.add_(d_next), alpha=0.5 * h)
    return x


class _GridAffine:
    """x ↦ W(u) x + b(u) from per-level weights on a grid of `family` levels, interpolated linearly in
    the family's coordinate u (ln σ, or t) and constant outside. Called with x [..., n, d] (batch axes
    as W's) and a float level."""

    family = "denoiser"

    def __init__(self, W, b, levels, dtype, device):
        dev = resolve_device(device)
        self.W, self.b, lv = validated_grid(W, b, levels, dtype, dev, self.family)
        self.coords = self.coordinate(lv)
        self.d, self.batch_shape = self.W.shape[-1], tuple(self.W.shape[:-3])
        self.dtype, self.device = dtype, dev
        self.level_range = (float(lv[0]), float(lv[-1]))

    @staticmethod
    def coordinate(levels: torch.Tensor) -> torch.Tensor:
        """The interpolation coordinate of the levels."""
        return levels

    def at(self, level: float):
        """(W(level) [..., d, d], b(level) [..., 1, d])."""
        u = self.coordinate(torch.tensor([float(level)], dtype=self.dtype, device=self.device))
        Wq, bq = interpolate(self.W, self.b, self.coords, u)
        return Wq[..., 0, :, :], bq[..., 0:1, :]

    def __call__(self, x: torch.Tensor, level: float) -> torch.Tensor:
        Wq, bq = self.at(level)
        return (x @ Wq.transpose(-1, -2)).add_(bq)


class GridDenoiser(_GridAffine):
    """D(x; σ) = W(σ) x + b(σ) from per-level weights, interpolated linearly in ln σ (constant outside).

    Called as D(x, sigma) with x [..., n, d] (batch axes as W's) and a float σ."""

    coordinate = staticmethod(torch.log)

    def __init__(self, W, b=None, sigmas=None, dtype=torch.float64, device="auto"):
        super().__init__(W, b, sigmas, dtype, device)
        self.log_sigmas, self.sigma_range = self.coords, self.level_range

    def drift(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """(x − D(x; σ))/σ = x (I − W)ᵀ/σ − b/σ in one product (used by `heun`)."""
        Wq, bq = self.at(sigma)
        eye = torch.eye(self.d, dtype=self.dtype, device=self.device)
        return (x @ ((eye - Wq) / sigma).transpose(-1, -2)).sub_(bq / sigma)


class GridVelocity(_GridAffine):
    """v(x, t) = W(t) x + b(t) from weights on a flow-time grid ts ⊂ [0, 1] (None: equal steps from 0
    to 1), interpolated linearly in t (constant outside). Called as v(x, t); `drift` is v itself."""

    family = "flow"

    def __init__(self, W, b=None, ts=None, dtype=torch.float64, device="auto"):
        super().__init__(W, b, ts, dtype, device)

    def drift(self, x: torch.Tensor, t: float) -> torch.Tensor:
        return self(x, t)


#: per family: the grid class and the default sampling range of a plain callable
_FIELDS = {"denoiser": (GridDenoiser, (DEFAULT_SIGMA0, DEFAULT_SIGMAT)), "flow": (GridVelocity, (0.0, 1.0))}


def as_field(denoiser, d, batch_shape, dtype, device, family="denoiser"):
    """(callable, d, batch shape, default level range) for a callable, a GridDenoiser (GridVelocity for
    family "flow") or a (W, b, levels) tuple."""
    cls, default_range = _FIELDS[family]
    if isinstance(denoiser, tuple):
        denoiser = cls(*denoiser, dtype=dtype, device=device)
    if isinstance(denoiser, cls):
        return denoiser, denoiser.d, denoiser.batch_shape, denoiser.level_range
    if not callable(denoiser) or isinstance(denoiser, _GridAffine):
        raise SpecbiasError(f"the {family} must be a callable, a {cls.__name__} or a (W, b, levels) tuple")
    if d is None:
        raise SpecbiasError(f"the data dimension d is needed for a callable {family}")
    return denoiser, int(d), tuple(batch_shape), default_range


def _start(batch, n_samples, d, scale, seed, x_init, dtype, device) -> torch.Tensor:
    """x_init, or scale·z with z ~ N(0, I) [*batch, n_samples, d] from a generator seeded with `seed`."""
    if x_init is not None:
        return as_tensor("x_init", x_init, dtype, device)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed) if seed is not None else torch.seed())
    return scale * torch.randn(*batch, int(n_samples), d, generator=gen, dtype=dtype, device=device)


def sample(denoiser, n_samples: int = 10000, *, steps: int = 256, sigma0=None, sigmaT=None,
           rho: float = DEFAULT_RHO, seed: int | None = 0, final_denoise: bool = False, d=None,
           batch_shape=(), x_init=None, dtype=torch.float64, device="auto") -> torch.Tensor:
    """Samples of the generated law: x(σ_T) = σ_T z, z ~ N(0, I) (seeded), then `heun` over
    `edm_schedule(steps, σ_0, σ_T, ρ)` (steps Heun steps, 2·steps denoiser calls), vectorised over samples
    and batch axes. final_denoise=False (default) matches the closed forms (theory.md §1.1); True applies
    x ← D(x; σ_0) at the end, multiplying the variance of an aligned mode by ψ_k(σ_0)².

    denoiser: callable D(x, sigma) (then give d and batch_shape), a GridDenoiser, or (W, b, sigmas).
    σ_0, σ_T default to the grid's ends (the project's 0.002, 80 for a callable). x_init [..., m, d]
    replaces the random start (used by `sampler_affine_map`). Returns a tensor [*batch, n_samples, d]."""
    dev = resolve_device(device)
    D, d, batch, (lo, hi) = as_field(denoiser, d, batch_shape, dtype, dev)
    s0, sT = (lo if sigma0 is None else float(sigma0)), (hi if sigmaT is None else float(sigmaT))
    schedule = edm_schedule(steps, s0, sT, rho)
    x = _start(batch, n_samples, d, sT, seed, x_init, dtype, dev)
    return heun(D, x, schedule, final_denoise)


def sample_flow(velocity, n_samples: int = 10000, *, steps: int = 256, seed: int | None = 0, d=None,
                batch_shape=(), x_init=None, dtype=torch.float64, device="auto") -> torch.Tensor:
    """Samples of the law generated by flow matching: x(0) = z ~ N(0, I) (seeded), then `heun_ode` for
    dx/dt = v(x, t) over `steps` equal steps from t = 0 to 1 (2·steps velocity calls; second order).

    velocity: callable v(x, t) (then give d and batch_shape), a GridVelocity, or (W, b, ts).
    x_init [..., m, d] replaces the random start. Returns a tensor [*batch, n_samples, d]."""
    dev = resolve_device(device)
    v, d, batch, _ = as_field(velocity, d, batch_shape, dtype, dev, family="flow")
    if int(steps) < 1:
        raise SpecbiasError(f"steps must be >= 1, got {steps!r}")
    x = _start(batch, n_samples, d, 1.0, seed, x_init, dtype, dev)
    return heun_ode(getattr(v, "drift", v), x, np.linspace(0.0, 1.0, int(steps) + 1))


def sampler_affine_map(denoiser, *, steps: int = 256, family="denoiser", **kwargs):
    """The affine map x_end = A x_start + c realised by `sample` for a linear denoiser (or by
    `sample_flow` for a linear velocity, family="flow"), measured by running the sampler on the start
    points 0 and e_1..e_d: isolates the Heun discretisation error from Monte-Carlo noise. Takes the
    sampler's keyword arguments. Returns (A [..., d, d], c [..., d])."""
    family = sampling_family(family)
    dev = resolve_device(kwargs.get("device", "auto"))
    dtype = kwargs.get("dtype", torch.float64)
    D, d, batch, _ = as_field(denoiser, kwargs.pop("d", None), kwargs.pop("batch_shape", ()), dtype, dev,
                                  family)
    start = torch.cat([torch.zeros(1, d, dtype=dtype), torch.eye(d, dtype=dtype)]).to(dev)
    run = sample_flow if family == "flow" else sample
    out = run(D, steps=steps, d=d, batch_shape=batch, x_init=start.expand(*batch, d + 1, d), **kwargs)
    c = out[..., 0, :]
    return (out[..., 1:, :] - c[..., None, :]).transpose(-1, -2), c
