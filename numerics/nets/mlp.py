"""A σ-conditioned MLP denoiser in the style of the first paper's "MLP-UNet" (Wang & Pehlevan, arXiv 2503.03206,
its Gaussian and flattened-image experiments), and the noise embedding the nonlinear networks share.

The network F(x, c_noise) maps a flattened signal [..., d] and a noise code c_noise [...] (EDM:
c_noise = ln σ / 4) to [..., d]. It is NOT the denoiser D: numerics.nets.edm wraps it with a
preconditioning (EDM's c_skip/c_out/c_in, or none) into D(x; σ).

Architecture: input Linear d → width; `depth` residual blocks, each
    h ← h + Linear(SiLU(LN(FiLM(Linear(SiLU(LN(h))), e))))   with FiLM(u, e) = u·(1 + scale(e)) + shift(e),
where e is an MLP of random Fourier features of c_noise; a final Linear width → d. Parameters are
drawn from torch's global generator: build through numerics.nets.models.build_net, which seeds it.
Unlike the affine models of this package it has ONE set of parameters shared by every noise level.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from theory.errors import SpecbiasError


def _positive(name: str, value) -> int:
    if int(value) != value or value < 1:
        raise SpecbiasError(f"{name} must be a positive integer (got {value!r})")
    return int(value)


class FourierEmbedding(nn.Module):
    """Random Fourier features [cos 2πf c, sin 2πf c] of the noise code c, f ~ N(0, scale²) fixed at
    construction (part of the seeded init), followed (mapping=True) by a two-layer SiLU MLP to `dim`
    channels (as EDM's NCSN++ mapping network); mapping=False keeps the 2⌊dim/2⌋ features themselves
    (the first paper's MLP-UNet: GaussianFourierProjection alone). `self.dim` is the output width."""

    def __init__(self, dim: int, scale: float = 16.0, mapping: bool = True):
        super().__init__()
        dim = _positive("embedding dim", dim)
        if not (math.isfinite(scale) and scale > 0):
            raise SpecbiasError(f"embedding scale must be > 0 (got {scale!r})")
        half = max(dim // 2, 1)
        self.register_buffer("freqs", torch.randn(half) * float(scale))
        self.map = nn.Sequential(nn.Linear(2 * half, dim), nn.SiLU(), nn.Linear(dim, dim)) if mapping else None
        self.dim = dim if mapping else 2 * half

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        arg = (2 * math.pi) * c[..., None] * self.freqs.to(c.dtype)
        feats = torch.cat([arg.cos(), arg.sin()], dim=-1)
        return feats if self.map is None else self.map(feats)


class FiLM(nn.Module):
    """Noise-conditioned scale and shift u·(1 + s(e)) + t(e); starts as the identity (zero init)."""

    def __init__(self, emb: int, width: int):
        super().__init__()
        self.proj = nn.Linear(emb, 2 * width)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, u: torch.Tensor, e: torch.Tensor, channel_axis: int = -1) -> torch.Tensor:
        s, t = self.proj(e).chunk(2, dim=-1)
        if channel_axis != -1:  # convolutions: [batch, C, *spatial]
            extra = u.ndim - s.ndim
            s, t = (v.reshape(*v.shape, *([1] * extra)) for v in (s, t))
        return u * (1 + s) + t


class ResBlock(nn.Module):
    """LayerNorm → SiLU → Linear → FiLM → LayerNorm → SiLU → Linear, plus the skip."""

    def __init__(self, width: int, emb: int):
        super().__init__()
        self.norm0, self.lin0 = nn.LayerNorm(width), nn.Linear(width, width)
        self.film = FiLM(emb, width)
        self.norm1, self.lin1 = nn.LayerNorm(width), nn.Linear(width, width)

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        u = self.film(self.lin0(nn.functional.silu(self.norm0(h))), e)
        return h + self.lin1(nn.functional.silu(self.norm1(u)))


class MLPDenoiser(nn.Module):
    """The MLP-UNet-style network F(x, c_noise) on flattened signals (see the module docstring).

    shape: the signal shape (only its size d is used: the MLP sees flattened signals); width, depth:
    hidden width and number of residual blocks (the authors' Gaussian runs: width 256, `nlayers=5`, which
    in their code is 4 residual blocks and an output Linear); emb: embedding width (default = width);
    fourier_scale: std of the random frequencies (the authors': 1); mapping: the embedding's two-layer
    MLP (True, EDM's NCSN++ style) or the Fourier features alone (False, the authors' MLP-UNet; then no
    gradient flows into the embedding and a training step costs about a quarter fewer FLOPs)."""

    family = "mlp"

    def __init__(self, shape, width: int = 256, depth: int = 5, emb: int | None = None,
                 fourier_scale: float = 16.0, mapping: bool = True):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.d = math.prod(self.shape)
        width, depth = _positive("width", width), _positive("depth", depth)
        emb = width if emb is None else _positive("emb", emb)
        self.embed = FourierEmbedding(emb, fourier_scale, bool(mapping))
        self.inp = nn.Linear(self.d, width)
        self.blocks = nn.ModuleList(ResBlock(width, self.embed.dim) for _ in range(depth))
        self.out = nn.Linear(width, self.d)
        self.config = {"width": width, "depth": depth, "emb": emb, "fourier_scale": float(fourier_scale),
                       "mapping": bool(mapping)}

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        e = self.embed(c_noise)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, e)
        return self.out(h)
