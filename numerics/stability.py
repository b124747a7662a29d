"""Stability of gradient descent on the affine models: per-level step bounds 2/curvature.

GD with step h on a loss whose Hessian has top eigenvalue κ is stable where h < 2/κ. For a level with
input y = a x + c z the loss is quadratic in the effective map with Hessian 2·E[y yᵀ] ⊗ I, whose top
eigenvalue is ≤ 2s, s = a²(λ_max + ‖μ‖²) + c² (λ_max from Σ itself, never from a stored eigenbasis).
The model turns s into a bound on its own parameter Hessian (`AffineModel.curvature`): 2s for the
one-layer model (so h < 1/(σ² + λ_max)), a bound that depends on the largest gain along the
trajectory for products. That gain is bounded by max(‖W‖₂, the largest optimal gain |w*|), since an
aligned trajectory moves each gain monotonically from its start towards w*.
"""
from __future__ import annotations

import numpy as np
import torch

from theory.errors import SpecbiasError


def _norm_bound(W: torch.Tensor) -> torch.Tensor:
    """‖W‖₂ ≤ √(‖W‖₁‖W‖_∞) per level (exact for multiples of I and for circulants)."""
    return torch.sqrt(W.abs().sum(-2).amax(-1) * W.abs().sum(-1).amax(-1))


class Stability:
    """Per-level stability bounds 2/curvature from the data's top eigenvalue and the model."""

    def __init__(self, model, data, coeffs, dtype, device):
        lam = np.linalg.eigvalsh(data.cov)  # from Σ itself, never from the stored eigenbasis
        self.lam_max = float(lam[-1])
        a, c, e, f = (v.detach().cpu().numpy() for v in coeffs.unbind(-1))
        mu2 = float(data.mu @ data.mu)
        self.coupled = mu2 > 0
        # top eigenvalue of E[y yᵀ] for the input y = a x + c z: ≤ a²(λ_max + ‖μ‖²) + c²
        self.s = torch.as_tensor(a * a * (self.lam_max + mu2) + c * c, dtype=dtype, device=device)
        num = a[:, None] * e[:, None] * lam[None, :] + (c * f)[:, None]
        den = np.maximum(a[:, None] ** 2 * lam[None, :] + (c * c)[:, None], 1e-300)
        self.w_opt = torch.as_tensor(np.abs(num / den).max(-1), dtype=dtype, device=device)
        self.model = model

    def bound(self, W: torch.Tensor, idx) -> torch.Tensor:
        """2/curvature for the levels `idx` whose current effective matrices are W."""
        wmax = torch.maximum(_norm_bound(W.detach()), self.w_opt[idx])
        return 2.0 / self.model.curvature(self.s[idx], wmax, self.coupled)


def check_step(h_arr: np.ndarray, bound: np.ndarray, model, arch_name: str, lam_max: float) -> None:
    """Refuse user step sizes at or above the stability bound, naming the first such level."""
    bad = np.nonzero(h_arr >= bound)[0]
    if bad.size:
        l = bad[0]
        raise SpecbiasError(
            f"step size h = {h_arr[l]:.4g} is unstable at {model.level_name} = {float(model.levels[l]):.4g}: "
            f"gradient descent on {arch_name} diverges for h ≥ {bound[l]:.4g} there (bound 2/curvature; "
            f"one-layer: 1/(σ² + λ_max), λ_max = {lam_max:.4g}); every level is stable for "
            f"h < {bound.min():.4g}, or leave h unset for per-level steps")
