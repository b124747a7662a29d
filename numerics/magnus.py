"""Exact measurement of an affine sampler: the Magnus-4 propagator of its linear ODE.

The probability-flow ODE of D(x; σ) = W_σ x + b_σ in s = ln σ, dx/ds = (I − W(s)) x − b(s), is affine,
so x(σ_0) = A x(σ_T) + c with x(σ_T) ~ N(0, σ_T² I): the generated law is N(c, σ_T² A Aᵀ) (Lemma 4.1;
no final denoising step). A and c come from the augmented propagator of y = [x; 1],
dy/ds = G(s) y, G = [[I − W, −b], [0, 0]], by the fourth-order Magnus integrator (time-ordered: the
W's need not commute). Flow matching, dx/dt = W(t) x + b(t) from t = 0 to 1 with x(0) ~ N(0, I), is
the same with G = [[W, b], [0, 0]] upwards in t: N(c, A Aᵀ).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from theory.errors import SpecbiasError

from .grid import interpolate, level_range, resolve_device, validated_grid

#: widest Magnus step in s = ln σ (`affine_map`) and in flow time t (`flow_map`); grid levels are knots too
DEFAULT_SIGMA_STEP, DEFAULT_FLOW_STEP = 0.25, 1.0 / 64
#: tensor elements per chunk of batch entries in `affine_map` / `flow_map`: bounds memory, keeps work
#: cache-sized
_CHUNK_ELEMENTS = 2**19


def knots(log_sigmas: torch.Tensor, sigma0: float, sigmaT: float, max_step: float) -> torch.Tensor:
    """Increasing integration knots in s = ln σ from ln σ_0 to ln σ_T: every grid level in between
    (where the interpolant has kinks) plus equal subdivisions, each at most `max_step` wide."""
    return knots_between(log_sigmas, math.log(sigma0), math.log(sigmaT), max_step)


def knots_between(grid: torch.Tensor, lo: float, hi: float, max_step: float) -> torch.Tensor:
    """`knots` in any increasing grid coordinate (ln σ, or the flow time t) from lo to hi."""
    if not max_step > 0:
        raise SpecbiasError(f"max_step must be > 0, got {max_step!r}")
    inner = [float(v) for v in grid.cpu() if lo < float(v) < hi]
    edges = [lo, *inner, hi]
    pts = []
    for a, z in zip(edges[:-1], edges[1:]):
        m = max(1, math.ceil((z - a) / max_step - 1e-9))
        pts.extend(a + (z - a) * j / m for j in range(m))
    pts.append(hi)
    return torch.tensor(pts, dtype=grid.dtype, device=grid.device)


def ordered_product(mats: torch.Tensor, normalise: bool = False):
    """P = M_0 M_1 ⋯ M_{N−1} over axis −3 by pairwise (tree) reduction: log₂N batched matmuls.

    With `normalise`, each partial product is divided by its largest |entry| and the logs of those
    scales are accumulated, so products far below (or above) the float range stay representable.
    Returns (P, log_scale) with the true product = exp(log_scale) · P (log_scale = 0 if not normalise)."""
    log_scale = torch.zeros(mats.shape[:-3], dtype=mats.dtype, device=mats.device)
    eye = torch.eye(mats.shape[-1], dtype=mats.dtype, device=mats.device)
    while mats.shape[-3] > 1:
        if mats.shape[-3] % 2:
            mats = torch.cat([mats, eye.expand(*mats.shape[:-3], 1, *eye.shape)], dim=-3)
        mats = mats[..., 0::2, :, :] @ mats[..., 1::2, :, :]
        if normalise:
            scale = mats.abs().amax(dim=(-2, -1)).clamp_min(torch.finfo(mats.dtype).tiny)
            mats = mats / scale[..., None, None]
            log_scale = log_scale + torch.log(scale).sum(-1)
    return mats[..., 0, :, :], log_scale


def affine_map(W, b=None, sigmas=None, sigma0=None, sigmaT=None, *, max_step: float = DEFAULT_SIGMA_STEP,
               final_denoise: bool = False, dtype=torch.float64, device="auto"):
    """The affine map x(σ_0) = A x(σ_T) + c of the probability-flow ODE of D(x; σ) = W_σ x + b_σ.

    In s = ln σ the ODE dx/dσ = (x − D)/σ = −σ⁻¹[(W_σ − I)x + b_σ] (theory.md §1.1, §3.1) reads
    dy/ds = G(s) y for y = [x; 1], G = [[I − W(s), −b(s)], [0, 0]], integrated from ln σ_T down to
    ln σ_0. W, b are linear in s between knots (`knots`: grid levels plus subdivisions ≤ max_step), so on a
    knot interval of signed width h from G_a (start) to G_b (end) the Magnus series has
        Ω₁ = h(G_a + G_b)/2,  Ω₂ = −(h²/12)[G_a, G_b]
    exactly (Ω₂ = ½∫∫_{t₂<t₁}[G(t₁), G(t₂)], equal to the two-point Gauss form (√3/12)h²[G₂, G₁]); the
    step is exp(Ω₁ + Ω₂) (Blanes, Casas, Oteo & Ros, Phys. Rep. 470 (2009), §4: order 4, local error
    O(h⁵) through Ω₃, Ω₄ — time symmetry removes the odd orders). The error therefore falls as
    max_step⁴ and vanishes when all G commute (aligned W, b = 0). The steps are exponentiated in one
    batch and multiplied by `ordered_product` — fully vectorised over batch axes and levels.

    final_denoise: apply x ← D(x; σ_0) afterwards (A ← W(σ_0)A, c ← W(σ_0)c + b(σ_0); the variance
    along an aligned mode is multiplied by ψ(σ_0)²). Default off, as in the closed forms.

    Returns torch tensors A [..., d, d], c [..., d] on the chosen device. Use float64 (the default):
    in a rotated basis float32 rounding is relative to the largest variance, so modes more than ~1e6
    below it lose their digits.
    """
    return _affine_map(W, b, sigmas, _MapOptions(sigma0, sigmaT, max_step, final_denoise, dtype, device))[:2]


@dataclass(frozen=True)
class _MapOptions:
    """The options of `affine_map` / `exact` besides the grid (W, b, sigmas), as documented there."""

    sigma0: float | None
    sigmaT: float | None
    max_step: float
    final_denoise: bool
    dtype: torch.dtype
    device: object


def _affine_map(W, b, sigmas, opt: _MapOptions):
    """(A, c, σ_T) of `affine_map` for the options `opt`."""
    dev = resolve_device(opt.device)
    W, b, sig = validated_grid(W, b, sigmas, opt.dtype, dev)
    s0, sT = level_range(sig, opt.sigma0, opt.sigmaT)
    logs = torch.log(sig)
    s = knots(logs, s0, sT, opt.max_step)
    A, c = _affine(W, b, logs, s, _pf_ode_generator)
    if opt.final_denoise:
        W0, b0 = interpolate(W, b, logs, s[:1])
        A = W0[..., 0, :, :] @ A
        c = (W0[..., 0, :, :] @ c[..., None])[..., 0] + b0[..., 0, :]
    return A, c, sT


def _pf_ode_generator(W, b):
    """dx/ds = (I − W) x − b: the probability-flow ODE in s = ln σ."""
    return torch.eye(W.shape[-1], dtype=W.dtype, device=W.device) - W, -b


def _flow_generator(W, b):
    """dx/dt = W x + b: the flow-matching sampling ODE."""
    return W, b


def _affine(W, b, grid, s, generator):
    """(A [..., d, d], c [..., d]) of the affine map x(s[0]) = A x(s[-1]) + c of dx/du = M(u) x + v(u),
    (M, v) = generator(W(u), b(u)) with W, b [..., L, d, d], [..., L, d] interpolated on `grid` (see
    `interpolate`) and the knots s monotone in either direction; in chunks of batch entries."""
    batch, (L, d) = W.shape[:-3], W.shape[-3:-1]
    Wf, bf = W.reshape(-1, L, d, d), b.reshape(-1, L, d)
    chunk = max(1, _CHUNK_ELEMENTS // (s.numel() * (d + 1) ** 2))
    parts = [_propagator(Wc, bc, grid, s, generator) for Wc, bc in zip(Wf.split(chunk), bf.split(chunk))]
    prop = torch.cat(parts).reshape(*batch, d + 1, d + 1)
    return prop[..., :d, :d], prop[..., :d, d]


def _propagator(W, b, grid, s, generator):
    """Augmented propagator [[A, c], [0, 1]] from s[-1] to s[0] for W [B, L, d, d], b [B, L, d]: the
    Magnus-4 steps of `affine_map` for G = [[M, v], [0, 0]], (M, v) = generator(W(u), b(u))."""
    M, v = generator(*interpolate(W, b, grid, s))  # [B, K, d, d], [B, K, d]
    d = W.shape[-1]
    G = torch.zeros(*M.shape[:-2], d + 1, d + 1, dtype=W.dtype, device=W.device)
    G[..., :d, :d] = M
    G[..., :d, d] = v
    Ga, Gb = G[..., 1:, :, :], G[..., :-1, :, :]  # step j runs from knot j+1 (start) to knot j
    h = (s[:-1] - s[1:])[:, None, None]  # signed: negative when integrating downwards
    omega = 0.5 * h * (Ga + Gb) - (h * h / 12.0) * (Ga @ Gb - Gb @ Ga)
    return ordered_product(torch.linalg.matrix_exp(omega))[0]  # E_0 E_1 ⋯: the step at s[-1] acts first


def exact(W, b=None, sigmas=None, sigma0=None, sigmaT=None, *, max_step: float = DEFAULT_SIGMA_STEP,
          final_denoise: bool = False, dtype=torch.float64, device="auto"):
    """Generated covariance σ_T² A Aᵀ and mean c of the linear denoiser (Lemma 4.1; A, c and the
    arguments as in `affine_map`). Returns torch tensors ([..., d, d], [..., d])."""
    A, c, sT = _affine_map(W, b, sigmas, _MapOptions(sigma0, sigmaT, max_step, final_denoise, dtype, device))
    return sT**2 * (A @ A.transpose(-1, -2)), c


def flow_map(W, b=None, ts=None, *, max_step: float = DEFAULT_FLOW_STEP, dtype=torch.float64,
             device="auto"):
    """The affine map x(1) = A x(0) + c of the flow-matching sampler dx/dt = v(x, t) = W(t) x + b(t)
    from t = 0 (noise) to t = 1 (data) (theory.md §2.7), for W [..., T, d, d], b [..., T, d] or None on an
    increasing flow-time grid ts [T] ⊂ [0, 1] (None: T equal steps from 0 to 1, as
    numerics.models.default_ts), linear in t between grid points and constant outside.

    The same Magnus-4 integrator as `affine_map`, here for G = [[W, b], [0, 0]] upwards in t on knots at
    every grid point plus subdivisions ≤ max_step: error O(max_step⁴) (zero when all W commute and
    b = 0); the answer is that of the piecewise-linear interpolant, whose own distance from a smooth
    W(t) is O(Δt²) in the grid spacing. Returns torch tensors A [..., d, d], c [..., d]."""
    dev = resolve_device(device)
    W, b, ts = validated_grid(W, b, ts, dtype, dev, family="flow")
    s = knots_between(ts, 0.0, 1.0, max_step).flip(0)  # s[-1] = 0 is the start
    return _affine(W, b, ts, s, _flow_generator)


def exact_flow(W, b=None, ts=None, *, max_step: float = DEFAULT_FLOW_STEP, dtype=torch.float64,
               device="auto"):
    """Generated covariance A Aᵀ and mean c of linear flow matching, x(0) ~ N(0, I) (A, c and the
    arguments as in `flow_map`). Returns torch tensors ([..., d, d], [..., d]); for commuting aligned
    W_t = Σ_k w_k(t) u_k u_kᵀ the variance along u_k is exp(2 ∫₀¹ w_k dt) (theory.md §2.7)."""
    A, c = flow_map(W, b, ts, max_step=max_step, dtype=dtype, device=device)
    return A @ A.transpose(-1, -2), c
