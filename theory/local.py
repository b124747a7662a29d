"""Exact theory of local linear denoisers on ANY covariance (non-stationary images, correlated channels):
the 2-D P × P convolution (weights shared across positions) and the locally connected control (the
same P × P support, one filter per position, no sharing), both circular, aligned init W(0) = Q·I.

Weights [derived, theory.md §1.3 + §2.6]. Output (c, i) has the C·P² inputs S_i around pixel i. Its filter
w_{c,i} sees the loss (w·y_{S_i} − x_{c,i})² averaged over data and noise, so under gradient flow
    locally connected:  w_{c,i}(σ, τ) = g(Σ_{S_i}) e_c,        g(ν) = ψ_lin(ν, σ, τ; Q, η),
    convolution:        w_c(σ, τ)     = g(Σ̄_patch) e_c,       g(ν) = ψ_lin(ν, σ, τ; Q, HW·η),
with Σ_{S_i} the data covariance restricted to S_i, Σ̄_patch = (1/HW) Σ_i Σ_{S_i} (what weight sharing
sees), e_c the centre pixel of channel c, and ψ_lin the one-layer gain (Prop. eq. 7) applied as a matrix
function through one eigendecomposition per support (σ- and τ-independent).
With all taps (P ≥ the image, no wrap-around overlap) the locally connected W is g(Σ): the linear model.

Sampling [paper Lemma 4.1]: d x/d ln σ = (I − W_σ) x from σ_T to σ_0; the W_σ of a locally connected
model (or of a convolution with correlated channels) do not commute, so the map x(σ_T) ↦ x(σ_0) is the
time-ordered exponential A, computed by fourth-order Magnus steps in ln σ (two Gauss points per step),
and the generated covariance is C̃ = σ_T² A Aᵀ. For a C = 1 convolution this equals the eigen-mix closed
form of `conv2d` (tested), which is independent of the propagator.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from . import validate as V
from .archs.circulant import check_length
from .archs.conv2d import offsets
from .archs.linear import ARCH as LINEAR
from .errors import SpecbiasError

KINDS = ("conv", "local")
MAGNUS_STEPS = 96  # Magnus-4 steps over ln(σ_T/σ_0) ≈ 10.6: h ≈ 0.11, error O(h⁴) ~ 1e−6 in ln λ̃


def supports(shape, P: int) -> np.ndarray:
    """Input indices S_i (HW, C·P²) around every pixel (circular), channel-major then offsets."""
    C, H, W = shape
    d = offsets(P)
    ih, iw = np.divmod(np.arange(H * W), W)
    pix = ((ih[:, None] + d[None, :, 0]) % H) * W + (iw[:, None] + d[None, :, 1]) % W  # (HW, P²)
    return (np.arange(C)[None, :, None] * H * W + pix[:, None, :]).reshape(H * W, C * P * P)


class LocalOperator:
    """The eigendecompositions behind W_σ(τ) for one (kind, covariance, shape, P); see the module doc."""

    def __init__(self, kind: str, cov, shape, P: int):
        if kind not in KINDS:
            raise SpecbiasError(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
        shape = tuple(int(s) for s in shape)
        if len(shape) != 3:
            raise SpecbiasError(f"local models need images of shape (C, H, W), got {shape}")
        C, H, W = shape
        check_length("channels C", C)
        P = check_length("kernel size P", P)
        if P % 2 == 0 or P > min(H, W):
            raise SpecbiasError(f"kernel size P must be odd and ≤ the smaller image side {min(H, W)} (got {P})")
        cov = V.as_array("covariance (cov)", cov)
        d = C * H * W
        if cov.shape != (d, d):
            raise SpecbiasError(f"covariance must be {d}×{d} for images {shape}, got {cov.shape}")
        self.kind, self.shape, self.P, self.d = kind, shape, P, d
        self.S = supports(shape, P)  # (HW, C P²)
        blocks = cov[self.S[:, :, None], self.S[:, None, :]]  # (HW, CP², CP²)
        if kind == "conv":
            blocks = blocks.mean(0, keepdims=True)
        self.nu, vec = np.linalg.eigh(blocks)
        centre = (np.arange(C) * P * P + P * P // 2)  # e_c in the support's local coordinates
        self.left = vec[:, centre, :]  # (HW or 1, C, J): v_j[e_c]
        self.vec = vec  # (HW or 1, CP², J)
        self.positions = H * W if kind == "conv" else 1  # positions sharing each tap (rate factor)

    def weights(self, sigma, tau, Q=0.1, eta=1.0) -> np.ndarray:
        """W_σ(τ) (…σ, d, d) for noise levels `sigma` (any shape) at one time τ."""
        sigma = np.asarray(sigma, float)
        psi = LINEAR._weight(self.nu, sigma[..., None, None], float(tau), Q, self.positions * eta)  # (…, HW|1, J)
        k = np.einsum("pcj,...pj,pmj->...pcm", self.left, psi, self.vec)  # (…, HW|1, C, CP²)
        C, H, W = self.shape
        k = np.broadcast_to(k, sigma.shape + (H * W, C, self.S.shape[1]))
        out = np.zeros(sigma.shape + (self.d, self.d))
        rows = np.arange(C)[None, :] * H * W + np.arange(H * W)[:, None]  # (HW, C) output index (c, i)
        out[..., rows[:, :, None], self.S[:, None, :]] = k
        return out

    def propagator(self, tau, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0, steps: int = MAGNUS_STEPS):
        """A with x(σ_0) = A x(σ_T): Magnus-4 in s = ln σ, from s_T down to s_0."""
        s = np.linspace(np.log(sigmaT), np.log(sigma0), int(steps) + 1)
        h = s[1] - s[0]  # negative: integrating downwards
        c = 0.5 - np.sqrt(3) / 6
        nodes = np.stack([s[:-1] + c * h, s[:-1] + (1 - c) * h], -1)  # (steps, 2)
        G = np.eye(self.d) - self.weights(np.exp(nodes), tau, Q, eta)  # generator of d x/d s
        G1, G2 = G[:, 0], G[:, 1]
        omega = 0.5 * h * (G1 + G2) + (np.sqrt(3) / 12) * h**2 * (G2 @ G1 - G1 @ G2)
        A = np.eye(self.d)
        for E in expm(omega):
            A = E @ A
        return A

    def generated_covariance(self, tau, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0,
                             steps: int = MAGNUS_STEPS) -> np.ndarray:
        """C̃(τ) = σ_T² A Aᵀ for each time in `tau` → (T, d, d)."""
        sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
        out = []
        for t in np.atleast_1d(V.times(tau)):
            A = self.propagator(t, Q, eta, sigma0, sigmaT, steps)
            out.append(sigmaT**2 * A @ A.T)
        return np.array(out)
