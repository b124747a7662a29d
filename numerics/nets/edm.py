"""Training protocols for σ-conditioned networks: the theory's and the first paper's EDM protocol.

A network F(x, c_noise) (numerics.nets.models) becomes a denoiser through a preconditioning
    D(x; σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x, c_noise(σ))
(Karras et al. 2022, "EDM", Table 1 and App. B.6):
- "edm": c_skip = σ_d²/(σ² + σ_d²), c_out = σσ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²), c_noise = ln σ / 4;
  c_in gives the network unit-variance inputs, c_skip minimises and c_out normalises the variance of
  the network's effective target (x − c_skip y)/c_out to 1 (tests/test_edm.py derives both);
- "none": D = F(x, ln σ / 4) (c_skip = 0, c_out = c_in = 1), the theory's plain denoiser.

Protocols (`PROTOCOLS`; every run records which, with every constant):
- "theory" (theory.md §1.2): σ on a fixed log grid of `levels` noise levels from σ_0 to σ_T, stratified
  over the minibatch (level = (sample index + a random offset) mod levels); loss
  Σ_levels w(σ) E‖D(x + σz; σ) − x‖² (summed
  over levels and elements, no factor ½), estimated by levels × the batch mean; plain SGD, so
  ητ = steps × lr as for the linear models. Per-σ weight `balanced` w = σ_d²/(σ² + σ_d²) with σ_d² the
  data's mean variance (so the step is stable at σ_T = 80); a weight multiplies the rate at that σ
  (theory.md §1.2), so a level's clock is w(σ)·τ — the comparison with theory accounts for it.
- "edm" (protocols.md §1): ln σ ~ N(P_mean = −1.2, P_std = 1.2) per sample, weight
  λ(σ) = (σ² + σ_d²)/(σσ_d)² with σ_d = 0.5 (the paper's value even for unit-variance Gaussians: a
  recorded mismatch), mean over elements, Adam at a constant lr (1e-4), minibatches drawn with
  replacement from the finite training set; τ = steps × lr is then only a nominal clock.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn

from theory.errors import SpecbiasError

P_MEAN, P_STD, SIGMA_DATA_EDM = -1.2, 1.2, 0.5
PRECONDITIONINGS = ("edm", "none")
WEIGHTS = ("edm", "balanced", "uniform")
SIGMA_LAWS = ("lognormal", "grid")
OPTIMIZERS = ("sgd", "adam")


def _sig(sigma, like: torch.Tensor | None = None) -> torch.Tensor:
    dtype = like.dtype if like is not None else torch.float64
    device = like.device if like is not None else "cpu"
    return torch.as_tensor(sigma, dtype=dtype, device=device)


def preconditioning(name: str, sigma, sigma_data: float):
    """(c_skip, c_out, c_in, c_noise) at σ (tensor or number) for preconditioning `name`."""
    s = _sig(sigma)
    if name == "edm":
        r = s * s + sigma_data**2
        return sigma_data**2 / r, s * sigma_data / torch.sqrt(r), 1.0 / torch.sqrt(r), torch.log(s) / 4
    if name == "none":
        return torch.zeros_like(s), torch.ones_like(s), torch.ones_like(s), torch.log(s) / 4
    raise SpecbiasError(f"unknown preconditioning {name!r}; valid: {', '.join(PRECONDITIONINGS)}")


def loss_weight(name: str, sigma: torch.Tensor, sigma_data: float) -> torch.Tensor:
    """w(σ): edm (σ² + σ_d²)/(σσ_d)² = 1/c_out², balanced σ_d²/(σ² + σ_d²), uniform 1."""
    if name == "edm":
        return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2
    if name == "balanced":
        return sigma_data**2 / (sigma**2 + sigma_data**2)
    if name == "uniform":
        return torch.ones_like(sigma)
    raise SpecbiasError(f"unknown loss weight {name!r}; valid: {', '.join(WEIGHTS)}")


class Denoiser(nn.Module):
    """D(x; σ) = c_skip x + c_out F(c_in x, c_noise) for a network F; callable as D(x, sigma) with
    x [..., d] and σ a number or a tensor broadcastable to x.shape[:-1] (numerics.measure.heun calls
    it with a float). A single σ reaches the network as c_noise of shape [1]: networks broadcast their
    noise embedding over the batch (numerics.nets.models)."""

    def __init__(self, net: nn.Module, precond: str = "edm", sigma_data: float = SIGMA_DATA_EDM):
        super().__init__()
        preconditioning(precond, 1.0, sigma_data)  # validates the name
        if not (math.isfinite(sigma_data) and sigma_data > 0):
            raise SpecbiasError(f"sigma_data must be > 0 (got {sigma_data!r})")
        self.net, self.precond, self.sigma_data = net, precond, float(sigma_data)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.net.parameters()).dtype

    def forward(self, x: torch.Tensor, sigma) -> torch.Tensor:
        s = _sig(sigma, x)
        # one σ for the whole batch (the sampler): the network gets c_noise of shape [1] and computes its
        # noise embedding once, broadcast over the samples (the same numbers as per sample, half the work
        # of an MLP-UNet evaluation); a σ per sample (training) keeps the batch shape.
        s = s.reshape(1) if s.numel() == 1 else s.expand(x.shape[:-1])
        c_skip, c_out, c_in, c_noise = (c.to(x.dtype) for c in preconditioning(self.precond, s, self.sigma_data))
        return c_skip[..., None] * x + c_out[..., None] * self.net(c_in[..., None] * x, c_noise)


@dataclass(frozen=True)
class Protocol:
    """How a σ-conditioned network is trained (see the module docstring); every field is recorded."""

    name: str
    sigma_law: str  # "lognormal" (P_mean, P_std) or "grid" (levels from sigma0 to sigmaT)
    weight: str
    precond: str
    sigma_data: float | None  # None: the data's √(tr Σ / d)
    optimizer: str
    lr: float
    batch: int
    reduction: str  # "mean" over elements and samples (EDM) or "sum" (theory: levels × elements)
    P_mean: float = P_MEAN
    P_std: float = P_STD
    levels: int = 32
    sigma0: float = 0.002
    sigmaT: float = 80.0

    def __post_init__(self):
        checks = [("sigma_law", self.sigma_law, SIGMA_LAWS), ("weight", self.weight, WEIGHTS),
                  ("precond", self.precond, PRECONDITIONINGS), ("optimizer", self.optimizer, OPTIMIZERS),
                  ("reduction", self.reduction, ("mean", "sum"))]
        for name, value, valid in checks:
            if value not in valid:
                raise SpecbiasError(f"protocol {name} must be one of {', '.join(valid)} (got {value!r})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise SpecbiasError(f"learning rate must be > 0 (got {self.lr!r})")
        if int(self.batch) != self.batch or self.batch < 1:
            raise SpecbiasError(f"batch must be a positive integer (got {self.batch!r})")
        if int(self.levels) != self.levels or self.levels < 1:
            raise SpecbiasError(f"levels must be a positive integer (got {self.levels!r})")
        if not 0 < self.sigma0 < self.sigmaT:
            raise SpecbiasError(f"need 0 < sigma0 < sigmaT (got {self.sigma0}, {self.sigmaT})")

    def with_data(self, data) -> "Protocol":
        """The protocol with σ_d filled in from the data (√(tr Σ / d)) where it was left open."""
        if self.sigma_data is not None:
            return self
        return replace(self, sigma_data=float(np.sqrt(np.trace(data.cov) / data.d)))

    @property
    def grid(self) -> np.ndarray:
        return np.geomspace(self.sigma0, self.sigmaT, int(self.levels))

    def denoiser(self, net: nn.Module) -> Denoiser:
        return Denoiser(net, self.precond, self.sigma_data)

    def draw_sigma(self, n: int, generator: torch.Generator, dtype, device) -> torch.Tensor:
        if self.sigma_law == "lognormal":
            z = torch.randn(n, generator=generator, dtype=dtype, device=device)
            return torch.exp(self.P_mean + self.P_std * z)
        grid = torch.as_tensor(self.grid, dtype=dtype, device=device)
        offset = torch.randint(grid.numel(), (1,), generator=generator, device=device)
        return grid[(torch.arange(n, device=device) + offset) % grid.numel()]  # stratified, uniform

    def loss(self, D: Denoiser, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The protocol's minibatch loss for clean samples x [batch, d] (fresh σ and noise)."""
        sigma = self.draw_sigma(x.shape[0], generator, x.dtype, x.device)
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        err = ((D(x + sigma[:, None] * z, sigma) - x) ** 2).sum(-1)
        w = loss_weight(self.weight, sigma, self.sigma_data)
        if self.reduction == "mean":
            return (w * err).mean() / x.shape[-1]
        return (w * err).mean() * int(self.levels)

    def optimizer_for(self, params) -> torch.optim.Optimizer:
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr)
        return torch.optim.Adam(params, lr=self.lr)

    def describe(self) -> dict:
        out = asdict(self)
        out["clock"] = ("gradient flow: ητ = steps × lr (plain SGD)" if self.optimizer == "sgd"
                        else "nominal: τ = steps × lr (Adam is not gradient flow)")
        if self.sigma_law == "lognormal":
            out.pop("levels")
        return out


def theory_protocol(**kw) -> Protocol:
    """theory.md §1.2 for a shared network: σ grid, balanced weight, no preconditioning, plain SGD."""
    base = dict(name="theory", sigma_law="grid", weight="balanced", precond="none", sigma_data=None,
                optimizer="sgd", lr=1e-3, batch=512, reduction="sum")
    return Protocol(**{**base, **kw})


def edm_protocol(**kw) -> Protocol:
    """The paper's EDM protocol (protocols.md §1): log-normal σ, EDM weight and preconditioning, Adam 1e-4."""
    base = dict(name="edm", sigma_law="lognormal", weight="edm", precond="edm", sigma_data=SIGMA_DATA_EDM,
                optimizer="adam", lr=1e-4, batch=1024, reduction="mean")
    return Protocol(**{**base, **kw})


PROTOCOLS = {"theory": theory_protocol, "edm": edm_protocol}


def protocol(name: str, **kw) -> Protocol:
    if name not in PROTOCOLS:
        raise SpecbiasError(f"unknown protocol {name!r}; valid: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name](**{k: v for k, v in kw.items() if v is not None})
