"""`conv2d`: 2-D circular convolution with a P × P kernel on C-channel images (paper Prop. 5.4 in 2-D;
theory.md §2.6, last items). The eigen-mix closed form of `patch_conv`, generalised and derived here.

Model: D(y)[c, i] = Σ_{c', δ} k[c, c', δ] y[c', i + δ] (indices mod H, W, δ ∈ {−r..r}², P = 2r + 1),
independent kernels per σ, aligned init k = Q at the centre tap of every c = c' (W(0) = Q·I).
Per output channel c the taps w_c ∈ R^{C·P²} see the loss (circular, positions i = 1..HW)
    L_σ,c = Σ_i E(w_c · patch_i(y) − x_{c,i})² = HW [w_cᵀ(Σ_patch + σ²I)w_c − 2 w_cᵀ Σ_patch e_{c,0}] + const,
with Σ_patch the (C·P²)² patch covariance averaged over positions, so
    w_c(σ, τ) = g(Σ_patch) e_{c,0},   g(ν) = ψ_lin(ν, σ, τ; Q, HW·η)
(the one-layer gain as a matrix function): the kernel is the centre-pixel row block of g(Σ_patch),
the same per-eigenmode flow as `patch_conv` with N → HW positions sharing each tap.

The theory's `lam` (last axis) holds C stacked 2-D Fourier spectra of H × W images (DFT order,
flattened), λ_c(f) = λ_c(−f), **channels uncorrelated** (the cross-spectra are zero; the kernel's
cross-channel taps then stay at 0). Per channel, with Σ_patch,c = Σ_j ν_j v_j v_jᵀ (P² modes),
    γ_c(f; σ, τ) = Σ_j c_jf ψ_lin(ν_j, σ, τ),   c_jf = v_j[0] Σ_δ v_j[δ] cos(2π(f_h δ_h/H + f_w δ_w/W)),
Σ_j c_jf = 1, c independent of σ and τ; sampling (§3.1) is diagonal per (channel, frequency) and linear
in the gain, hence [derived here]
    ln λ̃_c(f; τ) = Σ_j c_jf ln λ̃_linear(ν_j, τ; η → HWη).
(The imaginary parts Σ_δ v_j[δ] sin(·) cancel within each eigenspace of the centrosymmetric Σ_patch.)
Correlated channels (C×C cross-spectra) make the per-frequency C×C gains non-commuting in σ: no closed
form; `theory.local` integrates that exact propagator. P = H = W (odd) reduces exactly to a full-width
2-D circulant: the one-layer law per Fourier mode at rate HWη.
"""
from __future__ import annotations

import mpmath as mp
import numpy as np

from ..errors import SpecbiasError
from ..registry import register
from .circulant import check_length
from .patch_conv import SYMMETRY_RTOL, PatchConv


def geometry(n: int, P: int, C: int, H: int = 0, name: str = "conv2d") -> tuple[int, int, int]:
    """(C, H, W) of a spectrum of n = C·H·W values (H = 0: square images); one clear error otherwise."""
    per = n // C
    if per * C != n:
        raise SpecbiasError(f"{name}: the spectrum holds {n} values, not a multiple of C = {C} channels")
    if H == 0:
        H = int(round(np.sqrt(per)))
        if H * H != per:
            raise SpecbiasError(f"{name}: {per} Fourier variances per channel is not a square image; "
                                "pass H (the image height)")
    W = per // H
    if H * W != per:
        raise SpecbiasError(f"{name}: {per} Fourier variances per channel do not fill H = {H} rows")
    if P > min(H, W):
        raise SpecbiasError(f"{name}: kernel P = {P} exceeds the image {H}×{W}")
    return C, H, W


def offsets(P: int) -> np.ndarray:
    """The P² kernel offsets δ = (δ_h, δ_w), row-major, centre at index P²//2."""
    r = P // 2
    m = np.arange(-r, r + 1)
    return np.stack(np.meshgrid(m, m, indexing="ij"), -1).reshape(-1, 2)


def phases(P: int, H: int, W: int) -> np.ndarray:
    """2π(f_h δ_h/H + f_w δ_w/W) for every offset δ and frequency f (DFT order): (P², H·W)."""
    d = offsets(P)
    fh, fw = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    return 2 * np.pi * (np.outer(d[:, 0], fh.ravel()) / H + np.outer(d[:, 1], fw.ravel()) / W)


def patch_covariance_2d(spectrum, P: int, H: int, W: int) -> np.ndarray:
    """Σ_patch (…, P², P²) of one channel: c(δ_b − δ_a), c = inverse 2-D DFT of the spectrum (…, H·W)."""
    acov = np.fft.ifft2(np.asarray(spectrum).reshape(spectrum.shape[:-1] + (H, W))).real
    d = offsets(P)
    diff = d[None, :, :] - d[:, None, :]
    return acov[..., diff[..., 0] % H, diff[..., 1] % W]


def decompose_2d(spectrum, P: int, H: int, W: int):
    """ν (…, P²) and mixing weights c (…, P², H·W) of one channel: γ_f = Σ_j c_jf ψ_j."""
    nu, vec = np.linalg.eigh(patch_covariance_2d(spectrum, P, H, W))
    cos = np.cos(phases(P, H, W))
    return nu, vec[..., P * P // 2, :, None] * np.einsum("...mj,mf->...jf", vec, cos)


class Conv2d(PatchConv):
    name = "conv2d"
    title = "2-D circular convolution, P × P kernel, C channels"
    source = "Prop. 5.4 in 2-D; derived per Σ_patch eigenmode (C·P² taps per output channel)"
    model = "numerics.models:PatchConv2d"
    params = {"P": 3, "C": 1, "H": 0}
    dims = 2
    shift_invariant = True  # generated covariance diagonal in the 2-D DFT on any data (theory.basis)
    emergence_order_caveat = (
        "every Fourier gain mixes the P² patch eigenmodes (rates 2HWη(σ² + ν_j)), so a smaller Fourier "
        "variance can emerge first; only P = H = W (full-width circulant) guarantees the order")

    def check_params(self, p):
        P = check_length(f"{self.name}: kernel size P", p["P"])
        if P % 2 == 0:
            raise SpecbiasError(f"{self.name}: kernel size P must be odd (P = 2r + 1), got {P}")
        check_length(f"{self.name}: channels C", p["C"])
        check_length(f"{self.name}: image height H (0: square)", p["H"], minimum=0)

    def as_spectrum(self, lam, C: int = 1) -> np.ndarray:
        """n ≥ 3 variances → a square symmetric 2-D spectrum s_a·s_b^{1/π} of side 2n − 2 (s the 1-D
        spectrum [λ_0, …, λ_{n−1}, λ_{n−2}, …, λ_1], symmetric s_k = s_{side−k}), the same in each of C
        channels, flattened. The unequal exponents keep equal variances to the symmetries f → −f and the
        reflections of one axis (which give equal τ*): √(s_a s_b) would also equate (a, b) with (b, a)
        and s_a s_b = s_c s_d coincidences, which mix different patch eigenmodes and emerge at different
        times. Side 2n − 2 (not 2n − 1) keeps the generic property tests small (3 variances: 4 × 4)."""
        lam = np.asarray(lam, dtype=float)
        s = np.concatenate([lam, lam[..., -2:0:-1]], axis=-1)
        grid = s[..., :, None] * s[..., None, :] ** (1 / np.pi)
        flat = grid.reshape(grid.shape[:-2] + (-1,))
        return np.concatenate([flat] * C, axis=-1)

    # ---- the eigen-mix, per channel ------------------------------------------------------------
    def _channels(self, spectrum, geom):
        P, C, H0 = geom
        C, H, W = geometry(spectrum.shape[-1], P, C, H0, self.name)
        spec = spectrum.reshape(spectrum.shape[:-1] + (C, H * W))
        mirror = spec.reshape(spec.shape[:-1] + (H, W))[..., (-np.arange(H)) % H, :][..., (-np.arange(W)) % W]
        if np.any(np.abs(spec - mirror.reshape(spec.shape))
                  > SYMMETRY_RTOL * np.max(spec, axis=-1, keepdims=True)):
            raise SpecbiasError(f"{self.name}: each channel's 2-D spectrum must be symmetric, λ(f) = λ(−f), as "
                                "for real stationary images; arch.as_spectrum(lam) builds one")
        return spec, C, H, W

    def spectral(self, spectrum, geom):
        """(H·W, ν (…, C·P²), c (…, C·P², C·H·W)): block-diagonal over the uncorrelated channels."""
        spec, C, H, W = self._channels(spectrum, geom)
        P = geom[0]
        nu, mix = decompose_2d(spec, P, H, W)  # (…, C, P²), (…, C, P², HW)
        J, F = P * P, H * W
        full = np.zeros(mix.shape[:-3] + (C, J, C, F))
        for c in range(C):
            full[..., c, :, c, :] = mix[..., c, :, :]
        return F, nu.reshape(nu.shape[:-2] + (C * J,)), full.reshape(full.shape[:-4] + (C * J, C * F))

    def spectral_mp(self, spectrum, geom):
        """The same for one spectrum at mpmath's working precision (mp.eigsy per channel)."""
        P, C0, H0 = geom
        C, H, W = geometry(len(spectrum), P, C0, H0, self.name)
        F, J, r = H * W, P * P, P // 2
        d = offsets(P)
        # every angle 2π(f_h a/H + f_w b/W) is 2π q/(HW) for the integer q = f_h a W + f_w b H: one table
        table = [mp.cos(2 * mp.pi * mp.mpf(q) / F) for q in range(F)]

        def cos(a, b, f):
            return table[((f // W) * a * W + (f % W) * b * H) % F]
        nus, mix = [], []
        for c in range(C):
            spec = spectrum[c * F:(c + 1) * F]
            acov = {(a, b): mp.fsum(spec[f] * cos(a, b, f) for f in range(F)) / F
                    for a in range(-2 * r, 2 * r + 1) for b in range(-2 * r, 2 * r + 1)}
            mat = mp.matrix([[acov[tuple(d[q] - d[p])] for q in range(J)] for p in range(J)])
            nu, vec = mp.eigsy(mat)
            cos_mf = [[cos(int(d[m, 0]), int(d[m, 1]), f) for f in range(F)] for m in range(J)]
            for j in range(J):
                nus.append(nu[j])
                row = [mp.mpf(0)] * (C * F)
                for f in range(F):
                    row[c * F + f] = vec[J // 2, j] * mp.fsum(vec[m, j] * cos_mf[m][f] for m in range(J))
                mix.append(row)
        return F, nus, mix

    def _geom(self, p):
        return (p.get("P", 3), p.get("C", 1), p.get("H", 0))

    def _weight(self, lam, sigma, tau, Q, eta, **p):
        from .linear import ARCH as LINEAR
        return self._mix(LINEAR._weight, lam, (sigma, tau), Q, eta, self._geom(p))

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        from .linear import ARCH as LINEAR

        def per_mode(nu, tau_, Q_, rate):
            return LINEAR._log_variance(nu, tau_, Q_, rate, sigma0, sigmaT)
        return self._mix(per_mode, lam, (tau,), Q, eta, self._geom(p))

    def _weight_mp_array(self, lam, sigma, tau, Q, eta, **p):
        return PatchConv._weight_mp_array(self, lam, sigma, tau, Q, eta, K=self._geom(p))

    def _log_variance_mp_array(self, lam, tau, Q, eta, sigma0, sigmaT, **p):
        return PatchConv._log_variance_mp_array(self, lam, tau, Q, eta, sigma0, sigmaT, K=self._geom(p))


ARCH = register(Conv2d())
