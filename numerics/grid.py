"""Level grids of a trained affine model and their interpolation (numerics.measure).

Per-level weights W [..., L, d, d], b [..., L, d] live on an increasing grid of noise levels σ (family
"denoiser") or flow times t ⊂ [0, 1] (family "flow"); leading axes (e.g. checkpoints) are batch axes.
Between levels W and b are interpolated linearly in s = ln σ (denoisers) or in t (flows) and held
constant outside the grid.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from theory.errors import SpecbiasError
from theory.sampling import DenoiserSampling, FlowSampling


from .devices import resolve_device  # noqa: E402,F401  (re-exported: measure's public name)


def as_tensor(name: str, value, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """`value` (torch or numpy or nested lists) as a finite tensor of `dtype` on `device`."""
    if isinstance(value, np.ndarray):
        value = np.ascontiguousarray(value)  # torch rejects negative strides
    try:
        t = torch.as_tensor(value).detach()
        if t.is_complex():
            raise SpecbiasError(f"{name} must be real, got a complex {tuple(t.shape)} array")
        t = t.to(device=device, dtype=dtype)
    except SpecbiasError:
        raise
    except (TypeError, ValueError, RuntimeError) as exc:
        raise SpecbiasError(f"{name} must be numeric: {exc}") from None
    if not bool(torch.isfinite(t).all()):
        raise SpecbiasError(f"{name} contains NaN or infinite values")
    return t


FAMILIES = ("denoiser", "flow")
#: per family: the name of the level grid and the condition on its values (besides strictly increasing)
_LEVELS = {"denoiser": ("sigmas", "positive", lambda v: v > 0),
           "flow": ("ts", "in [0, 1]", lambda v: (v >= 0) & (v <= 1))}


def sampling_family(family) -> str:
    """"denoiser" or "flow" from that string, a model's `kind`, or an architecture's `sampling` object
    (theory.sampling.DenoiserSampling / FlowSampling)."""
    if isinstance(family, FlowSampling):
        return "flow"
    if isinstance(family, DenoiserSampling):
        return "denoiser"
    if family not in FAMILIES:
        raise SpecbiasError(f"unknown sampling family {family!r}; valid: {', '.join(FAMILIES)}")
    return family


def validated_grid(W, b, levels, dtype, device, family="denoiser"):
    """Validated (W [..., L, d, d], b [..., L, d], levels [L]) tensors; levels are the noise levels σ
    (family "denoiser") or the flow times t (family "flow"; None → L equal steps from 0 to 1)."""
    name, condition, valid = _LEVELS[family]
    W = as_tensor("W", W, dtype, device)
    if W.ndim < 3 or W.shape[-1] != W.shape[-2]:
        raise SpecbiasError(f"W must have shape [..., levels, d, d], got {tuple(W.shape)}")
    if levels is None and family == "flow":  # numerics.models.default_ts
        levels = torch.linspace(0.0, 1.0, W.shape[-3], dtype=dtype, device=device)
    sig = as_tensor(name, levels, dtype, device)
    if sig.ndim != 1 or sig.numel() != W.shape[-3]:
        raise SpecbiasError(f"{name} must be 1-D with one entry per level ({W.shape[-3]}), "
                            f"got shape {tuple(sig.shape)}")
    if not bool(valid(sig).all()) or (sig.numel() > 1 and bool((sig[1:] <= sig[:-1]).any())):
        raise SpecbiasError(f"{name} must be {condition} and strictly increasing")
    if b is None:
        b = torch.zeros(W.shape[:-1], dtype=dtype, device=device)
    b = as_tensor("b", b, dtype, device)
    if tuple(b.shape[-2:]) != tuple(W.shape[-3:-1]):
        raise SpecbiasError(f"b must have shape [..., levels, d] = [..., {W.shape[-3]}, {W.shape[-1]}], "
                            f"got {tuple(b.shape)}")
    try:
        batch = torch.broadcast_shapes(W.shape[:-3], b.shape[:-2])
    except RuntimeError:
        raise SpecbiasError(f"batch axes of W {tuple(W.shape[:-3])} and b {tuple(b.shape[:-2])} "
                            "do not broadcast") from None
    W = W.expand(*batch, *W.shape[-3:])
    b = b.expand(*batch, *b.shape[-2:])
    return W, b, sig


def level_range(sigmas: torch.Tensor, sigma0, sigmaT) -> tuple[float, float]:
    """Sampling range; None → the ends of the grid."""
    s0 = float(sigmas[0]) if sigma0 is None else float(sigma0)
    sT = float(sigmas[-1]) if sigmaT is None else float(sigmaT)
    if not (0 < s0 < sT and math.isfinite(sT)):
        raise SpecbiasError(f"need 0 < sigma0 < sigmaT (got sigma0={s0:g}, sigmaT={sT:g})")
    return s0, sT


def interpolate(W: torch.Tensor, b: torch.Tensor, log_sigmas: torch.Tensor, s: torch.Tensor):
    """W(s), b(s) at query points s = ln σ [Q]: linear in ln σ between levels, constant outside (any
    increasing grid coordinate works: flows pass the flow times t as `log_sigmas`).

    Returns W [..., Q, d, d] and b [..., Q, d]."""
    L = log_sigmas.numel()
    if L == 1:
        n = s.numel()
        return W.expand(*W.shape[:-3], n, *W.shape[-2:]), b.expand(*b.shape[:-2], n, b.shape[-1])
    i = torch.clamp(torch.searchsorted(log_sigmas, s, right=True) - 1, 0, L - 2)
    w = torch.clamp((s - log_sigmas[i]) / (log_sigmas[i + 1] - log_sigmas[i]), 0.0, 1.0)
    Wq = W[..., i, :, :] + w[:, None, None] * (W[..., i + 1, :, :] - W[..., i, :, :])
    bq = b[..., i, :] + w[:, None] * (b[..., i + 1, :] - b[..., i, :])
    return Wq, bq
