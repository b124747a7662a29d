"""Fully connected linear denoisers: one layer, tied and untied two-layer, deep linear (theory.md §2.1–2.4)."""
from __future__ import annotations

from theory import validate as V
from theory.errors import SpecbiasError

from .base import AffineModel, aligned_factor, aligned_matrix


def _width(hidden, d: int) -> int:
    return d if hidden is None else V.count("hidden width (hidden)", hidden)


def _depth(L, depth) -> int:
    if L is not None and depth is not None and L != depth:
        raise SpecbiasError(f"depth given twice with different values (L={L}, depth={depth})")
    return 3 if L is None and depth is None else V.count("depth L", L if L is not None else depth)


def _product_curvature(s, wmax, g, depth: int):
    """Bound on the parameter Hessian of the loss of a product model: for W = W_L ⋯ W_1 (balanced
    factors, ‖W‖₂ ≤ wmax, ‖W S − B‖₂ ≤ g) it is 2 s L wmax^{2−2/L} + 2(L − 1) g wmax^{1−2/L}.

    Derivation.
    Per level the loss is ℓ(W) = tr(W S Wᵀ) − 2 tr(W Bᵀ) + const in the effective matrix W (S the input's
    second moment, ‖S‖₂ ≤ s; B the input-target cross moment), with gradient ∇ℓ = 2G, G = W S − B, and
    Hessian 2 S ⊗ I. For W = W(θ) multilinear in its factors, along any direction δ of the parameters
        δᵀ H δ = 2 tr(DW[δ] S DW[δ]ᵀ) + ⟨2G, D²W[δ, δ]⟩,
    the Gauss–Newton part bounded by 2 s ‖DW[δ]‖²_F and the second by 2‖G‖₂ ‖D²W[δ, δ]‖_* (trace
    duality; ‖XY‖_* ≤ ‖X‖_F ‖Y‖_F).

    Depth L, W = W_L ⋯ W_1 (two-layer: L = 2). DW[δ] = Σ_i W_{>i} δ_i W_{<i}, so ‖DW[δ]‖_F ≤
    Σ_i Π_{j≠i} ‖W_j‖₂ ‖δ_i‖_F; D²W[δ, δ] = 2 Σ_{i<j} W_{>j} δ_j W_{(i,j)} δ_i W_{<i}, so
    ‖D²W‖_* ≤ 2 Σ_{i<j} Π_{k≠i,j} ‖W_k‖₂ ‖δ_i‖_F ‖δ_j‖_F. With balanced factors, ‖W_i‖₂ = ‖W‖₂^{1/L}
    ≤ w^{1/L}, and (Σ_i x_i)² ≤ L Σ_i x_i², Σ_{i<j} x_i x_j ≤ (L − 1)/2 Σ_i x_i²:
        |δᵀ H δ| ≤ [2 s L w^{2−2/L} + 2 (L − 1) ‖G‖₂ w^{1−2/L}] ‖δ‖².
    Tied, W = P Pᵀ: DW[δ] = δ Pᵀ + P δᵀ, ‖P‖₂² = ‖W‖₂, D²W[δ, δ] = 2 δ δᵀ:
        |δᵀ H δ| ≤ [8 s w + 4 ‖G‖₂] ‖δ‖².
    Both hold with equality on the top aligned mode (eigenvalue of its per-mode Hessian at gain w,
    s = σ² + λ, G = s w − λ: two-layer 6 s w − 2λ, tied 12 s w − 4λ, depth L: 2 s L w^{2−2/L} +
    2(L − 1)(s w − λ) w^{1−2/L}), so the bound is tight where the step size is decided; the old bound
    (12 s w for both two-layer models, 2 s·2(2L − 1) w^{2−2/L} for depth L, with ‖W‖₂ replaced by
    √(‖W‖₁‖W‖_∞)) was 1.5× (tied), 3× (two-layer) and 3.3× (L = 3) above it.

    Over the segment to the next checkpoint (numerics.stability): on an aligned trajectory every gain
    w_k moves monotonically from its current value to w*_k — per mode GD is the map
    a ← a − h f'(a) with 1 − h f''(a) ≥ 1 − h κ > 0, increasing, with fixed point a*, so it cannot step
    past a* — hence ‖W‖₂ ≤ max(‖W(now)‖₂, max_k |w*_k|) = wmax and ‖G‖₂ = max_k s_k |w_k − w*_k| ≤
    ‖G(now)‖₂ = g. Aligned balanced factors stay balanced under GD (equal factors get equal
    gradients), so ‖W_i‖₂ = ‖W‖₂^{1/L} throughout.
    """
    w = wmax.clamp(min=1e-300)
    return 2.0 * s * depth * w ** (2.0 - 2.0 / depth) + 2.0 * (depth - 1) * g * w ** (1.0 - 2.0 / depth)


class Linear(AffineModel):
    """D(x; σ) = W_σ x + b_σ with W ∈ R^{levels×d×d}, b ∈ R^{levels×d} (theory.md §2.1).
    Aligned init: W(0) = Σ_k Q_k u_k u_kᵀ; random: entries N(0, scale²); b(0) = 0."""

    def _build(self, init, Q, cov):
        self.W = self._per_level(aligned_matrix(Q, cov, self.d), (self.d, self.d))
        self._bias_parameter(self.d)

    def _effective(self, p):
        return p["W"], self._bias(p, p["W"][..., 0])


class SymTwoLayer(AffineModel):
    """D(x; σ) = P_σ P_σᵀ x + b_σ, P ∈ R^{levels×d×hidden} (theory.md §2.3). Aligned init:
    P(0)P(0)ᵀ = Σ_k Q_k u_k u_kᵀ (P = [A, 0], A the symmetric square root; hidden < d keeps the top
    `hidden` modes and needs `cov`)."""

    own_params = ("hidden",)

    @classmethod
    def n_weights(cls, d: int, hidden=None) -> int:
        return d * _width(hidden, d) + d

    def _build(self, init, Q, cov, hidden=None):
        self.hidden = _width(hidden, self.d)
        self.P = self._per_level(aligned_factor(Q, cov, self.d, self.hidden, 0.5), (self.d, self.hidden))
        self._bias_parameter(self.d)

    def _effective(self, p):
        P = p["P"]
        return P @ P.transpose(-1, -2), self._bias(p, P[..., 0])

    weight_dependent_curvature = True

    def _curvature(self, s, wmax, g):
        """8 s wmax + 4 g: exact on the top aligned mode, 12 s w − 4λ; see `_product_curvature`."""
        return 8.0 * s * wmax + 4.0 * g


class TwoLayer(AffineModel):
    """D(x; σ) = W₂ W₁ x + b, W₁ ∈ R^{levels×hidden×d}, W₂ ∈ R^{levels×d×hidden} (theory.md §2.4).
    Balanced aligned init: W₂(0) = F, W₁(0) = Fᵀ with F Fᵀ = Σ_k Q_k u_k u_kᵀ (per mode a = b = √Q)."""

    own_params = ("hidden",)

    @classmethod
    def n_weights(cls, d: int, hidden=None) -> int:
        return 2 * d * _width(hidden, d) + d

    def _build(self, init, Q, cov, hidden=None):
        self.hidden = _width(hidden, self.d)
        F = aligned_factor(Q, cov, self.d, self.hidden, 0.5)
        self.W1 = self._per_level(F.T.copy(), (self.hidden, self.d))
        self.W2 = self._per_level(F, (self.d, self.hidden))
        self._bias_parameter(self.d)

    def _effective(self, p):
        return p["W2"] @ p["W1"], self._bias(p, p["W2"][..., 0])

    weight_dependent_curvature = True

    def _curvature(self, s, wmax, g):
        return _product_curvature(s, wmax, g, 2)


class DeepLinear(AffineModel):
    """D(x; σ) = W_L ⋯ W_1 x + b with square factors (theory.md §2.4); depth `L` (the theory's parameter
    name; `depth` is an alias), default 3. Balanced aligned init: every factor Σ_k Q_k^{1/L} u_k u_kᵀ."""

    own_params = ("L", "depth")

    @classmethod
    def n_weights(cls, d: int, L=None, depth=None) -> int:
        return _depth(L, depth) * d * d + d

    def _build(self, init, Q, cov, L=None, depth=None):
        self.depth = _depth(L, depth)
        A = aligned_matrix(Q, cov, self.d, 1.0 / self.depth)
        for i in range(self.depth):
            setattr(self, f"W{i}", self._per_level(A, (self.d, self.d)))
        self._bias_parameter(self.d)

    def _effective(self, p):
        W = p["W0"]
        for i in range(1, self.depth):
            W = p[f"W{i}"] @ W
        return W, self._bias(p, W[..., 0])

    weight_dependent_curvature = True

    def _curvature(self, s, wmax, g):
        return _product_curvature(s, wmax, g, self.depth)

