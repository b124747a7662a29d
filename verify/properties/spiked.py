"""Properties of the second paper's theory (Weitzner et al., arXiv 2410.14730: finite training sets, spiked
covariance, chains),
registered in the shared property suite for the one-layer `linear` architecture whose finite-sample
behaviour they describe, so `specbias verify linear` (and the conformance tests) run them.

- spiked-derivation: every symbolic check of theory.spiked.covariance and theory.spiked.chains;
- spiked-vs-quadrature: the closed-form top eigenvalue and overlap against the Marchenko–Pastur
  Stieltjes-transform root found by quadrature, at random (λ, s², γ) outside the threshold window;
- spiked-monte-carlo: noisy-PCA Monte Carlo at random (d, n, M, rank, spikes, s²) with min(d, nM) ≥ 200,
  compared through verify.spiked.checks (finite-size part shrinking with size, plus 4 standard errors);
- chain-identities: learned-matrix chains from a random rotated spectrum: R1 telescopes to rounding,
  R2's per-mode log product equals the exact finite product, and its gap to −Tφ − ½log(1 + x) is the
  Euler–Maclaurin x²/(12T(1 + x)) (O(1/T));
- fixation-heun: fixation noise measured along EDM Heun trajectories vs (μ + s_min²)/r² − μ.
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from theory.spiked import chains as CH
from theory.spiked import covariance as SP
from verify.properties import strategies as vs
from verify.properties.engine import prop
from verify.spiked.checks import compare
from verify.tolerances import tol


def _linear(arch) -> bool:
    return arch.name == "linear"


@prop("spiked-derivation", applies=_linear)
def _derivation(arch):
    def spiked_and_chain_derivations_pass():
        bad = [f"{c.name}: {c.detail}" for c in SP.derive() + CH.derive() if not c.ok]
        assert not bad, "; ".join(bad)
    return spiked_and_chain_derivations_pass


def _off_window(lam: float, gamma: float, u: float) -> float:
    """s² below (u < 0) or above (u > 0) the threshold window, log-spread over a decade beyond it."""
    lo, hi = SP.threshold_window(lam, gamma)
    return float(lo * 10 ** (u - 0.02) if u < 0 else hi * 10 ** (u + 0.02))


@prop("spiked-vs-quadrature", applies=_linear, max_examples=10)
def _quadrature(arch):
    @given(lam=vs.log_uniform(1e-2, 1e2), gamma=vs.log_uniform(0.05, 20.0), u=st.floats(-1.0, 1.0))
    def closed_forms_equal_stieltjes_root(lam, gamma, u):
        s2 = _off_window(lam, gamma, u)
        top, a2 = SP.reference(lam, s2, gamma)
        t = tol("closed-form-vs-quadrature")
        got_top, got_a2 = float(SP.top_eigenvalue(lam, s2, gamma)), float(SP.overlap2(lam, s2, gamma))
        assert abs(got_top / top - 1) <= t.rel, f"μ̂ {got_top} vs quadrature {top} ({t.reason})"
        assert abs(got_a2 - a2) <= t.rel * max(a2, 1e-3), f"α² {got_a2} vs quadrature {a2} ({t.reason})"
    return closed_forms_equal_stieltjes_root


@prop("spiked-monte-carlo", applies=_linear, max_examples=2)
def _monte_carlo(arch):
    from numerics.spiked import simulate as spiked

    @given(d=st.integers(200, 280), M=st.sampled_from([1, 2, 4]), gamma=vs.log_uniform(0.3, 1.0),
           lam=vs.log_uniform(0.5, 4.0), ratio=st.floats(3.0, 10.0), rank=st.integers(1, 2),
           us=st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3), seed=st.integers(0, 2**16))
    def monte_carlo_agrees_with_the_limits(d, M, gamma, lam, ratio, rank, us, seed):
        n = max(int(np.ceil(200 / M)), int(round(d / (gamma * M))))  # min(d, nM) ≥ 200
        spikes = [lam, lam / ratio][:rank]
        g = SP.aspect_ratio(d, n, M)
        s2 = np.array([_off_window(spikes[-1], g, u) for u in us])
        mc = spiked.monte_carlo(d, n, spikes, s2, M=M, draws=16, seed=seed)
        a = compare(mc)
        assume(a.rows)
        w = a.worst()
        assert a.ok, (f"{w.quantity} at s² = {w.s2:.4g}, λ = {w.lam:.4g}: measured {w.measured:.4g} vs limit "
                      f"{w.theory:.4g}, error {w.error:.3g} > allowed {w.allowed:.3g} (d = {d}, n = {n}, M = {M})")
    return monte_carlo_agrees_with_the_limits


@prop("chain-identities", applies=_linear, max_examples=6)
def _chains(arch):
    from numerics import data
    from numerics.spiked import dynamics as spiked_dynamics

    @given(lam=st.lists(vs.log_uniform(0.1, 5.0), min_size=3, max_size=5, unique=True),
           S2=vs.log_uniform(0.1, 1.0), T=st.integers(64, 256), seed=st.integers(0, 2**16))
    def chains_telescope_and_expand(lam, S2, T, seed):
        lam = np.sort(lam)[::-1]
        U = data.random_rotation(lam.size, seed)
        Sigma = (U * lam) @ U.T
        ch = spiked_dynamics.learned_chains(lambda s2: Sigma @ np.linalg.inv(Sigma + s2 * np.eye(lam.size)),
                                            U, S2, [T], seed=seed, pf=False)
        t = tol("aligned-identity")
        assert np.allclose(np.exp(ch.log_r1[0]), CH.r1_product(lam, S2), rtol=t.rel), "R1 does not telescope"
        assert np.allclose(ch.log_r2[0], CH.log_r2_product(lam, S2, T), rtol=t.rel), "R2 ≠ exact product"
        x = S2 / lam
        coef = T * (CH.log_r2_product(lam, S2, T) - CH.log_r2_asymptotic(lam, S2, T))
        t2 = tol("r2-asymptotic-1/T")
        assert np.allclose(coef, x**2 / (12 * (1 + x)), rtol=t2.rel), f"T·gap {coef} ({t2.reason})"
    return chains_telescope_and_expand


@prop("fixation-heun", applies=_linear, max_examples=2)
def _fixation(arch):
    from numerics import data
    from numerics.spiked import dynamics as spiked_dynamics

    @given(lam=st.lists(vs.log_uniform(1e-2, 10.0), min_size=3, max_size=6), seed=st.integers(0, 2**16))
    def fixation_noise_is_proportional_to_variance(lam, seed):
        lam = np.sort(lam)[::-1]
        U = data.random_rotation(lam.size, seed)
        f = spiked_dynamics.fixation(spiked_dynamics.wiener_denoiser((U * lam) @ U.T), U, n_samples=16, seed=seed)
        ratio = f.s2_fix / CH.fixation_noise(lam)
        t = tol("fixation-heun")
        assert np.allclose(ratio, 1.0, rtol=t.rel), f"measured/predicted {ratio} ({t.reason})"
    return fixation_noise_is_proportional_to_variance
