"""Small noise-conditioned convolutional networks F(x, c_noise) for 1-D signals (shape (N,)) and images
(shape (C, H, W)): the honest 2-CPU substitute for the SongUNet of Wang & Pehlevan, arXiv 2503.03206
(protocols.md §4).

- `ConvUNet`: two or three resolutions (average-pool down, nearest up, skip concatenation), residual
  conv blocks with GroupNorm and a FiLM noise conditioning, configurable channels and kernel size;
- `ConvStack`: the simplest local nonlinear model, a plain stack of same-size convolutions with SiLU
  and a noise-conditioned shift per layer (receptive field depth·(kernel − 1) + 1).

Both take and return flattened signals [..., d]; like the MLP they share one set of parameters across
noise levels and are wrapped into a denoiser D(x; σ) by numerics.nets.edm.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from numerics.nets.mlp import FiLM, FourierEmbedding, _positive
from theory.errors import SpecbiasError

PADDING = ("zeros", "circular")


def _layout(shape):
    """(channels, spatial shape, conv dimension) of a signal shape (N,) or (C, H, W)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        return 1, shape, 1
    if len(shape) == 3:
        return shape[0], shape[1:], 2
    raise SpecbiasError(f"convolutional networks need a signal shape (N,) or (C, H, W) (got {shape})")


class _ConvNet(nn.Module):
    """Shared plumbing: layout, kernel, padding, embedding, flatten/unflatten."""

    def __init__(self, shape, kernel: int, emb: int, padding: str, fourier_scale: float):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.d = math.prod(self.shape)
        self.channels, self.spatial, self.dim = _layout(self.shape)
        kernel = _positive("kernel", kernel)
        if kernel % 2 == 0:
            raise SpecbiasError(f"kernel must be odd (same-size convolution), got {kernel}")
        if padding not in PADDING:
            raise SpecbiasError(f"padding must be one of {', '.join(PADDING)} (got {padding!r})")
        self.kernel, self.padding = kernel, padding
        self.embed = FourierEmbedding(_positive("emb", emb), fourier_scale)

    def conv(self, cin: int, cout: int, kernel: int | None = None) -> nn.Module:
        k = self.kernel if kernel is None else kernel
        cls = nn.Conv1d if self.dim == 1 else nn.Conv2d
        return cls(cin, cout, k, padding=k // 2, padding_mode=self.padding)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        h = x.reshape(-1, self.channels, *self.spatial)
        c = c_noise.reshape(-1)
        e = self.embed(c if c.numel() == 1 else c_noise.expand(lead).reshape(-1))  # one σ: embed once, broadcast
        return self._net(h, e).reshape(*lead, self.d)


class ConvBlock(nn.Module):
    """conv → GroupNorm → FiLM(noise) → SiLU → conv, plus a 1×1 skip."""

    def __init__(self, net: _ConvNet, cin: int, cout: int, emb: int):
        super().__init__()
        self.conv0, self.conv1 = net.conv(cin, cout), net.conv(cout, cout)
        self.norm = nn.GroupNorm(1, cout)
        self.film = FiLM(emb, cout)
        self.skip = net.conv(cin, cout, 1)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = nn.functional.silu(self.film(self.norm(self.conv0(x)), e, channel_axis=1))
        return self.conv1(h) + self.skip(x)


class ConvUNet(_ConvNet):
    """U-Net with len(channels) ∈ {2, 3} resolutions; spatial sizes must divide by 2^(resolutions − 1)."""

    family = "conv"

    def __init__(self, shape, channels=(16, 32), kernel: int = 3, emb: int = 64, padding: str = "zeros",
                 fourier_scale: float = 16.0):
        super().__init__(shape, kernel, emb, padding, fourier_scale)
        channels = tuple(_positive("channels", c) for c in channels)
        if not 2 <= len(channels) <= 3:
            raise SpecbiasError(f"the U-Net takes 2 or 3 resolutions (got channels {channels})")
        factor = 2 ** (len(channels) - 1)
        if any(s % factor for s in self.spatial):
            raise SpecbiasError(f"signal size {self.spatial} must be divisible by {factor} for "
                                f"{len(channels)} resolutions")
        cin = self.channels
        self.down = nn.ModuleList()
        for c in channels:
            self.down.append(ConvBlock(self, cin, c, emb))
            cin = c
        self.up = nn.ModuleList(ConvBlock(self, channels[i] + channels[i + 1], channels[i], emb)
                                for i in reversed(range(len(channels) - 1)))
        self.out = self.conv(channels[0], self.channels)
        self.config = {"channels": list(channels), "kernel": kernel, "emb": emb, "padding": padding,
                       "fourier_scale": float(fourier_scale)}

    def _net(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        pool = nn.functional.avg_pool1d if self.dim == 1 else nn.functional.avg_pool2d
        skips = []
        for i, block in enumerate(self.down):
            if i:
                h = pool(h, 2)
            h = block(h, e)
            skips.append(h)
        skips.pop()
        for block in self.up:
            h = nn.functional.interpolate(h, scale_factor=2, mode="nearest")
            h = block(torch.cat([h, skips.pop()], dim=1), e)
        return self.out(h)


class ConvStack(_ConvNet):
    """`depth` same-size convolutions with `channels` hidden channels, SiLU and a noise shift each."""

    family = "conv"

    def __init__(self, shape, channels: int = 16, depth: int = 3, kernel: int = 3, emb: int = 32,
                 padding: str = "zeros", fourier_scale: float = 16.0):
        super().__init__(shape, kernel, emb, padding, fourier_scale)
        channels, depth = _positive("channels", channels), _positive("depth", depth)
        sizes = [self.channels] + [channels] * depth
        self.convs = nn.ModuleList(self.conv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.shifts = nn.ModuleList(FiLM(emb, channels) for _ in range(depth))
        self.out = self.conv(channels, self.channels)
        self.config = {"channels": channels, "depth": depth, "kernel": kernel, "emb": emb,
                       "padding": padding, "fourier_scale": float(fourier_scale),
                       "receptive_field": (depth + 1) * (kernel - 1) + 1}

    def _net(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        for conv, film in zip(self.convs, self.shifts):
            h = nn.functional.silu(film(conv(h), e, channel_axis=1))
        return self.out(h)
