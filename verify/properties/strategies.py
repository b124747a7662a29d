"""Hypothesis strategies for users' own property tests (spectra, Q, η, σ grids, criteria)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import theory
from theory.emergence import CRITERIA
from theory.sampling import DENOISER

LAM_RANGE = (1e-4, 1e3)
TAU_RANGE = (1e-5, 1e4)


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats spread evenly in log between lo and hi."""
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda e: float(10.0**e))


def variances(lo: float = LAM_RANGE[0], hi: float = LAM_RANGE[1]) -> st.SearchStrategy[float]:
    return log_uniform(lo, hi)


def times(lo: float = TAU_RANGE[0], hi: float = TAU_RANGE[1]) -> st.SearchStrategy[float]:
    return log_uniform(lo, hi)


def gains(arch="linear") -> st.SearchStrategy[float]:
    """Q over the architecture's valid range, excluding declared fixed points."""
    lo, hi = theory.get(arch).q_range
    fixed = theory.get(arch).q_fixed_points
    return st.floats(lo, hi).filter(lambda q: all(abs(q - f) > 1e-3 for f in fixed))


def edge_values(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Values of a declared range [lo, hi], its two ends drawn often (log-uniform inside; a lower
    end of 0 is drawn as 0 and the inside starts at 1e−300)."""
    return st.one_of(st.sampled_from([lo, hi]), log_uniform(max(lo, 1e-300), hi))


@st.composite
def domain_points(draw, arch, modes: int = 3):
    """(lam, x, tau, eta, Q) across an architecture's declared `domain`, edges included: `modes`
    variances (made a spectrum, then squeezed into the declared range and span), the weight's second argument
    (σ, or the flow time t ∈ [0, 1]), τ, η and a valid Q."""
    dom = arch.domain
    lam = np.array([draw(edge_values(*dom.lam), label="lam") for _ in range(modes)])
    flow = arch.sampling is not DENOISER
    x = draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0), label="t") if flow \
        else draw(edge_values(*dom.sigma), label="sigma")
    tau = draw(edge_values(*dom.tau), label="tau")
    eta = draw(edge_values(*dom.eta), label="eta")
    return _within(dom, arch.as_spectrum(lam)), x, tau, eta, draw(gains(arch.name), label="Q")


def _within(dom, spectrum: np.ndarray) -> np.ndarray:
    """`as_spectrum` may build values outside the declared range or span (conv2d's λ_a·λ_b^{1/π});
    map ln λ affinely back into them. The map is monotone and elementwise, so every equality the
    architecture's spectrum needs (λ(f) = λ(−f)) survives, and the drawn edges stay edges."""
    log_s = np.log(spectrum)
    lo, hi = np.log(dom.lam[0]), np.log(dom.lam[1])
    room = min(hi - lo, np.log(dom.span)) * (1 - 1e-12)  # exp() rounding must not cross the cap
    width = np.ptp(log_s)
    if width > room:
        log_s = log_s.min() + (log_s - log_s.min()) * room / width
    log_s = log_s + max(lo - log_s.min(), 0.0) - max(log_s.max() - hi, 0.0)
    return np.clip(np.exp(log_s), *dom.lam)  # exp(ln x) may round just outside the range


def rates() -> st.SearchStrategy[float]:
    return log_uniform(1e-2, 1e2)


def criteria() -> st.SearchStrategy[str]:
    return st.sampled_from(CRITERIA)


def dimensions(lo: int = 2, hi: int = 32) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@st.composite
def spectra(draw, d=None, kind=None, max_condition: float = 1e6) -> np.ndarray:
    """A sorted (descending) positive spectrum: log-uniform, power-law, the paper's log-normal
    (e^{N(0,1)} normalised to mean 1), or with repeated (degenerate) eigenvalues; condition ≤ 1e6."""
    d = draw(dimensions()) if d is None else d
    kind = draw(st.sampled_from(["log-uniform", "power-law", "lognormal", "degenerate"])) \
        if kind is None else kind
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    if kind == "log-uniform":
        cond = draw(log_uniform(1.0, max_condition))
        lam = np.exp(rng.uniform(0, np.log(cond), d)) / cond
    elif kind == "power-law":
        beta = draw(st.floats(0.0, np.log(max_condition) / np.log(max(d, 2))))
        lam = np.arange(1, d + 1, dtype=float) ** (-beta)
    elif kind == "lognormal":
        lam = np.exp(rng.standard_normal(d))
        lam /= lam.mean()
    else:
        levels = np.exp(rng.uniform(0, np.log(max_condition), draw(st.integers(1, 3))))
        lam = rng.choice(levels, d) / levels.max()
    return np.sort(lam)[::-1]


def sigma_grids(n_lo: int = 8, n_hi: int = 128) -> st.SearchStrategy[np.ndarray]:
    """Log-spaced noise grids from σ_0 ∈ [1e−3, 1e−2] to σ_T ∈ [10, 100]."""
    return st.tuples(log_uniform(1e-3, 1e-2), log_uniform(10, 100), st.integers(n_lo, n_hi)).map(
        lambda t: np.geomspace(t[0], t[1], t[2]))
