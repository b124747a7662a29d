"""Stability of gradient descent on the affine models: per-level step bounds 2/curvature.

GD with step h on a loss whose Hessian has top eigenvalue κ is stable where h < 2/κ. For a level with
input y = a x + c z the loss is quadratic in the effective map with Hessian 2·E[y yᵀ] ⊗ I, whose top
eigenvalue is ≤ 2s, s = a²(λ_max + ‖μ‖²) + c² (λ_max from Σ itself, never from a stored eigenbasis).
The model turns s into a bound on its own parameter Hessian (`AffineModel.curvature`): 2s for the
one-layer model (so h < 1/(σ² + λ_max)), 2s·(positions sharing a tap) for convolutions, and for
products a bound that depends on the largest gain wmax and on the gradient norm g = ‖½ ∂L/∂W‖₂ on the
segment ahead (derived in numerics.models.dense `_product_curvature`: exact on the top aligned mode).
On an aligned trajectory each gain moves monotonically from its current value towards w*, so
wmax = max(‖W‖₂, max_k |w*_k|) and g = ‖G(now)‖₂ hold until the next checkpoint, where the trainer
re-derives them from the current weights (exact spectral norms, one per level and checkpoint).
"""
from __future__ import annotations

import numpy as np
import torch

from theory.errors import SpecbiasError

from .population import Moments


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
        self.model, self.coeffs = model, coeffs.to(dtype=dtype, device=device)
        if model.weight_dependent_curvature:
            self.moments = Moments(data, dtype, device)

    def half_gradient(self, W: torch.Tensor, b: torch.Tensor | None, idx) -> torch.Tensor:
        """G = ½ ∂L/∂W = W S − B [+ a b μᵀ] for the levels `idx` (S = a²C + c²I, B = ae·C + cf·I,
        C = Σ + μμᵀ; see numerics.population)."""
        m = self.moments
        a, c, e, f = (v[:, None, None] for v in self.coeffs[torch.as_tensor(idx, device=W.device)].unbind(-1))
        G = (a * a) * (W @ m.C) + (c * c) * W - (a * e) * m.C - (c * f) * m.eye
        if b is not None and not m.centred:
            G = G + a * b[:, :, None] * m.mu[None, None, :]
        return G

    def bound(self, W: torch.Tensor, idx, b: torch.Tensor | None = None) -> torch.Tensor:
        """2/curvature for the levels `idx` whose current effective map is (W, b): the model's bound
        with s, wmax = max(‖W‖₂, max_k |w*_k|) and g = ‖G‖₂ (see the module docstring)."""
        W = W.detach()
        if self.model.weight_dependent_curvature:
            wmax = torch.maximum(torch.linalg.matrix_norm(W, ord=2), self.w_opt[idx])
            g = torch.linalg.matrix_norm(self.half_gradient(W, None if b is None else b.detach(), idx), ord=2)
        else:  # the model's bound does not read them
            wmax = g = torch.zeros_like(self.s[idx])
        return 2.0 / self.model.curvature(self.s[idx], wmax, g, self.coupled)

    def ceiling(self, idx) -> torch.Tensor:
        """The largest bound `bound` can ever return for the levels `idx`: the curvature at g = 0 and
        wmax = max_k |w*_k| (the curvature grows with both), for step estimates that must not overcount."""
        zero = torch.zeros_like(self.s[idx])
        return 2.0 / self.model.curvature(self.s[idx], self.w_opt[idx], zero, self.coupled)


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
