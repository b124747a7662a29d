"""numerics.measure for linear flow matching (theory.md §2.7): the exact flow map (Magnus-4 in t) against
theory's closed form, its t-grid error (order 2, with the Euler–Maclaurin leading term), an independent
solve_ivp, and the Heun sampler in t."""
import numpy as np
import pytest
import torch
from test_measure import order, rotation, solve_ivp_map  # tests/ is on sys.path (no __init__.py)

import theory
from numerics import measure as M
from theory.errors import SpecbiasError
from verify.tolerances import tol

ARCH = theory.get("flow_matching")
Q = 0.1
TAUS = np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0])


def aligned_flow(lam, U, ts, taus=TAUS, Q=Q):
    """theory's w_k(t, τ) on the flow-time grid ts, rotated: W [τ, level, d, d] (aligned init)."""
    w = ARCH.weight(lam[None, None, :], ts[None, :, None], taus[:, None, None], Q=Q)
    return np.einsum("ik,tlk,jk->tlij", U, w, U)


def log_var_errors(lam, U, levels):
    """ln λ̃ measured on `levels` equal flow times minus theory's closed form, [τ, mode]."""
    ts = np.linspace(0.0, 1.0, levels)
    m = M.measure(aligned_flow(lam, U, ts), None, ts, family="flow", U=U, lam=lam)
    return np.log(m.var_eig) - ARCH.log_generated_variance(lam[None, :], TAUS[:, None], Q=Q)


def flow_reference(W, b, ts):
    """A, c of dx/dt = W(t)x + b(t) from t = ts[0] = 0 to ts[-1] = 1 by test_measure's DOP853 reference:
    in s = −t it is the denoiser ODE dx/ds = (I − W_d)x − b_d with W_d = I + W, b_d = b, σ = e^{−t}."""
    d = W.shape[-1]
    return solve_ivp_map(np.eye(d) + W[::-1], b[::-1], np.exp(-ts[::-1]))


def random_flow(d, ts, scale, seed):
    """Non-commuting velocity weights smooth in t: scale·(R₀ + R₁ cos 2πt + R₂ sin 3πt)/√d, and a bias."""
    rng = np.random.default_rng(seed)
    t = ts[:, None, None]
    R0, R1, R2 = rng.standard_normal((3, d, d)) / np.sqrt(d)
    W = scale * (R0 + R1 * np.cos(2 * np.pi * t) + R2 * np.sin(3 * np.pi * t))
    b = np.outer(np.cos(2 * np.pi * ts), rng.standard_normal(d)) + rng.standard_normal(d)
    return W, b


def relative_error(A, c, A_ref, c_ref):
    return max(np.abs(A.numpy() - A_ref).max() / np.abs(A_ref).max(),
               np.abs(c.numpy() - c_ref).max() / np.abs(c_ref).max())


# ---- exact: aligned weights against theory.md §2.7 ------------------------------------------------------
def test_exact_flow_aligned_matches_theory_within_t_grid_error():
    d = 8
    lam, U = np.geomspace(1e2, 1e-2, d), rotation(d, 10)
    ts = np.linspace(0.0, 1.0, 65)
    W = aligned_flow(lam, U, ts)
    m = M.measure(W, None, ts, family="flow", U=U, lam=lam)
    ref = ARCH.log_generated_variance(lam[None, :], TAUS[:, None], Q=Q)
    assert np.abs(np.log(m.var_eig) - ref).max() <= tol("log-variance-t-grid").abs
    np.testing.assert_allclose(m.chi, 1.0, atol=tol("aligned-identity").rel)
    np.testing.assert_allclose(m.mean, 0.0, atol=tol("aligned-identity").abs)
    assert m.info["family"] == "flow" and m.info["max_step"] == M.DEFAULT_FLOW_STEP
    # the architecture's sampling object dispatches the same way; ts=None means equal steps on [0, 1]
    via_arch = M.measure(W, None, None, family=ARCH.sampling, U=U, lam=lam)
    np.testing.assert_array_equal(via_arch.var_eig, m.var_eig)
    cov, mean = M.exact_flow(torch.tensor(W), None, ts)
    np.testing.assert_allclose(cov.numpy(), m.covariance, rtol=1e-13, atol=0)


def test_t_grid_error_is_second_order_with_the_euler_maclaurin_term():
    """Aligned weights commute, so the map is exact for the interpolant and ln λ̃ = 2∫w dt is the
    trapezoid rule on the grid: error (Δt²/6)(w'(1) − w'(0)) + O(Δt⁴)."""
    d = 6
    lam, U = np.geomspace(1e2, 1e-2, d), rotation(d, 11)
    levels = np.array([17, 33, 65, 129, 257])
    h = 1.0 / (levels - 1)
    errors = [log_var_errors(lam, U, L) for L in levels]
    e_max = [np.abs(e).max() for e in errors]
    assert np.all(np.diff(e_max) < 0), e_max
    np.testing.assert_allclose(order(e_max, h), 2.0, atol=tol("convergence-order").abs)
    # w' at the ends by one-sided second-order differences of theory's weight
    w = lambda t: ARCH.weight(lam[None, :], t, TAUS[:, None], Q=Q)  # noqa: E731
    eps = 1e-5
    dw0 = (-3 * w(0.0) + 4 * w(eps) - w(2 * eps)) / (2 * eps)
    dw1 = (3 * w(1.0) - 4 * w(1 - eps) + w(1 - 2 * eps)) / (2 * eps)
    residual = [np.abs(e - hh**2 / 6 * (dw1 - dw0)).max() for e, hh in zip(errors, h)]
    np.testing.assert_allclose(order(residual[1:], h[1:]), 4.0, atol=tol("convergence-order").abs)


def test_tau_zero_gives_exp_2Q_up_to_rounding():
    d = 5
    Qk, lam, U = np.linspace(0.0, 1.0, d), np.geomspace(10, 1e-2, d), rotation(d, 12)
    ts = np.sort(np.random.default_rng(12).uniform(0.05, 0.95, 9))  # uneven, held constant at the ends
    W = aligned_flow(lam, U, ts, taus=np.array([0.0]), Q=Qk)
    v0 = ARCH.generated_variance(lam, 0.0, Q=Qk)
    np.testing.assert_allclose(v0, np.exp(2 * Qk), rtol=1e-14)
    t = tol("aligned-identity").rel
    for max_step in (1.0, M.DEFAULT_FLOW_STEP):  # commuting generators: no substeps needed
        m = M.measure(W, None, ts, family="flow", U=U, lam=lam, max_step=max_step)
        np.testing.assert_allclose(m.var_eig[0], v0, rtol=t)


def test_grid_is_linear_in_t_and_constant_outside():
    ts, w = np.array([0.2, 0.5, 0.9]), np.array([1.0, -2.0, 0.5])
    integral = 0.2 * w[0] + 0.3 * (w[0] + w[1]) / 2 + 0.4 * (w[1] + w[2]) / 2 + 0.1 * w[2]
    cov, mean = M.exact_flow(w[:, None, None], np.ones((3, 1)), ts)
    assert float(cov[0, 0]) == pytest.approx(np.exp(2 * integral), rel=1e-13)
    single, _ = M.exact_flow(np.full((1, 1, 1), 0.7), None, [0.4])  # one level: constant W
    assert float(single[0, 0]) == pytest.approx(np.exp(1.4), rel=1e-13)


# ---- exact: non-commuting weights against solve_ivp ---------------------------------------------------
def test_exact_flow_non_commuting_matches_solve_ivp():
    ts = np.unique(np.concatenate([[0.0, 1.0], np.random.default_rng(13).uniform(0, 1, 31)]))  # uneven
    W, b = random_flow(4, ts, 3.0, seed=13)
    A_ref, c_ref = flow_reference(W, b, ts)
    A, c = M.flow_map(W, b, ts)
    assert relative_error(A, c, A_ref, c_ref) <= tol("magnus-vs-solve-ivp-flow").rel
    cov, mean = M.exact_flow(W, b, ts)
    np.testing.assert_allclose(cov.numpy(), A.numpy() @ A.numpy().T, rtol=1e-12)
    np.testing.assert_array_equal(mean.numpy(), c.numpy())
    # batch axes: checkpoints [2] against one at a time, b broadcast over them
    Ab, cb = M.flow_map(np.stack([W, -0.5 * W]), b, ts)
    A2, c2 = M.flow_map(-0.5 * W, b, ts)
    np.testing.assert_allclose(Ab[0].numpy(), A.numpy(), rtol=1e-12)
    np.testing.assert_allclose(Ab[1].numpy(), A2.numpy(), rtol=1e-12)
    np.testing.assert_allclose(cb[1].numpy(), c2.numpy(), rtol=1e-12)


def test_flow_magnus_is_fourth_order():
    ts = np.linspace(0.0, 1.0, 5)  # coarse grid: wide cells, strong commutators
    W, b = random_flow(4, ts, 6.0, seed=14)
    A_ref, c_ref = flow_reference(W, b, ts)
    steps = [1 / 16, 1 / 32, 1 / 64]
    errs = [relative_error(*M.flow_map(W, b, ts, max_step=h), A_ref, c_ref) for h in steps]
    np.testing.assert_allclose(order(errs, steps), 4.0, atol=tol("convergence-order").abs)


# ---- samples: Heun in t ---------------------------------------------------------------------------------
def heun_case():
    d, taus = 6, np.array([0.0, 0.1, 10.0])
    lam, U = np.geomspace(1e2, 1e-2, d), rotation(d, 15)
    ts = np.linspace(0.0, 1.0, 65)
    W = aligned_flow(lam, U, ts, taus=taus)
    b = 0.3 * np.exp(-taus)[:, None, None] * np.cos(3 * ts)[None, :, None] * U[:, 0]  # b_t along u_1
    return W, b, ts, lam, U


def test_flow_heun_map_converges_to_exact_at_second_order():
    W, b, ts, lam, U = heun_case()
    exact = M.measure(W, b, ts, family="flow", U=U, lam=lam)
    steps, errs = [64, 128, 256], []
    for n in steps:
        A, c = M.sampler_affine_map((W, b, ts), steps=n, family="flow")
        heun = M.measure_gaussian(A @ A.mT, c, U=U, lam=lam)
        errs.append(max(np.abs(np.log(heun.var_eig / exact.var_eig)).max(),
                        np.abs(heun.mean_eig - exact.mean_eig).max()))
    assert errs[-1] <= tol("flow-heun-vs-exact").abs, errs
    np.testing.assert_allclose(order(errs, 1.0 / np.array(steps)), 2.0, atol=tol("convergence-order").abs)


def test_flow_monte_carlo_matches_exact():
    W, b, ts, lam, U = heun_case()
    n, steps = 8000, 128
    exact = M.measure(W, b, ts, family="flow", U=U, lam=lam)
    mc = M.measure(W, b, ts, family="flow", method="samples", n_samples=n, steps=steps, seed=3, U=U, lam=lam)
    assert mc.info == {"family": "flow", "n_samples": n, "steps": steps, "seed": 3}
    A, c = M.sampler_affine_map(M.GridVelocity(W, b, ts), steps=steps, family="flow")
    heun = M.measure_gaussian(A @ A.mT, c, U=U, lam=lam)
    k = tol("monte-carlo-variance").abs  # 5 standard errors on top of the deterministic Heun error
    assert np.all(np.abs(mc.var_eig - exact.var_eig) <= k * mc.var_eig_se
                  + np.abs(heun.var_eig - exact.var_eig))
    assert np.all(np.abs(mc.mean_eig - exact.mean_eig) <= k * np.sqrt(mc.var_eig / n)
                  + np.abs(heun.mean_eig - exact.mean_eig))
    # a plain callable v(x, t) takes the same path as the grid
    grid = M.GridVelocity(W, b, ts)
    x1 = M.sample_flow(grid, 32, steps=8, seed=4)
    x2 = M.sample_flow(lambda x, t: grid(x, t), 32, steps=8, seed=4, d=W.shape[-1], batch_shape=W.shape[:1])
    torch.testing.assert_close(x1, x2, rtol=0, atol=0)


# ---- inputs -----------------------------------------------------------------------------------------------
def test_flow_bad_inputs_raise_one_line_errors():
    ts = np.linspace(0.0, 1.0, 4)
    W = np.zeros((4, 2, 2))
    with pytest.raises(SpecbiasError, match=r"ts must be in \[0, 1\] and strictly increasing"):
        M.exact_flow(W, None, ts[::-1])
    with pytest.raises(SpecbiasError, match=r"in \[0, 1\]"):
        M.exact_flow(W, None, ts + 0.5)
    with pytest.raises(SpecbiasError, match="one entry per level"):
        M.exact_flow(W, None, ts[:3])
    with pytest.raises(SpecbiasError, match="max_step"):
        M.flow_map(W, None, ts, max_step=0.0)
    with pytest.raises(SpecbiasError, match="do not apply|not to flow"):
        M.measure(W, None, ts, family="flow", sigma0=0.01)
    with pytest.raises(SpecbiasError, match="sampling family"):
        M.measure(W, None, ts, family="diffusion")
    with pytest.raises(SpecbiasError, match="method"):
        M.measure(W, None, ts, family="flow", method="nope")
    with pytest.raises(SpecbiasError, match="callable"):
        M.sample_flow(M.GridDenoiser(W, None, ts + 0.1), 4)
    with pytest.raises(SpecbiasError, match="dimension"):
        M.sample_flow(lambda x, t: x, 4)
