"""The registry of nonlinear (shared-parameter, σ-conditioned) networks F(x, c_noise).

    net = build_net("mlp", shape=(64,), seed=0, width=128, depth=3)     # float32 on the CPU by default

Every network takes c_noise either per sample (shape x.shape[:-1]) or once for the whole batch (shape
[1], the sampler's one σ per call: numerics.nets.edm.Denoiser), and then computes its noise embedding once.

Registered: `mlp` (MLP-UNet style), `unet` (small convolutional U-Net), `convnet` (plain stack of
local convolutions), and `level_linear`, a network that is secretly the theory's one-layer linear
denoiser (independent W_σ per noise level, theory.md §1.2, interpolated linearly in ln σ between levels,
as numerics.measure.GridDenoiser): it runs through the nonlinear pipeline and must reproduce the
linear theory. Adding a network is one `register_net(name, cls)` line; the CLI and the report iterate
over `available_nets()`.
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import torch
from torch import nn

from numerics.devices import DTYPES
from numerics.nets.convnets import ConvStack, ConvUNet
from numerics.nets.mlp import MLPDenoiser
from theory.errors import SpecbiasError

_NETS: dict = {}


class LevelLinear(nn.Module):
    """D(x; σ) = W(σ) x with W a table over the noise levels `sigmas` (init Q·I), linear in ln σ
    between levels and constant outside; σ is recovered from the code as σ = e^{4 c_noise}."""

    family = "linear"

    def __init__(self, shape, sigmas=None, Q: float = 0.1):
        super().__init__()
        from numerics.models import default_sigmas

        self.shape = tuple(int(s) for s in shape)
        self.d = math.prod(self.shape)
        sig = default_sigmas(16) if sigmas is None else torch.as_tensor(np.asarray(sigmas, float))
        self.register_buffer("log_sigmas", torch.log(sig).to(torch.get_default_dtype()))
        eye = torch.eye(self.d)
        self.W = nn.Parameter(float(Q) * eye.expand(sig.numel(), -1, -1).clone())
        self.config = {"levels": int(sig.numel()), "Q": float(Q)}

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        from numerics.measure import interpolate

        s = (4.0 * c_noise).reshape(-1).to(self.W.dtype)
        b = torch.zeros(self.W.shape[:-1], dtype=self.W.dtype, device=self.W.device)
        Wq, _ = interpolate(self.W, b, self.log_sigmas.to(self.W.dtype), s)  # [S, d, d]
        if Wq.shape[0] == 1:
            return x @ Wq[0].T
        lead = x.shape[:-1]
        return torch.einsum("bij,bj->bi", Wq, x.reshape(-1, self.d)).reshape(*lead, self.d)


def register_net(name: str, cls) -> None:
    """Register a network class under `name` (its __init__ takes the signal shape first)."""
    if name in _NETS and _NETS[name] is not cls:
        raise SpecbiasError(f"a network named {name!r} is already registered")
    _NETS[name] = cls


def available_nets() -> list[str]:
    return list(_NETS)


def net_class(name: str):
    if name not in _NETS:
        raise SpecbiasError(f"unknown network {name!r}; valid: {', '.join(_NETS)}")
    return _NETS[name]


def net_options(name: str) -> list[str]:
    """The keyword options a network takes (besides the signal shape)."""
    params = list(inspect.signature(net_class(name).__init__).parameters)
    return [p for p in params if p not in ("self", "shape")]


def check_net_options(name: str, options: dict) -> None:
    """Refuse options network `name` does not take (before anything is built)."""
    bad = sorted(set(options) - set(net_options(name)))
    if bad:
        raise SpecbiasError(f"network {name!r} takes no option(s) {', '.join(bad)}; valid: "
                            f"{', '.join(net_options(name))}")


def build_net(name: str, shape, *, seed: int = 0, dtype="float32", device="cpu", **options) -> nn.Module:
    """A freshly initialised network: parameters drawn from torch's generator seeded with `seed` (the
    global RNG state is restored afterwards), in `dtype` ("float32" default, or "float64") on `device`."""
    cls = net_class(name)
    check_net_options(name, options)
    dt = DTYPES.get(dtype, dtype)
    if dt not in DTYPES.values():
        raise SpecbiasError(f"dtype must be float32 or float64 (got {dtype!r})")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        net = cls(shape, **options)
    return net.to(dtype=dt, device=device)


register_net("mlp", MLPDenoiser)
register_net("unet", ConvUNet)
register_net("convnet", ConvStack)
register_net("level_linear", LevelLinear)
