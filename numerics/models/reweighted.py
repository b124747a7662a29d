"""numerics' one-layer `Linear` with a different per-level loss, for architectures derived by theory.solve
(docs/examples/solve_*.py); the gradient flow of each is stated where it is used.

- `WeightDecayLinear`: E‖W(x + σz + √ρ z′) − x‖² = L_σ + ρ‖W‖² (weight decay ρ is extra isotropic input
  noise of variance ρ): noise coefficient √(σ² + ρ).
- `LevelRateLinear`: a per-level learning rate η(σ) = η₀σ^{2p} on independent per-level parameters is the
  level-σ loss weighted by σ^{2p}: every pair coefficient scaled by σ^p.
"""
from __future__ import annotations

import torch

from .dense import Linear


class WeightDecayLinear(Linear):
    def pair_coefficients(self):
        coeffs = super().pair_coefficients().clone()
        coeffs[:, 1] = torch.sqrt(self.levels**2 + float(self.extra_params.get("rho", 0.0)))
        return coeffs


class LevelRateLinear(Linear):
    def pair_coefficients(self):
        return super().pair_coefficients() * self.levels[:, None] ** float(self.extra_params.get("p", 0.0))
