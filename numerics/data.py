"""Training data for the numerics: Gaussians with a chosen spectrum and real (non-Gaussian) data.

Every constructor returns a `Dataset`: the mean μ and covariance Σ (what a model may see), the
eigenvalues λ (descending) and eigenvectors U of Σ (for measurement only: no model is given them),
the signal shape, and `sample(n, generator)`.

- `gaussian(d, spectrum)`: λ from `lognormal` (e^{N(0,1)} sorted descending, normalised to mean 1,
  theory.md §6), `powerlaw` (λ_k ∝ k^{−β}, mean 1), `logspace` (λ from `hi` down to `lo`) or an explicit
  array; a random orthogonal rotation by default, so the eigenbasis is not the pixel basis.
- `stationary(N, power)`: 1-D signals of length N with a given power spectrum p_k (circulant Σ,
  diagonal in the unitary DFT); `modulated(N)`: a non-stationary covariance D C D (a stationary C with
  a position-dependent envelope D).
- `digits()` (scikit-learn's bundled 8×8 digits, d = 64), `patches(image, P)` (P×P patches of a
  scikit-image bundled image), `lfw()` (scikit-image's bundled 25×25 faces, d = 625): empirical mean
  and covariance (1/n, the exact moments of the finite set, so Gaussian equivalence is exact);
  `sample` draws rows of the set. Nothing is ever downloaded: only files shipped with the packages.

Real data are centred (μ = 0, as the one-layer closed forms assume) and scaled to mean variance 1
(tr Σ / d = 1, the convention of theory.md §6) unless `center=False` / `normalize=False`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch

from theory import validate as V
from theory.errors import SpecbiasError

from . import budget

SPECTRA = ("lognormal", "powerlaw", "logspace")
REAL = ("digits", "patches", "lfw")


@dataclass
class Dataset:
    """Data with known first and second moments; `lam`/`U` are for measurement only."""

    name: str
    mu: np.ndarray
    cov: np.ndarray
    lam: np.ndarray  # eigenvalues of cov, descending (hidden from every model)
    U: np.ndarray  # eigenvectors as columns, same order (hidden from every model)
    shape: tuple  # signal shape: (d,), (N,) for 1-D signals, (C, H, W) for images
    X: np.ndarray | None = None  # the finite set of (non-Gaussian) samples, or None: Gaussian
    meta: dict = field(default_factory=dict)

    @property
    def d(self) -> int:
        return int(self.mu.size)

    @property
    def gaussian(self) -> bool:
        return self.X is None

    @property
    def lam_max(self) -> float:
        """Top eigenvalue of Σ, computed from Σ itself (not from the stored eigenbasis)."""
        return float(np.linalg.eigvalsh(self.cov)[-1])

    def sample(self, n: int, generator: torch.Generator | None = None, dtype=torch.float64,
               device="cpu") -> torch.Tensor:
        """n samples [n, d]: Gaussian draws μ + Σ^{1/2} z, or rows of the finite set (with replacement)."""
        device = torch.device(device)
        if self.X is not None:
            idx = torch.randint(self.X.shape[0], (int(n),), generator=generator, device=device)
            return self._tensor("X", dtype, device)[idx]
        z = torch.randn(int(n), self.d, generator=generator, dtype=dtype, device=device)
        return self._tensor("mu", dtype, device) + z @ self._tensor("root", dtype, device).T

    def _tensor(self, which: str, dtype, device) -> torch.Tensor:
        """Cached torch copies of X, μ and the square root U√λ used by `sample`."""
        cache = self.__dict__.setdefault("_torch", {})
        key = (which, dtype, str(device))
        if key not in cache:
            value = {"X": self.X, "mu": self.mu,
                     "root": None if which != "root" else self.U * np.sqrt(np.maximum(self.lam, 0))}[which]
            cache[key] = torch.as_tensor(value, dtype=dtype, device=device)
        return cache[key]

    def basis(self, kind: str = "eigen"):
        """(variances, U_re, U_im) of a measurement basis; U_im is None for a real basis.

        "eigen": the data eigenvectors (λ descending). "fourier": the unitary DFT modes of the signal
        shape (per channel for images), in DFT order, with variances Re[F* Σ F]_kk (theory.md §2.5); the
        gain of a real W on mode f = c + i s is Re f* W f = cᵀWc + sᵀWs.
        """
        if kind == "eigen":
            return self.lam.copy(), self.U.copy(), None
        if kind == "fourier":
            F = fourier_matrix(self.shape)
            var = np.real(np.einsum("dk,de,ek->k", F.conj(), self.cov, F))
            return var, F.real.copy(), F.imag.copy()
        raise SpecbiasError(f"unknown measurement basis {kind!r}; valid: eigen, fourier")

    def gaussian_twin(self) -> "Dataset":
        """The Gaussian with the same mean and covariance (Gaussian equivalence, theory.md §1.3)."""
        return Dataset(self.name + "-gaussian", self.mu.copy(), self.cov.copy(), self.lam.copy(),
                       self.U.copy(), self.shape, None, dict(self.meta, twin_of=self.name))

    def describe(self) -> dict:
        """JSON-able summary for run metadata."""
        return dict(self.meta, name=self.name, d=self.d, shape=list(self.shape),
                    gaussian=self.gaussian, n=None if self.X is None else int(self.X.shape[0]),
                    lam_max=self.lam_max, lam_min=float(self.lam[-1]), mean_norm=float(np.linalg.norm(self.mu)))


# ---- bases and spectra -----------------------------------------------------------------------------
def fourier_matrix(shape) -> np.ndarray:
    """Unitary DFT modes as columns, F[j, k] = e^{2πi jk/N}/√N; for (C, H, W) the 2-D DFT per channel."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        n = shape[0]
        j = np.arange(n)
        return np.exp(2j * np.pi * np.outer(j, j) / n) / np.sqrt(n)
    if len(shape) == 3:
        C, H, W = shape
        return np.kron(np.eye(C), np.kron(fourier_matrix((H,)), fourier_matrix((W,))))
    raise SpecbiasError(f"no Fourier basis for signal shape {shape}: use (N,) or (C, H, W)")


def spectrum(kind, d: int, *, beta: float = 1.0, lo: float = 1e-3, hi: float = 1e2, seed: int = 0):
    """Variances λ_k, descending: lognormal / powerlaw (mean 1) / logspace (hi → lo) / an array."""
    if not isinstance(kind, str):
        lam = V.variances(np.asarray(V.as_array("lam", kind), dtype=float).reshape(-1))
        return np.sort(lam)[::-1].copy()
    d, seed = _size("d", d), V.seed(seed)
    if kind == "lognormal":
        lam = np.sort(np.exp(np.random.default_rng(seed).standard_normal(d)))[::-1]
    elif kind == "powerlaw":
        lam = np.arange(1, d + 1, dtype=float) ** (-V.scalar("beta", beta))
    elif kind == "logspace":
        lo, hi = V.positive("lo", lo), V.positive("hi", hi)
        if not lo < hi:
            raise SpecbiasError(f"logspace needs 0 < lo < hi (got lo={lo:g}, hi={hi:g})")
        return np.geomspace(hi, lo, d)
    else:
        raise SpecbiasError(f"unknown spectrum {kind!r}; valid: {', '.join(SPECTRA)} or an array")
    return _representable(lam / lam.mean(), f"spectrum {kind!r} with beta = {beta:g} at d = {d}")


def random_rotation(d: int, seed: int = 0) -> np.ndarray:
    """A Haar-random orthogonal matrix (QR of a Gaussian matrix with the sign fix)."""
    q, r = np.linalg.qr(np.random.default_rng(seed + 7919).standard_normal((d, d)))
    return q * np.sign(np.diag(r))[None, :]


MAX_DIM = 2**20  # no covariance of a larger dimension fits in memory (d² floats)
#: smallest λ_min/λ_max a rotated (or circulant) covariance resolves: below it Σ = UΛUᵀ loses the mode
#: to float64 rounding of the large ones, and training would silently see a different spectrum
MIN_RATIO = 1e-15


def _positive_int(name, value) -> int:
    return V.count(name, value, lo=1)


def _size(name, value) -> int:
    """A data dimension: a positive integer whose d×d covariance fits in memory."""
    d = V.count(name, value, lo=1, hi=MAX_DIM)
    budget.check_memory(f"data of dimension {name} = {d:,}", budget.data_bytes(d),
                        hint=f"use a smaller {name}")
    return d


def _representable(lam: np.ndarray, what: str, mixed: bool = True) -> np.ndarray:
    """Variances that are finite, > 0 and (when the basis mixes modes) within float64's resolution."""
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise SpecbiasError(f"{what} gives zero or non-finite variances (underflow): use a smaller beta")
    if mixed and lam.min() / lam.max() < MIN_RATIO:
        raise SpecbiasError(f"{what} spans λ_min/λ_max = {lam.min() / lam.max():.2g} < {MIN_RATIO:g}, "
                            "below float64 resolution of the covariance: use a smaller beta or d")
    return lam


def _from_eigen(name, lam, U, mu, shape, meta, X=None) -> Dataset:
    cov = (U * lam[None, :]) @ U.T
    return Dataset(name, np.asarray(mu, float), 0.5 * (cov + cov.T), lam, U, tuple(shape), X, meta)


def _from_cov(name, cov, mu, shape, meta, X=None) -> Dataset:
    cov = 0.5 * (cov + cov.T)
    lam, U = np.linalg.eigh(cov)
    lam, U = lam[::-1].copy(), U[:, ::-1].copy()
    if lam[-1] <= 0:  # e.g. constant pixels: Σ stays exact, the measurement variances get a floor
        floor = 1e-12 * lam[0]
        meta = dict(meta, eigenvalue_floor=floor, floored_modes=int(np.sum(lam <= floor)))
        lam = np.maximum(lam, floor)
    return Dataset(name, np.asarray(mu, float), cov, lam, U, tuple(shape), X, meta)


# ---- synthetic Gaussians -----------------------------------------------------------------------------
def gaussian(d: int | None = None, spectrum_kind="lognormal", *, lam=None, beta: float = 1.0,
             lo: float = 1e-3, hi: float = 1e2, rotate: bool = True, mean=None, seed: int = 0) -> Dataset:
    """A Gaussian N(μ, U diag(λ) Uᵀ): λ from `spectrum_kind` (or `lam`), U random orthogonal unless
    rotate=False (then U = I), μ = 0 unless `mean` is given. d defaults to 64 for a named spectrum and
    to the number of variances given; a d that differs from that number is refused (it was ignored)."""
    name = spectrum_kind if lam is None and isinstance(spectrum_kind, str) else "explicit"
    seed = V.seed(seed)
    explicit = not (lam is None and isinstance(spectrum_kind, str))
    d_given = None if d is None else _size("d", d)
    lam = spectrum(spectrum_kind if lam is None else lam, 64 if d_given is None else d_given, beta=beta,
                   lo=lo, hi=hi, seed=seed)
    d = _size("d", lam.size)
    if explicit and d_given is not None and d_given != d:
        raise SpecbiasError(f"d = {d_given} but {d} variances were given (leave d out, or give {d_given})")
    if rotate:
        _representable(lam, f"{name} spectrum at d = {d} (rotated)")
    U = random_rotation(d, seed) if rotate else np.eye(d)
    mu = np.zeros(d) if mean is None else V.as_array("mean", mean).reshape(-1)
    if mu.size != d:
        raise SpecbiasError(f"mean has {mu.size} entries, the data dimension is {d}")
    return _from_eigen(f"gaussian-{name}", lam, U, mu, (d,),
                       {"spectrum": name, "beta": beta, "rotate": rotate, "seed": seed})


def power_spectrum(N: int, power="powerlaw", beta: float = 2.0) -> np.ndarray:
    """Symmetric power spectrum p_k = p_{N−k} > 0 in DFT order; powerlaw: (1 + |k|)^{−β}, mean 1."""
    N = _size("N", N)
    k = np.minimum(np.arange(N), N - np.arange(N))
    if isinstance(power, str):
        if power != "powerlaw":
            raise SpecbiasError(f"unknown power spectrum {power!r}; valid: powerlaw or an array")
        p = (1.0 + k) ** (-V.scalar("beta", beta))
        return _representable(p / p.mean(), f"power spectrum with beta = {beta:g} at N = {N}")
    p = V.variances(power() if callable(power) else power).reshape(-1)
    if p.size != N or not np.allclose(p, p[(-np.arange(N)) % N]):
        raise SpecbiasError(f"a real stationary signal needs N = {N} powers with p_k = p_(N−k)")
    return p


def stationary(N: int = 64, power="powerlaw", *, beta: float = 2.0, seed: int = 0) -> Dataset:
    """Zero-mean stationary Gaussian signals of length N: Σ_ij = c((i − j) mod N), c = IDFT(p)."""
    seed = V.seed(seed)
    p = power_spectrum(N, power, beta)
    c = np.real(np.fft.ifft(p))
    idx = (np.arange(N)[:, None] - np.arange(N)[None, :]) % N
    return _from_cov("stationary", c[idx], np.zeros(N), (N,),
                     {"spectrum": "stationary", "beta": beta, "seed": seed})


def power_spectrum_2d(H: int, W: int | None = None, power="powerlaw", beta: float = 2.0) -> np.ndarray:
    """Symmetric 2-D power spectrum p(f) = p(−f) > 0 in DFT order, flattened (H·W); powerlaw:
    (1 + |f|)^{−β} with |f| the wrapped frequency radius, mean 1."""
    H = _positive_int("image height H", H)
    W = H if W is None else _positive_int("image width W", W)
    if isinstance(power, str):
        if power != "powerlaw":
            raise SpecbiasError(f"unknown power spectrum {power!r}; valid: powerlaw or an array")
        kh = np.minimum(np.arange(H), H - np.arange(H))[:, None]
        kw = np.minimum(np.arange(W), W - np.arange(W))[None, :]
        p = (1.0 + np.sqrt(kh**2 + kw**2)) ** (-float(beta))
        return (p / p.mean()).reshape(-1)
    p = V.variances(power).reshape(H, W)
    if not np.allclose(p, p[(-np.arange(H)) % H][:, (-np.arange(W)) % W]):
        raise SpecbiasError(f"a real stationary image needs {H}×{W} powers with p(f) = p(−f)")
    return p.reshape(-1)


def stationary2d(H: int = 8, W: int | None = None, power="powerlaw", *, beta: float = 2.0, C: int = 1,
                 seed: int = 0) -> Dataset:
    """Zero-mean stationary Gaussian images (C, H, W) with a 2-D power spectrum (circulant-block Σ,
    diagonal in the unitary 2-D DFT); the C channels are independent copies with the same spectrum."""
    W = H if W is None else W
    p = power_spectrum_2d(H, W, power, beta).reshape(H, W)
    c = np.real(np.fft.ifft2(p))
    ih, iw = np.divmod(np.arange(H * W), W)
    block = c[(ih[:, None] - ih[None, :]) % H, (iw[:, None] - iw[None, :]) % W]
    C = _positive_int("channels C", C)
    return _from_cov("stationary2d", np.kron(np.eye(C), block), np.zeros(C * H * W), (C, H, W),
                     {"spectrum": "stationary2d", "beta": beta, "seed": seed})


def modulated(N: int = 64, *, beta: float = 2.0, depth: float = 0.5, seed: int = 0) -> Dataset:
    """Non-stationary: Σ = D C D with C stationary (power law β) and D = diag(1 + depth·sin(2πi/N))."""
    depth = V.scalar("modulation depth", depth, lo=0.0, hi=1.0, hi_open=True)
    base = stationary(N, beta=beta, seed=seed)
    env = 1.0 + depth * np.sin(2 * np.pi * np.arange(N) / N)
    return _from_cov("modulated", env[:, None] * base.cov * env[None, :], np.zeros(N), (N,),
                     {"spectrum": "modulated", "beta": beta, "depth": depth, "seed": seed})


# ---- real data -----------------------------------------------------------------------------------------
def empirical(name: str, X, shape, *, center: bool = True, normalize: bool = True,
              meta: dict | None = None) -> Dataset:
    """A dataset from samples X [n, d]: empirical mean and covariance (1/n), optional centring/scaling."""
    X = V.as_array(name, X)
    if X.ndim != 2 or X.shape[0] < 2:
        raise SpecbiasError(f"{name}: need a [n, d] sample matrix with n ≥ 2, got shape {X.shape}")
    X = X - X.mean(0) if center else X.copy()
    if normalize:
        X = X / np.sqrt(X.var(0).sum() / X.shape[1])
    mu = X.mean(0)
    cov = (X - mu).T @ (X - mu) / X.shape[0]
    return _from_cov(name, cov, mu, shape, dict(meta or {}, center=center, normalize=normalize), X)


def digits(*, center: bool = True, normalize: bool = True) -> Dataset:
    """scikit-learn's bundled 8×8 digits (1797 images, d = 64), shape (1, 8, 8)."""
    from sklearn.datasets import load_digits

    return empirical("digits", load_digits().data.astype(float), (1, 8, 8), center=center,
                     normalize=normalize, meta={"source": "sklearn.datasets.load_digits"})


def _bundled(name: str):
    """The scikit-image loader `skimage.data.<name>`, only if its file ships with the package
    (anything else would need a download, which is refused)."""
    import skimage
    import skimage.data

    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    files = {os.path.splitext(f)[0] for f in os.listdir(folder)}
    if name not in files or not hasattr(skimage.data, name):
        bundled = sorted(k for k in files if hasattr(skimage.data, k))
        raise SpecbiasError(f"image {name!r} is not bundled with scikit-image (no downloads); "
                            f"bundled: {', '.join(bundled)}")
    return getattr(skimage.data, name)


def _bundled_image(image: str) -> np.ndarray:
    """A bundled scikit-image sample image as grayscale floats in [0, 1]."""
    from skimage import color

    img = np.asarray(_bundled(image)(), dtype=float)
    if img.ndim == 3:
        img = color.rgb2gray(img[..., :3] / (255.0 if img.max() > 1 else 1.0))
    return img / (img.max() or 1.0)


def patches(image: str = "camera", P: int = 8, *, stride: int | None = None, center: bool = True,
            normalize: bool = True, max_patches: int | None = None, seed: int = 0) -> Dataset:
    """Non-overlapping (or `stride`) P×P patches of a bundled grayscale image, d = P², shape (1, P, P)."""
    P = _size("patch size P", P)
    stride = P if stride is None else _positive_int("stride", stride)
    seed = V.seed(seed)
    img = _bundled_image(image)
    H, W = img.shape
    if P > min(H, W):
        raise SpecbiasError(f"patch size {P} exceeds the image {H}×{W}")
    rows = [img[i:i + P, j:j + P].reshape(-1) for i in range(0, H - P + 1, stride)
            for j in range(0, W - P + 1, stride)]
    X = np.stack(rows)
    if max_patches is not None and X.shape[0] > max_patches:
        X = X[np.random.default_rng(seed).choice(X.shape[0], int(max_patches), replace=False)]
    return empirical(f"patches-{image}", X, (1, P, P), center=center, normalize=normalize,
                     meta={"source": f"skimage.data.{image}", "P": P, "stride": stride})


def lfw(*, center: bool = True, normalize: bool = True) -> Dataset:
    """scikit-image's bundled LFW subset (200 faces of 25×25, d = 625), shape (1, 25, 25)."""
    X = np.asarray(_bundled("lfw_subset")(), dtype=float).reshape(200, -1)
    return empirical("lfw", X, (1, 25, 25), center=center, normalize=normalize,
                     meta={"source": "skimage.data.lfw_subset"})


def load(kind: str, d: int = 64, *, beta: float | None = None, seed: int = 0, **kw) -> Dataset:
    """One entry point for the CLI: a spectrum name, `stationary`, `modulated`, or a real data set."""
    if kind in SPECTRA:
        return gaussian(d, kind, beta=1.0 if beta is None else beta, seed=seed, **kw)
    if kind == "stationary":
        return stationary(d, beta=2.0 if beta is None else beta, seed=seed)
    if kind == "stationary2d":
        side = int(round(np.sqrt(d)))
        if side * side != d:
            raise SpecbiasError(f"stationary2d images are square: d = side² (got d = {d})")
        return stationary2d(side, beta=2.0 if beta is None else beta, seed=seed)
    if kind == "modulated":
        return modulated(d, beta=2.0 if beta is None else beta, seed=seed)
    if kind == "digits":
        return digits(**kw)
    if kind == "patches":
        P = int(round(np.sqrt(d)))
        if P * P != d:
            raise SpecbiasError(f"patches need d = P² (got d = {d})")
        return patches(P=P, seed=seed, **kw)
    if kind == "lfw":
        return lfw(**kw)
    raise SpecbiasError(f"unknown data {kind!r}; valid: "
                        f"{', '.join(SPECTRA + ('stationary', 'stationary2d', 'modulated') + REAL)}")


def image_rows(image: str = "camera", N: int = 64, *, center: bool = True, normalize: bool = True) -> Dataset:
    """1-D signals of length N cut from the rows of a bundled grayscale image (non-stationary: image
    statistics vary along a row segment), shape (N,), for the 1-D convolutions' departure checks."""
    N = _positive_int("signal length N", N)
    img = np.asarray(_bundled_image(image), dtype=float)
    if img.ndim != 2 or img.shape[1] < N:
        raise SpecbiasError(f"image {image!r} cannot give rows of length {N}")
    X = img[:, : (img.shape[1] // N) * N].reshape(-1, N)
    return empirical(f"rows-{image}", X, (N,), center=center, normalize=normalize,
                     meta={"source": f"skimage.data.{image}", "N": N})
