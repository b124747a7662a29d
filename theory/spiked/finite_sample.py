"""The finite-sample endpoint of training (Weitzner et al., arXiv 2410.14730; theory.md §5.1) combined with the first
paper's closed forms.

Trained on n clean samples with fresh noise (DSM to convergence), the linear denoiser is the Wiener
filter of the empirical covariance Ŝ, and along each eigenvector v_j of Ŝ (eigenvalue μ_j) training
follows the one-layer closed forms (Prop. eq. 7, Prop. 4.2) with λ → μ_j: the generated covariance at
time τ is C̃(τ) = Σ_j λ̃_lin(μ_j, τ) v_j v_jᵀ, tending to Ŝ (+ O(σ_0²)) — the generated law → N(μ̂, Ŝ).

Convention (theory.md §5.1 leaves it open): the training set is centred before training and its mean μ̂
added back to every generated sample, so the generated law is N(μ̂, C̃(τ)) with Ŝ = (1/n)Σ(x − μ̂)(x − μ̂)ᵀ
("centred"); the other convention, a bias-free model on the raw second moment Ŝ₀ = (1/n)Σ x xᵀ with
generated mean 0, is `centred=False`. Modes with μ_j = 0 (n ≤ d) use the λ → 0 limit of Prop. 4.2
(ln λ̃ = ln σ_0² + Q·∫_{σ_0²}^{σ_T²} e^{−au}/u du), evaluated at the floor λ = 1e−300.

Expected endpoint KL for Gaussian data N(0, Σ), exact for every n (Wishart moments, Σ-free):
with c = 0 (centred: nŜ ~ W(n − 1, Σ), μ̂ ~ N(0, Σ/n) independent) or c = 1 (raw second moment),
    E KL(N(μ̂, Ŝ) ‖ N(0, Σ)) = ½[d ln(n/2) − Σ_{i=1}^d ψ((n − i + c)/2)]                 (n > d − c)
    E KL(N(0, Σ) ‖ N(μ̂, Ŝ)) = ½[(n + 1 − c)d/(n − d − 2 + c) − d + Σ_i ψ((n − i + c)/2) − d ln(n/2)]
(ψ the digamma function; E ln det W = Σ_i ψ((m − i + 1)/2) + d ln 2, E W⁻¹ = I/(m − d − 1)); for large n
they are ≈ d(d + 1 + 2(1 − c))/(4n) and checked by Monte Carlo in the tests.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from theory import validate as V
from theory.errors import SpecbiasError
from theory.registry import get
from theory.spiked.covariance import _count

ZERO_FLOOR = 1e-300


def expected_endpoint_kl(d, n, centred: bool = True) -> dict:
    """E KL between the training-set Gaussian and the data Gaussian, both directions (see module doc)."""
    d, n = _count("d (dimension)", d), _count("n (samples)", n)
    c = 0 if V.flag("centred", centred) else 1
    if n <= d - c:
        raise SpecbiasError(f"the training-set Gaussian is singular for n <= {d - c} (got n = {n}, d = {d}; "
                            f"{'centred' if centred else 'raw second moment'}): the KL is infinite")
    i = np.arange(1, d + 1)
    dig = special.digamma((n - i + c) / 2).sum()
    fwd = 0.5 * (d * np.log(n / 2) - dig)
    rev = 0.5 * ((n + 1 - c) * d / (n - d - 2 + c) - d + dig - d * np.log(n / 2)) if n - d - 2 + c > 0 \
        else np.inf  # E Ŝ⁻¹ diverges
    return {"generated||data": float(fwd), "data||generated": float(rev)}


def training_moments(X, centred: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(μ̂, Ŝ) of a training set X [n, d] in the chosen convention (1/n normalisation)."""
    X = V.as_array("training set (X)", X)
    if X.ndim != 2:
        raise SpecbiasError(f"training set must be [n, d], got shape {X.shape}")
    mu = X.mean(0) if V.flag("centred", centred) else np.zeros(X.shape[1])
    Xc = X - mu
    return mu, Xc.T @ Xc / X.shape[0]


def generated_covariance(S_hat, tau, Q=0.1, eta=1.0, sigma0=0.002, sigmaT=80.0) -> np.ndarray:
    """C̃(τ) = V diag(λ̃_lin(μ_j, τ)) Vᵀ for each τ (leading axes of tau), from the `linear` closed form."""
    mu, V_ = _eigh(S_hat)
    tau = V.times(tau)
    lt = get("linear").generated_variance(np.maximum(mu, ZERO_FLOOR), tau[..., None], Q=Q, eta=eta,
                                         sigma0=sigma0, sigmaT=sigmaT)
    return np.einsum("ij,...j,kj->...ik", V_, lt, V_)


def _eigh(S):
    S = _eigh_input(S)
    mu, U = np.linalg.eigh(0.5 * (S + S.T))
    return np.maximum(mu, 0.0), U


def _gaussian_pair(mean_p, cov_p, mean_q, cov_q) -> tuple:
    """Both laws' means and covariances checked: square symmetric covariances and means of one d."""
    cov_p, cov_q = _eigh_input(cov_p, "covariance (cov_p)"), _eigh_input(cov_q, "covariance (cov_q)")
    mean_p, mean_q = V.as_array("mean (mean_p)", mean_p), V.as_array("mean (mean_q)", mean_q)
    d = cov_q.shape[0]
    if cov_p.shape[0] != d or mean_p.shape != (d,) or mean_q.shape != (d,):
        raise SpecbiasError(f"the two Gaussians differ in dimension: mean_p{mean_p.shape}, cov_p{cov_p.shape}, "
                            f"mean_q{mean_q.shape}, cov_q{cov_q.shape}")
    return mean_p, cov_p, mean_q, cov_q


def _eigh_input(S, name: str = "covariance") -> np.ndarray:
    """A symmetric square matrix (finite, real), or one SpecbiasError naming it."""
    S = V.as_array(name, S)
    if S.ndim != 2 or S.shape[0] != S.shape[1] or not np.allclose(S, S.T, rtol=1e-10, atol=1e-12):
        raise SpecbiasError(f"{name} must be a symmetric square matrix, got shape {S.shape}")
    return S


def gaussian_kl(mean_p, cov_p, mean_q, cov_q) -> float:
    """KL(N(m_p, C_p) ‖ N(m_q, C_q)) for full covariances (inf if C_q is singular where C_p is not).

    Means (d,) and symmetric covariances (d, d) of one dimension d, or one SpecbiasError."""
    mean_p, cov_p, mean_q, cov_q = _gaussian_pair(mean_p, cov_p, mean_q, cov_q)
    lq, Uq = np.linalg.eigh(cov_q)
    lp = np.linalg.eigvalsh(cov_p)
    if lq.min() <= 1e-14 * max(lq.max(), 1e-300):
        return float("inf")
    if lp.min() <= 0:
        return float("inf")
    A = Uq.T @ cov_p @ Uq
    dm = Uq.T @ (np.asarray(mean_p) - np.asarray(mean_q))
    return float(0.5 * (np.sum(np.diag(A) / lq) - lq.size + np.sum(np.log(lq)) - np.sum(np.log(lp))
                        + np.sum(dm**2 / lq)))


def finite_sample_kl(X, Sigma, tau, mean=None, centred: bool = True, **kw) -> dict:
    """KL of the generated law N(μ̂, C̃(τ)) at each τ to the data law N(mean, Σ) (both directions) and
    to the training-set Gaussian N(μ̂, Ŝ) (inf where Ŝ is singular, n ≤ d); kw: Q, eta, sigma0, sigmaT."""
    mu_hat, S_hat = training_moments(X, centred)
    Sigma = _eigh_input(Sigma, "data covariance (Sigma)")
    mean = np.zeros(Sigma.shape[0]) if mean is None else V.as_array("data mean", mean)
    if Sigma.shape != S_hat.shape:
        raise SpecbiasError(f"data covariance {Sigma.shape} does not match the training set's {S_hat.shape}")
    taus = np.atleast_1d(V.times(tau))
    C = generated_covariance(S_hat, taus, **kw)
    out = {"tau": taus, "generated||data": [], "data||generated": [], "generated||train": []}
    for Ct in C:
        out["generated||data"].append(gaussian_kl(mu_hat, Ct, mean, Sigma))
        out["data||generated"].append(gaussian_kl(mean, Sigma, mu_hat, Ct))
        out["generated||train"].append(gaussian_kl(mu_hat, Ct, mu_hat, S_hat))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}
