"""Linear flow matching v(x, t) = W_t x + b_t with independent W_t on a t-grid (theory.md §2.7)."""
from __future__ import annotations

import numpy as np
import torch

from theory.errors import SpecbiasError

from .base import level_grid
from .dense import Linear

LEVELS = 65  # Δt = 1/64, the flow grid numerics.measure's tolerances assume


def default_ts(n: int = LEVELS) -> torch.Tensor:
    """n equally spaced flow times from 0 (noise) to 1 (data)."""
    return torch.as_tensor(np.linspace(0.0, 1.0, int(n)), dtype=torch.float64)


class FlowMatching(Linear):
    """W_t ∈ R^{T×d×d}, b_t ∈ R^{T×d} on the flow-time grid `ts` (increasing, in [0, 1]); trained on
    x_t = t x₁ + (1 − t) x₀ (x₀ ~ N(0, I), x₁ ~ data) with velocity target x₁ − x₀. `effective()`
    returns (W_t, b_t) over the t-grid; aligned init W_t(0) = Σ_k Q_k u_k u_kᵀ at every t."""

    kind = "flow"
    level_name = "t"

    def __init__(self, *args, ts=None, sigmas=None, **kwargs):
        if sigmas is not None and ts is not None:
            raise SpecbiasError("flow matching takes a t-grid `ts`, not noise levels `sigmas`")
        super().__init__(*args, sigmas=ts if ts is not None else sigmas, **kwargs)

    def _levels(self, ts) -> torch.Tensor:
        if ts is None:
            return default_ts()
        return level_grid("flow times (ts)", ts, "in [0, 1]", lambda t: (t >= 0) & (t <= 1))

    @property
    def ts(self) -> torch.Tensor:
        return self.levels

    def pair_coefficients(self) -> torch.Tensor:
        """Input t·x₁ + (1 − t)·z, target x₁ − z (z = x₀ ~ N(0, I))."""
        t = self.levels
        one = torch.ones_like(t)
        return torch.stack([t, 1.0 - t, one, -one], dim=-1)
