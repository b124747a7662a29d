"""Linear convolutions with circular boundaries (theory.md §2.5–2.6): full-width circulant, local 1-D
patch convolution and a 2-D, C-channel patch convolution.

All are one `SharedWeightModel`: signals live on a C × H × W grid (1-D: C = H = 1, W = N), the kernel
holds one tap per (output channel, input channel, offset), and

    D(x)[c, i] = Σ_{c', δ} k[c, c', δ] x[c', i − δ] + b[c]        (indices mod H, W)

so the effective matrix is W[(c, i), (c', j)] = k[c, c', i − j] (zero for offsets outside the
kernel), built by one gather whose backward is exactly the weight-sharing sum of the gradient over
positions (rates × H·W, theory.md §2.5). Aligned init: k = Q at the centre tap of every c = c' (w(0) = Q·e₀,
i.e. W(0) = Q·I). The measurement basis is the Fourier one (unitary DFT per channel).
"""
from __future__ import annotations

import numpy as np
import torch

from theory.errors import SpecbiasError

from .base import AffineModel


class SharedWeightModel(AffineModel):
    """Base of the convolutions: subclasses set the grid and the kernel offsets in `_geometry`."""

    basis = "fourier"

    shared = True  # one kernel for every position (False: locally connected, one per position)

    def _setup(self, grid, offsets) -> None:
        """grid = (C, H, W) with C·H·W = d; offsets = list of (δh, δw), the centre (0, 0) included."""
        C, H, W = grid
        if C * H * W != self.d:
            raise SpecbiasError(f"grid {grid} does not hold d = {self.d} values")
        self.grid, self.offsets = (C, H, W), [(int(a) % H, int(b) % W) for a, b in offsets]
        if len(set(self.offsets)) != len(self.offsets):
            raise SpecbiasError(f"kernel offsets overlap on the {H}×{W} circle: the kernel is too wide")
        T = len(self.offsets)
        table = -np.ones((H, W), dtype=np.int64)
        for t, (a, b) in enumerate(self.offsets):
            table[a, b] = t
        ii = np.arange(H * W)
        dh = (ii[:, None] // W - ii[None, :] // W) % H
        dw = (ii[:, None] % W - ii[None, :] % W) % W
        tap = table[dh, dw]  # [HW, HW], −1 outside the kernel
        cc = np.arange(C)
        pos = 0 if self.shared else ii[None, :, None, None]  # kernel index of output position i
        index = ((pos * C + cc[:, None, None, None]) * C + cc[None, None, :, None]) * T + tap[None, :, None, :]
        n_k = C * C * T * (1 if self.shared else H * W)
        index = np.where(tap[None, :, None, :] < 0, n_k, index)  # the zero slot
        self.register_buffer("index", torch.as_tensor(index.reshape(self.d, self.d), device=self._device))
        self.bias_share = H * W if self.shared else 1
        centre = self.offsets.index((0, 0))
        k0 = np.zeros((C, C, T))
        k0[cc, cc, centre] = float(self.Q)
        kshape = (C, C, T) if self.shared else (H * W, C, C, T)
        self.w = self._per_level(np.broadcast_to(k0, kshape).copy(), kshape)
        self._bias_parameter(C if self.shared else self.d)

    def _check_scalar_Q(self, Q):
        if np.ndim(Q) != 0:
            raise SpecbiasError(f"{type(self).__name__}: aligned init w(0) = Q·e₀ takes a scalar Q")

    def _effective(self, p):
        k = p["w"].reshape(p["w"].shape[0], -1)
        padded = torch.cat([k, torch.zeros_like(k[:, :1])], dim=1)
        return padded[:, self.index], self._bias(p, k)

    def _expand_bias(self, b):
        return b.repeat_interleave(self.bias_share, dim=-1)

    def _forward(self, p, x):
        """Σ_δ k[:, :, :, δ] ⊛ roll(x, δ): the convolution itself (not the d×d matrix)."""
        C, H, W = self.grid
        lv, batch = x.shape[0], x.shape[1]
        xs = x.reshape(lv, batch, C, H, W)
        rolled = torch.stack([torch.roll(xs, shifts=(a, b), dims=(-2, -1)) for a, b in self.offsets])
        if self.shared:
            out = torch.einsum("lcat,tlbahw->lbchw", p["w"], rolled)
        else:
            k = p["w"].reshape(lv, H, W, C, C, -1)
            out = torch.einsum("lhwcat,tlbahw->lbchw", k, rolled)
        out = out.reshape(lv, batch, self.d)
        return out + self._expand_bias(p["b"])[:, None, :] if "b" in p else out

    def _curvature(self, s, wmax, g):
        """Every tap is shared by H·W positions: the Hessian is 2·H·W·(Σ_patch + σ²) ≤ 2·H·W·s
        (locally connected: 2·(Σ_{S_i} + σ²) ≤ 2·s)."""
        return 2.0 * s * self.bias_share


class Circulant(SharedWeightModel):
    """Full-width circular convolution on 1-D signals of length N = d: N raw taps per level
    (theory.md §2.5); forward by FFT. `N` (if the theory passes it) must equal d."""

    own_params = ("N",)

    def _build(self, init, Q, cov, N=None):
        if N is not None and int(N) != self.d:
            raise SpecbiasError(f"circulant: N = {N} but the data have d = {self.d}")
        self._check_scalar_Q(Q)
        self._setup((1, 1, self.d), [(0, m) for m in range(self.d)])

    def _forward(self, p, x):
        taps = p["w"].reshape(p["w"].shape[0], self.d)
        out = torch.fft.irfft(torch.fft.rfft(taps, dim=-1)[:, None, :] * torch.fft.rfft(x, dim=-1),
                              n=self.d, dim=-1)
        return out + p["b"][:, None, :] if "b" in p else out


def _odd_kernel(name, K, limit, what):
    if int(K) != K or K < 1 or K % 2 == 0:
        raise SpecbiasError(f"{name} must be an odd positive integer (got {K!r})")
    if K > limit:
        raise SpecbiasError(f"{name} = {K} exceeds the {what} ({limit})")
    return int(K)


class PatchConv(SharedWeightModel):
    """Local circular convolution on 1-D signals of length N = d with K = 2r + 1 ≤ N taps (theory.md §2.6;
    K = N is the full-width filter in another tap order)."""

    own_params = ("K", "N")

    def _build(self, init, Q, cov, K=3, N=None):
        if N is not None and int(N) != self.d:
            raise SpecbiasError(f"patch convolution: N = {N} but the data have d = {self.d}")
        K = _odd_kernel("kernel size K", K, self.d, "signal length N")
        self._check_scalar_Q(Q)
        r = K // 2
        self._setup((1, 1, self.d), [(0, m) for m in range(-r, r + 1)])


class PatchConv2d(SharedWeightModel):
    """2-D circular convolution on C × H × W images with C channels in and out and a P × P kernel
    (theory.md §2.6, 2-D); the signal shape (C, H, W) comes from the data."""

    own_params = ("P",)

    def _build(self, init, Q, cov, P=3):
        if len(self.shape) != 3:
            raise SpecbiasError(f"2-D patch convolution needs images of shape (C, H, W), got {self.shape}")
        C, H, W = self.shape
        P = _odd_kernel("kernel size P", P, min(H, W), "smaller image side")
        self._check_scalar_Q(Q)
        r = P // 2
        self._setup((C, H, W), [(a, b) for a in range(-r, r + 1) for b in range(-r, r + 1)])



class LocallyConnected2d(PatchConv2d):
    """The locally connected control: the P × P support of `PatchConv2d` (circular) with one kernel per
    output position (no weight sharing); aligned init Q at every centre tap, i.e. W(0) = Q·I."""

    shared = False
