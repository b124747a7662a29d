"""`patch_conv`: local 1-D circular convolution with a kernel of K = 2r + 1 ≤ N taps (theory.md §2.6;
paper Prop. 5.4).

The modes are coupled: the last axis of `lam` is the whole Fourier spectrum Σ̃_kk of a real stationary
signal of length N = lam.shape[−1], symmetric (λ_k = λ_{N−k}). With the autocovariance
c(d) = (1/N) Σ_k λ_k e^{2πikd/N} the patch covariance is [Σ_patch]_ab = c(b − a), a, b ∈ {−r..r}, and
    ∇_w L_σ = 2N[(Σ_patch + σ²I) w − Σ_patch e₀]  ⇒  w_σ(τ) = w*_σ + e^{−2Nητ(σ²I + Σ_patch)}(w(0) − w*_σ),
w*_σ = (σ²I + Σ_patch)⁻¹Σ_patch e₀, aligned init w(0) = Q e₀ (gain Q on every Fourier mode).
In the eigenbasis Σ_patch = Σ_j ν_j v_j v_jᵀ the coefficient a_j = v_jᵀw has e₀-component v0_j = v_j[e₀],
loss N[(ν_j + σ²)a_j² − 2ν_j v0_j a_j] + const, and ψ_j = a_j/v0_j obeys the one-layer flow at rate Nη
(the `circulant` per-mode problem with λ → ν_j). The gain on Fourier mode k is
    γ_k(σ, τ) = Σ_m w_m e^{2πikm/N} = Σ_j c_jk ψ_j(σ, τ),   c_jk = v0_j Σ_m v_j[m] cos(2πkm/N),  Σ_j c_jk = 1,
with c_jk independent of σ and τ. Sampling (§3.1) is diagonal in Fourier space and linear in the gain,
so [derived here] the generated variance is a weighted geometric mean of one-layer closed forms:
    ln λ̃_k(τ) = Σ_j c_jk ln λ̃_linear(ν_j, τ; η → Nη)   (exact; checked against quadrature of γ_k).
The specification once said "no closed form known" (theory.md §2.6 now states this one); it follows
from the linearity of §3.1 in ψ.
For K < N the filter cannot reproduce the target: λ̃_k(∞) = σ_T² Π_j [(ν_j + σ_0²)/(ν_j + σ_T²)]^{c_jk}
→ Π_j ν_j^{c_jk} ≠ Σ̃_kk (law "departs"); at finite τ, λ̃_k ∝ σ_0^{2(1 − γ_k(σ→0, τ))} as σ_0 → 0.
K = N (odd) reduces exactly to `circulant`.
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp

from .. import derive as D
from .. import symbols as S
from .. import validate as V
from ..arch import Architecture, Law
from ..checks import check_fixed_point
from ..domain import Domain, reference
from ..errors import SpecbiasError
from ..registry import register
from .circulant import ARCH as CIRCULANT
from .circulant import N, check_length
from .linear import ARCH as LINEAR

a_j = sp.Symbol("a", real=True)  # coefficient of the filter on one eigenvector of Σ_patch
v0 = sp.Symbol("v0", positive=True)  # e₀-component of that eigenvector (v0 = 0 never moves)
SYMMETRY_RTOL = 1e-12


def check_spectrum(lam: np.ndarray, K: int) -> int:
    """N = lam.shape[−1] after checking K ≤ N and the symmetry λ_k = λ_{N−k}; one clear error otherwise."""
    if lam.ndim == 0:
        raise SpecbiasError("patch_conv: lam must be a whole Fourier spectrum (an array whose last axis "
                            "holds the N variances), got a single number")
    n = lam.shape[-1]
    if K > n:
        raise SpecbiasError(f"patch_conv: kernel K = {K} exceeds the signal length N = {n} "
                            "(the last axis of lam is the whole Fourier spectrum)")
    mirror = lam[..., (-np.arange(n)) % n]  # asymmetry relative to the spectrum's largest variance
    if np.any(np.abs(lam - mirror) > SYMMETRY_RTOL * np.max(lam, axis=-1, keepdims=True)):
        raise SpecbiasError("patch_conv: the spectrum (last axis of lam) must be symmetric, "
                            "λ_k = λ_{N−k}, as for a real stationary signal; arch.as_spectrum(lam) "
                            "mirrors arbitrary variances into one")
    return n


def patch_covariance(spectrum, K: int) -> np.ndarray:
    """Σ_patch (…, K, K): [Σ_patch]_ab = c(b − a), c = inverse DFT of the spectrum (§2.6)."""
    acov = np.fft.ifft(spectrum, axis=-1).real
    m = np.arange(K) - K // 2
    return acov[..., (m[None, :] - m[:, None]) % acov.shape[-1]]


def decompose(spectrum, K: int):
    """ν (…, K) eigenvalues of Σ_patch and mixing weights c (…, K, N): γ_k = Σ_j c_jk ψ_j.

    Σ_patch is a compression of the circulant with eigenvalues λ_k, so (Cauchy interlacing) every ν
    lies in [min λ, max λ]; eigh's absolute error eps·max λ can push a tiny ν out of it, even below
    0 on spectra spanning ≳ 1e16 (then ln λ̃ was NaN), so ν is clipped back into that interval."""
    nu, vec = np.linalg.eigh(patch_covariance(spectrum, K))
    nu = np.clip(nu, spectrum.min(axis=-1, keepdims=True), spectrum.max(axis=-1, keepdims=True))
    n = spectrum.shape[-1]
    m = np.arange(K) - K // 2
    cos = np.cos(2.0 * np.pi * np.outer(m, np.arange(n)) / n)  # (m, k)
    return nu, vec[..., K // 2, :, None] * np.einsum("...mj,mk->...jk", vec, cos)


def decompose_mp(spectrum, K: int):
    """The same at mpmath's working precision (mp.eigsy), for one spectrum (a sequence of mpf)."""
    n = len(spectrum)
    acov = [mp.fsum(spectrum[k] * mp.cos(2 * mp.pi * k * d / n) for k in range(n)) / n for d in range(n)]
    r = K // 2
    nu, vec = mp.eigsy(mp.matrix([[acov[(b - a) % n] for b in range(K)] for a in range(K)]))
    cos = [[mp.cos(2 * mp.pi * (i - r) * k / n) for k in range(n)] for i in range(K)]
    mix = [[vec[r, j] * mp.fsum(vec[i, j] * cos[i][k] for i in range(K)) for k in range(n)]
           for j in range(K)]
    return [nu[j] for j in range(K)], mix


def mix_terms(term, mix) -> np.ndarray:
    """Σ_j c_jk f_j, accumulated one eigenmode j at a time in a fixed order: `term(j)` gives f_j with
    the mode axis j of length 1 (…, 1, k), `mix` holds c (…, J, k). Memory stays a few arrays of the
    output's size (modes × times), never the (…, J, k) stack that an einsum over j would broadcast
    (44 GiB for conv2d's default emergence search); the sum is elementwise, so the value at one
    (mode, time) does not depend on how the rest of the output is laid out or chunked."""
    out = None
    for j in range(mix.shape[-2]):
        t = mix[..., j:j + 1, :] * term(j)
        if out is None:
            out = t
        else:
            out = np.add(out, t, out=out) if out.shape == np.broadcast_shapes(out.shape, t.shape) else out + t
    return out[..., 0, :]


def _with_mode_axis(x, ndim: int) -> np.ndarray:
    """Left-pad x to `ndim` axes and insert the patch-eigenmode axis j before the Fourier axis k."""
    x = np.asarray(x, dtype=np.float64)
    return np.expand_dims(x.reshape((1,) * (ndim - x.ndim) + x.shape), -2)


def _one_gain(Q) -> np.ndarray:
    """Q e₀ gives the same gain Q on every Fourier mode: Q must not vary along the spectrum (last) axis."""
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim and np.ptp(Q, axis=-1).max() > 0:
        raise SpecbiasError("patch_conv: the initial filter Q·e₀ has the same gain Q on every Fourier "
                            "mode; Q must not vary along the spectrum (last) axis")
    return Q[..., :1] if Q.ndim else Q


class PatchConv(Architecture):
    name = "patch_conv"
    title = "local circular convolution, kernel K = 2r + 1 ≤ N"
    source = ("Prop. 5.4; input lam: the Fourier spectrum Σ̃_kk of the signal (the derivation's λ is a "
              "Σ_patch eigenvalue ν_j)")
    coupled = True  # the last axis of lam is one whole spectrum
    times_per_mode = True  # the eigen-mix is elementwise in τ: tau[..., k] is mode k's own time
    basis = "fourier"  # lam are Fourier-mode variances Σ̃_kk
    model = "numerics.models:PatchConv"
    params = {"K": 5}
    gain_is_state = False  # the state is the whole filter w, not one Fourier gain
    emergence_order_caveat = (
        "every Fourier gain mixes the K patch eigenmodes (rates 2Nη(σ² + ν_j)), so on a spectrum that "
        "is not smooth at the patch scale a smaller Σ̃_kk can emerge first, or never reach its "
        "threshold; only K = N (circulant) guarantees the order")
    domain = Domain(span=1e12, reason=(
        "eigh's absolute error eps·λ_max gives the small patch eigenvalues ν a relative error ≈ eps·span "
        "(float64 vs 30-digit mpmath: 8e−9 in ln λ̃ at span 1e8 and 4e−5 at 1e12 on one-outlier spectra), "
        "so spectra spanning more than 1e6 are decomposed at 25 + log10(span) digits and rounded "
        "(ln λ̃ then within 2e−15 of mpmath to span 1e12, 3e−11 at 1e6 with eigh, measured); spans are "
        "capped at 1e12, the range the property checks; λ, σ, τ, η as the one-layer model"))
    law = Law("departs", "2Nη(σ² + ν_j) along the eigenvectors ν_j of Σ_patch", {},
              "K < N: the converged λ̃_k = Π_j ν_j^{c_jk} (σ_0 → 0, σ_T → ∞) differs from Σ̃_kk")

    def check_params(self, p):
        K = check_length("patch_conv: kernel size K", p["K"])
        if K % 2 == 0:
            raise SpecbiasError(f"patch_conv: kernel size K must be odd (K = 2r + 1), got {K}")

    def as_spectrum(self, lam) -> np.ndarray:
        """Mirror n variances into the symmetric spectrum [λ_0, …, λ_{n−1}, λ_{n−1}, …, λ_1] (N = 2n − 1)."""
        lam = np.asarray(lam, dtype=float)
        return np.concatenate([lam, lam[..., :0:-1]], axis=-1)

    # ---- symbolic declaration: one eigenmode of Σ_patch (λ stands for its eigenvalue ν) ---------
    def theta(self, **p):
        return (a_j,)

    def gain(self, **p):
        """ψ_j = a_j / v0_j, the eigenmode's share of the gain (γ_k = Σ_j c_jk ψ_j)."""
        return a_j / v0

    def loss(self, **p):
        """N[(ν + σ²)a² − 2ν v0 a + ν v0²] (the Σ_patch eigenmode part of L_σ, λ ≡ ν)."""
        return N * ((S.lam + S.sigma**2) * a_j**2 - 2 * S.lam * v0 * a_j + S.lam * v0**2)

    def reduce(self, **p):
        return {a_j: v0 * S.psi}

    def solution(self, **p):
        return CIRCULANT.solution()

    def log_H(self, **p):
        return CIRCULANT.log_H()

    def extra_checks(self, ode, **p):
        coeff = v0 * self.solution()
        return [check_fixed_point("coefficient-fixed-point", coeff, S.lam * v0 / (S.lam + S.sigma**2),
                                  "lim τ→∞ a − νv0/(ν + σ²)"),
                D.check_zero("coefficient-ode", sp.diff(coeff, S.tau) + S.eta * sp.diff(self.loss(), a_j)
                             .subs(a_j, coeff), "da/dτ + η ∂L/∂a for a = v0 ψ")]

    # ---- float64 evaluation --------------------------------------------------------------------
    def _mix(self, per_mode, lam, args, Q, eta, K):
        """Σ_j c_jk f(ν_j, ·) for a one-layer function f at rate Nη, over broadcast spectra.

        Layout (…, j, k): ν → (…, K, 1), c → (…, K, N), the other arguments → (…, 1, N or 1)."""
        n, nu, mix = self._spectral_cached(lam, K)
        ndim = max([lam.ndim] + [np.ndim(x) for x in args] + [np.ndim(Q)])
        lead = (1,) * (ndim - lam.ndim)
        nu, mix = nu.reshape(lead + nu.shape + (1,)), mix.reshape(lead + mix.shape)
        args = [_with_mode_axis(x, ndim) for x in args] + [_with_mode_axis(self._one_gain(Q), ndim)]
        return mix_terms(lambda j: per_mode(nu[..., j:j + 1, :], *args, n * eta), mix)

    def _spectral_cached(self, lam, K):
        """`spectral`, remembered for the last few spectra: emergence-time root finders and quadratures
        call the closed form many times on one spectrum, and the decomposition (eigh of every patch
        covariance) dominates each call. The arrays come back read-only."""
        key = (self.name, lam.shape, lam.tobytes(), repr(K))
        if key not in _SPECTRAL_CACHE:
            out = self._decompose_wide_exactly(lam, K, self.spectral(lam, K))
            for a in out[1:]:
                a.flags.writeable = False
            if len(_SPECTRAL_CACHE) >= _SPECTRAL_CACHE_SIZE:
                _SPECTRAL_CACHE.pop(next(iter(_SPECTRAL_CACHE)))
            _SPECTRAL_CACHE[key] = out
        return _SPECTRAL_CACHE[key]

    def _decompose_wide_exactly(self, lam, K, out):
        """Spectra spanning more than FLOAT64_SPAN get (ν, c) from `spectral_mp` at 25 + log10(span)
        digits, rounded to float64: eigh's absolute error eps·λ_max leaves the small ν (and the mixing
        weights of their eigenvectors) with a relative error ≈ eps·span, 8e−9 in ln λ̃ at span 1e8 and
        4e−5 at 1e12 on one-outlier spectra, far above the float64 path's tolerance. The rest of the
        float64 path is unchanged (one-layer closed forms per ν_j, the mix)."""
        flat = lam.reshape(-1, lam.shape[-1])
        span = flat.max(axis=-1) / flat.min(axis=-1)
        wide = np.nonzero(span > FLOAT64_SPAN)[0]
        if not wide.size:
            return out
        n, nu, mix = out
        nu = np.array(nu).reshape((flat.shape[0],) + nu.shape[-1:])
        mix = np.array(mix).reshape((flat.shape[0],) + mix.shape[-2:])
        for i in wide:
            with mp.workdps(25 + int(np.ceil(np.log10(span[i])))):
                _, nus, rows = self.spectral_mp([mp.mpf(float(x)) for x in flat[i]], K)
                nu[i] = [float(v) for v in nus]
                mix[i] = [[float(v) for v in row] for row in rows]
        return n, nu.reshape(out[1].shape), mix.reshape(out[2].shape)

    def spectral(self, spectrum, K):
        """(positions sharing each tap, ν (…, J), c (…, J, n)) for whole spectra; J = K eigenmodes."""
        n = check_spectrum(spectrum, K)
        return (n,) + decompose(spectrum, K)

    def spectral_mp(self, spectrum, K):
        """The same for one spectrum (a sequence of mpf) at mpmath's working precision."""
        return (len(spectrum),) + decompose_mp(spectrum, K)

    def _one_gain(self, Q):
        return _one_gain(Q)

    def _weight(self, lam, sigma, tau, Q, eta, K=5, **p):
        return self._mix(LINEAR._weight, lam, (sigma, tau), Q, eta, K)

    def _log_variance(self, lam, tau, Q, eta, sigma0, sigmaT, K=5, **p):
        def per_mode(nu, tau_, Q_, rate):
            return LINEAR._log_variance(nu, tau_, Q_, rate, sigma0, sigmaT)
        return self._mix(per_mode, lam, (tau,), Q, eta, K)

    # ---- mpmath reference: mp.eigsy once per spectrum at the working precision -------------------
    def _mix_mp(self, per_mode, lam, args, eta, K):
        """Σ_j c_jk f(ν_j, args_k) in mpmath, one decomposition per distinct spectrum (row of lam)."""
        n = self.spectral(lam.reshape(-1, lam.shape[-1])[:1], K)[0]  # validates the spectrum
        width = lam.shape[-1]
        rows = [a.reshape(-1, width) for a in (lam,) + args]
        out, cache = np.empty(rows[0].shape), {}
        for r, spec in enumerate(rows[0]):
            key = spec.tobytes()
            if key not in cache:
                cache[key] = self.spectral_mp([mp.mpf(x) for x in spec], K)[1:]
            nu, mix = cache[key]
            modes = {}  # f(ν_j, args) once per distinct args: the same for every k when args are scalars
            for k in range(width):
                args_k = tuple(float(a[r, k]) for a in rows[1:])
                if args_k not in modes:
                    vals = [mp.mpf(v) for v in args_k]
                    modes[args_k] = [per_mode(v, *vals, n * mp.mpf(eta)) for v in nu]
                f = modes[args_k]
                out[r, k] = float(mp.fsum(mix[j][k] * f[j] for j in range(len(nu))))
        return out.reshape(lam.shape)

    def _weight_mp_array(self, lam, sigma, tau, Q, eta, K=5, **p):
        self._one_gain(Q)
        return reference(lambda: self._mix_mp(lambda nu, s, t, q, rate: LINEAR._weight_mp(nu, s, t, q, rate),
                                               lam, (sigma, tau, Q), eta, K),
                         _extremes(lam, sigma, tau, Q, eta))

    def _log_variance_mp_array(self, lam, tau, Q, eta, sigma0, sigmaT, K=5, **p):
        self._one_gain(Q)

        def per_mode(nu, t, q, rate):
            return LINEAR._log_variance_mp(nu, t, q, rate, mp.mpf(sigma0), mp.mpf(sigmaT))
        return reference(lambda: self._mix_mp(per_mode, lam, (tau, Q), eta, K),
                         _extremes(lam, tau, Q, eta, sigma0, sigmaT))


#: spectra spanning more than this get an extended-precision decomposition (see _decompose_wide_exactly):
#: float64 eigh keeps ln λ̃ within ~3e−11 of mpmath up to here (measured on one-outlier spectra)
FLOAT64_SPAN = 1e6
_SPECTRAL_CACHE: dict = {}
_SPECTRAL_CACHE_SIZE = 16


def _extremes(*arrays) -> list:
    """Smallest and largest value of each input: what sets the guard digits of the reference (a wide
    spectrum needs ≈ log10(span) more digits, as the decomposition's small ν cancel)."""
    return [f(np.asarray(a)) for a in arrays for f in (np.min, np.max)]


def converged_variance(spectrum, K: int, sigma0: float = 0.002, sigmaT: float = 80.0) -> np.ndarray:
    """λ̃_k(τ → ∞) = σ_T² Π_j [(ν_j + σ_0²)/(ν_j + σ_T²)]^{c_jk} for the spectrum's patch eigenmodes;
    equals the one-layer optimum σ_T²(Σ̃_kk + σ_0²)/(Σ̃_kk + σ_T²) only for K = N (theory.md §2.6)."""
    ARCH.resolve({"K": K})
    spectrum = V.variances(spectrum)
    sigma0, sigmaT = V.sampling_range(sigma0, sigmaT)
    check_spectrum(spectrum, K)
    nu, mix = decompose(spectrum, K)
    per_mode = np.log(sigmaT**2 * (nu + sigma0**2) / (nu + sigmaT**2))
    return np.exp(np.einsum("...jk,...j->...k", mix, per_mode))


ARCH = register(PatchConv())
