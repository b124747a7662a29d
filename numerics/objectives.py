"""Training objectives: what the loop of numerics.loop minimises, one loss per parameter group.

An objective is any object with
- `bind(tidx)`: the loop trains the groups `tidx` (a device tensor of indices) from now on; called
  whenever the active set changes (a place to cache per-group constants);
- `__call__(work) -> loss [len(tidx)]`: the differentiable loss of every bound group, where `work`
  are the working parameters of those groups (numerics.loop: LevelParams / ModuleParams).

The two protocols of the affine models (theory.md §1.2–1.3):
- `PopulationObjective`: the exact expected loss from the data's first two moments
  (numerics.population), deterministic;
- `SampleObjective`: the Monte-Carlo loss on minibatches of data samples (or the whole finite set)
  with fresh noise at every evaluation.
Other protocols (e.g. the EDM protocol of Karras et al. 2022 for a nonlinear D(x, σ): log-normal σ,
weight λ(σ), preconditioning, a single group) are further objectives with the same two methods.
"""
from __future__ import annotations

import torch

from .population import LevelTerms, Moments, population_loss


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


class PopulationObjective:
    """The exact expected loss of an affine model's effective map, per level (population mode)."""

    def __init__(self, model, coeffs: torch.Tensor, moments: Moments):
        self.model, self.coeffs, self.moments = model, coeffs, moments

    def bind(self, tidx):
        self.cidx = self.coeffs[tidx]
        self.terms = LevelTerms(self.cidx, self.moments)

    def __call__(self, work) -> torch.Tensor:
        W, b = self.model.effective(work)
        return population_loss(W, b, self.cidx, self.moments, self.terms)


class SampleObjective:
    """The Monte-Carlo loss on data samples and fresh noise, per level (samples mode); `batch` None:
    the whole finite data set at every step."""

    def __init__(self, model, coeffs: torch.Tensor, data, batch, generator, dtype, device):
        self.model, self.coeffs, self.data, self.batch = model, coeffs, data, batch
        self.generator, self.dtype, self.device = generator, dtype, device

    def bind(self, tidx):
        self.cidx = self.coeffs[tidx]

    def __call__(self, work) -> torch.Tensor:
        return sample_loss(self.model, work, self.cidx, self.data, self.batch, self.generator, self.dtype,
                           self.device)
