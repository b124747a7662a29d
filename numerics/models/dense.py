"""Fully connected linear denoisers: one layer, tied and untied two-layer, deep linear (THEORY §2.1–2.4)."""
from __future__ import annotations

from theory.errors import SpecbiasError

from .base import AffineModel, aligned_factor, aligned_matrix


def _width(hidden, d: int) -> int:
    h = d if hidden is None else hidden
    if int(h) != h or h < 1:
        raise SpecbiasError(f"hidden width must be a positive integer (got {hidden!r})")
    return int(h)


def _product_curvature(s, wmax, depth: int):
    """Hessian bound of L(W_L ⋯ W_1) near a balanced trajectory with gains ≤ wmax: per mode the
    Gauss–Newton part is 2s·L·w^{2−2/L} and the gradient part ≤ (L − 1)·2s·w^{2−2/L}; ×2 for the
    directions off the aligned modes."""
    return 2.0 * s * 2.0 * (2 * depth - 1) * wmax.clamp(min=1e-300) ** (2.0 - 2.0 / depth)


class Linear(AffineModel):
    """D(x; σ) = W_σ x + b_σ with W ∈ R^{levels×d×d}, b ∈ R^{levels×d} (THEORY §2.1).
    Aligned init: W(0) = Σ_k Q_k u_k u_kᵀ; random: entries N(0, scale²); b(0) = 0."""

    def _build(self, init, Q, cov):
        self.W = self._per_level(aligned_matrix(Q, cov, self.d), (self.d, self.d))
        self._bias_parameter(self.d)

    def _effective(self, p):
        return p["W"], self._bias(p, p["W"][..., 0])


class SymTwoLayer(AffineModel):
    """D(x; σ) = P_σ P_σᵀ x + b_σ, P ∈ R^{levels×d×hidden} (THEORY §2.3). Aligned init:
    P(0)P(0)ᵀ = Σ_k Q_k u_k u_kᵀ (P = [A, 0], A the symmetric square root; hidden < d keeps the top
    `hidden` modes and needs `cov`)."""

    own_params = ("hidden",)

    def _build(self, init, Q, cov, hidden=None):
        self.hidden = _width(hidden, self.d)
        self.P = self._per_level(aligned_factor(Q, cov, self.d, self.hidden, 0.5), (self.d, self.hidden))
        self._bias_parameter(self.d)

    def _effective(self, p):
        P = p["P"]
        return P @ P.transpose(-1, -2), self._bias(p, P[..., 0])

    def _curvature(self, s, wmax):
        """Per mode d²L/dp² = 4(sw − λ) + 8sw ≤ 12 s w; off-mode directions obey the same bound."""
        return 12.0 * s * wmax


class TwoLayer(AffineModel):
    """D(x; σ) = W₂ W₁ x + b, W₁ ∈ R^{levels×hidden×d}, W₂ ∈ R^{levels×d×hidden} (THEORY §2.4).
    Balanced aligned init: W₂(0) = F, W₁(0) = Fᵀ with F Fᵀ = Σ_k Q_k u_k u_kᵀ (per mode a = b = √Q)."""

    own_params = ("hidden",)

    def _build(self, init, Q, cov, hidden=None):
        self.hidden = _width(hidden, self.d)
        F = aligned_factor(Q, cov, self.d, self.hidden, 0.5)
        self.W1 = self._per_level(F.T.copy(), (self.hidden, self.d))
        self.W2 = self._per_level(F, (self.d, self.hidden))
        self._bias_parameter(self.d)

    def _effective(self, p):
        return p["W2"] @ p["W1"], self._bias(p, p["W2"][..., 0])

    def _curvature(self, s, wmax):
        return _product_curvature(s, wmax, 2)


class DeepLinear(AffineModel):
    """D(x; σ) = W_L ⋯ W_1 x + b with square factors (THEORY §2.4); depth `L` (the theory's parameter
    name; `depth` is an alias), default 3. Balanced aligned init: every factor Σ_k Q_k^{1/L} u_k u_kᵀ."""

    own_params = ("L", "depth")

    def _build(self, init, Q, cov, L=None, depth=None):
        if L is not None and depth is not None and L != depth:
            raise SpecbiasError(f"depth given twice with different values (L={L}, depth={depth})")
        depth = 3 if L is None and depth is None else (L if L is not None else depth)
        if int(depth) != depth or depth < 1:
            raise SpecbiasError(f"depth L must be a positive integer (got {depth!r})")
        self.depth = int(depth)
        A = aligned_matrix(Q, cov, self.d, 1.0 / self.depth)
        for i in range(self.depth):
            setattr(self, f"W{i}", self._per_level(A, (self.d, self.d)))
        self._bias_parameter(self.d)

    def _effective(self, p):
        W = p["W0"]
        for i in range(1, self.depth):
            W = p[f"W{i}"] @ W
        return W, self._bias(p, W[..., 0])

    def _curvature(self, s, wmax):
        return _product_curvature(s, wmax, self.depth)

