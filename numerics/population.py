"""The exact expected loss of an affine map (population mode of numerics.train; theory.md §1.3).

For input a·x + c·z and target e·x + f·z (denoiser: a = 1, c = σ, e = 1, f = 0; flow matching: a = t,
c = 1 − t, e = 1, f = −1), x with mean μ and covariance Σ, z ~ N(0, I), and the model's effective map
W x + b, with C = Σ + μμᵀ,
    L = a² tr(W C Wᵀ) + c² ‖W‖² − 2(ae tr(W C) + cf tr W) + e² tr C + f² d + ‖b‖² + 2bᵀ(aWμ − eμ),
which for the denoiser is tr((W − I)Σ(W − I)ᵀ) + σ²‖W‖_F² + ‖(W − I)μ + b‖² (no factor ½): Gaussian
equivalence, only the first two moments of the data enter. Levels have disjoint parameters, so the
per-level losses are returned as a vector; the loss and its derivative in (W, b) form one custom
autograd node (one d×d×d product per level and evaluation).
"""
from __future__ import annotations

import numpy as np
import torch


class Moments:
    """First and second moments of the data as tensors: μ, C = Σ + μμᵀ (uncentred), tr C."""

    def __init__(self, data, dtype, device):
        self.mu = torch.as_tensor(data.mu, dtype=dtype, device=device)
        C = data.cov + np.outer(data.mu, data.mu)
        self.C = torch.as_tensor(0.5 * (C + C.T), dtype=dtype, device=device)
        self.trC = float(np.trace(C))
        self.d = data.d
        self.centred = bool(np.all(data.mu == 0))
        self.eye = torch.eye(data.d, dtype=dtype, device=device)


class LevelTerms:
    """Per-level constants of the exact loss for levels with coefficients (a, c, e, f): with
    B = ae·C + cf·I and P = a²WC + c²W, L = Σ((P − 2B) ⊙ W) + e² tr C + f² d + ‖b‖² [+ 2bᵀ(aWμ − eμ)]
    and ∂L/∂W = 2(P − B [+ a b μᵀ])."""

    def __init__(self, coeffs: torch.Tensor, m: Moments):
        a, c, e, f = (v[:, None, None] for v in coeffs.unbind(-1))
        self.a, self.e = a[:, :, 0], e[:, :, 0]
        self.a2, self.c2 = a * a, c * c
        self.unit_a = bool((a == 1).all())  # denoisers: WC needs no per-level scaling
        self.B = (a * e) * m.C + (c * f) * m.eye
        self.const = (e * e)[:, 0, 0] * m.trC + (f * f)[:, 0, 0] * m.d
        self.m = m


def _dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Σ over all but the first axis of x ⊙ y, per level, without a temporary."""
    return torch.linalg.vecdot(x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1))


class _ExpectedLoss(torch.autograd.Function):
    """The exact per-level loss of an affine map and its derivative in (W, b), as one autograd node
    (see LevelTerms); autograd carries the derivative through the model's `effective()` to its
    parameters. The one d×d×d product per level is W·C, a single GEMM over all levels."""

    @staticmethod
    def forward(ctx, W, b, t):
        m = t.m
        WC = (W.reshape(-1, W.shape[-1]) @ m.C).reshape(W.shape)
        G = torch.addcmul(WC if t.unit_a else t.a2 * WC, t.c2, W) - t.B  # ½ ∂L/∂W for μ = 0
        loss = _dot(G, W) - _dot(t.B, W) + t.const + (b * b).sum(-1)
        gb = b
        if not m.centred:
            r = t.a * (W @ m.mu) - t.e * m.mu  # aWμ − eμ
            loss = loss + 2.0 * (b * r).sum(-1)
            G = G + t.a[:, :, None] * b[:, :, None] * m.mu[None, None, :]
            gb = b + r
        ctx.save_for_backward(G, gb)
        return loss

    @staticmethod
    def backward(ctx, grad):
        G, gb = ctx.saved_tensors
        g2 = 2.0 * grad
        return g2[:, None, None] * G, g2[:, None] * gb, None


def population_loss(W, b, coeffs, m: Moments, terms: LevelTerms | None = None) -> torch.Tensor:
    """Exact E‖W(a x + c z) + b − (e x + f z)‖² per level (see the module docstring); pass `terms`
    (LevelTerms of the same coefficients) to reuse the per-level constants."""
    return _ExpectedLoss.apply(W, b, terms if terms is not None else LevelTerms(coeffs, m))


def population_loss_reference(W, b, coeffs, m: Moments) -> torch.Tensor:
    """The same loss written out in plain torch ops (the test reference for value and gradient)."""
    a, c, e, f = coeffs.unbind(-1)
    WC = W @ m.C
    loss = (a * a * (WC * W).sum((-2, -1)) + c * c * (W * W).sum((-2, -1))
            - 2.0 * (a * e * (W * m.C).sum((-2, -1)) + c * f * torch.diagonal(W, dim1=-2, dim2=-1).sum(-1))
            + e * e * m.trC + f * f * m.d + (b * b).sum(-1))
    return loss + 2.0 * (b * (a[:, None] * (W @ m.mu) - e[:, None] * m.mu)).sum(-1)
