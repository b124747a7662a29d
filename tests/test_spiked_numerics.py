"""numerics.spiked.simulate, numerics.spiked.dynamics, numerics.spiked.jacobian against the closed forms of
theory.spiked.covariance/chains."""
import numpy as np
import pytest
import torch

from numerics import data, train
from numerics.spiked import dynamics as spiked_dynamics
from numerics.spiked import jacobian
from numerics.spiked import simulate as spiked
from theory.errors import SpecbiasError
from theory.spiked import chains as CH
from theory.spiked import covariance as SP
from theory.spiked import finite_sample as FS
from verify.spiked import checks as spiked_checks
from verify.tolerances import tol


@pytest.mark.parametrize("d,n,M,lam", [(200, 400, 1, [3.0, 1.0]), (200, 50, 8, [1.0])])
def test_monte_carlo_agrees_at_d200_and_catches_a_wrong_gamma(d, n, M, lam):
    g = SP.aspect_ratio(d, n, M)
    s2 = SP.critical_noise(min(lam), g) * np.array([0.1, 0.4, 2.5])
    mc = spiked.monte_carlo(d, n, lam, s2, M=M, draws=16, seed=3)
    a = spiked_checks.compare(mc)
    assert a.ok, a.summary()
    assert not spiked_checks.compare(mc, gamma=n * M / d).ok  # γ = n/d in place of d/n
    assert not spiked_checks.compare(mc, gamma=d / n).ok or M == 1  # ignoring the M draws


def test_checker_refuses_sizes_without_a_stated_tolerance():
    mc = spiked.monte_carlo(100, 100, [1.0], [0.1], draws=2)
    with pytest.raises(SpecbiasError, match="no finite-size tolerance"):
        spiked_checks.compare(mc)
    assert [spiked_checks.finite_size("overlap", m).abs for m in (200, 500, 1000)] == [0.03, 0.015, 0.01]


def test_least_squares_denoisers():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5)) * np.array([2.0, 1.0, 0.5, 0.3, 0.1])
    S = X.T @ X / 30
    wiener = S @ np.linalg.inv(S + 0.25 * np.eye(5))
    np.testing.assert_allclose(spiked.least_squares_denoiser(X, 0.25, np.inf), wiener, atol=1e-12)
    gaps = [np.abs(spiked.least_squares_denoiser(X, 0.25, M, seed=1) - wiener).max() for M in (1, 16, 256)]
    assert gaps[2] < gaps[1] < gaps[0]  # M → ∞: the Wiener filter of Ŝ


def test_trained_on_n_samples_follows_the_empirical_closed_forms():
    from verify.agreement import compare

    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 6)) * np.sqrt([3.0, 1.0, 0.5, 0.2, 0.1, 0.05])
    ds = data.empirical("train-set", X, (6,), normalize=False)  # centred: Ŝ = (1/n)Σ(x − μ̂)(x − μ̂)ᵀ
    run = train.train("linear", ds, Q=0.1, taus=np.geomspace(1e-2, 10.0, 5), keep_weights=True, progress=False)
    assert compare(run, ds).summary()["ok"]
    mu, S = FS.training_moments(X)
    np.testing.assert_allclose(ds.cov, S, atol=1e-12)
    np.testing.assert_allclose(np.sort(ds.lam), np.linalg.eigvalsh(S), atol=1e-12)


def test_fixation_along_heun_matches_theory():
    lam = 1 / np.arange(1, 13) ** 2.0
    U = data.random_rotation(12, 0)
    f = spiked_dynamics.fixation(spiked_dynamics.wiener_denoiser((U * lam) @ U.T), U, n_samples=32)
    ratio = f.s2_fix / CH.fixation_noise(lam)
    np.testing.assert_allclose(ratio, 1.0, rtol=tol("fixation-heun").rel)
    assert not np.allclose(f.s2_fix / CH.fixation_noise(lam, r=0.5), 1.0, rtol=tol("fixation-heun").rel)


def test_learned_chains_from_finite_sample_wiener_filters():
    rng = np.random.default_rng(4)
    d, n = 6, 50
    X = rng.standard_normal((n, d)) * np.sqrt([4.0, 2.0, 1.0, 0.5, 0.25, 0.1])
    S = X.T @ X / n
    mu, V = np.linalg.eigh(S)
    mu, V = mu[::-1], V[:, ::-1]
    W_of = lambda s2: S @ np.linalg.inv(S + s2 * np.eye(d))  # noqa: E731
    Ts = [64, 128, 256]
    ch = spiked_dynamics.learned_chains(W_of, V, 1.0, Ts)
    t = tol("aligned-identity")
    np.testing.assert_allclose(np.exp(ch.log_r1), CH.r1_product(mu, 1.0)[None, :].repeat(3, 0), rtol=t.rel)
    for i, T in enumerate(Ts):
        np.testing.assert_allclose(ch.log_r2[i], CH.log_r2_product(mu, 1.0, T), rtol=1e-10)
    slope = (ch.log_r2_ratio[2, 1] - ch.log_r2_ratio[1, 1]) / (Ts[2] - Ts[1])
    assert slope == pytest.approx(-CH.kappa(mu[0], mu[1], 1.0), rel=1e-2)  # plug-in κ of Ŝ
    assert ch.overlap_r2[-1] == pytest.approx(1.0, abs=1e-9) and np.all(ch.overlap_pf < 0.99)
    pf_err = np.abs(np.exp(ch.log_pf) / CH.pf_ode_factor(mu, 1.0) - 1).max(1)
    order = np.log2(pf_err[:-1] / pf_err[1:])  # first order: the closing Euler step from s_1 = S/√T
    np.testing.assert_allclose(order, 1.0, atol=tol("convergence-order").abs)


def test_jacobian_alignment_of_linear_and_nonlinear_denoisers():
    rng = np.random.default_rng(5)
    d, n = 40, 400
    X = np.zeros((n, d))
    X[:, 0] = rng.standard_normal(n) * 2.0
    D = jacobian.noisy_pca_denoiser(X, 1, seed=2)
    a = jacobian.alignment(D, np.eye(d)[:, :2], [0.3, 5.0], k=1)
    # the Jacobian of h û ûᵀ has eigenvector û: its alignment IS the squared overlap of the noisy PCA
    for s, al in zip([0.3, 5.0], a.aligned[:, 0]):
        W = D(torch.eye(d, dtype=torch.float64), s).numpy()
        v = np.linalg.eigh(W)[1][:, -1]
        assert al == pytest.approx(v[0] ** 2, abs=tol("exact-identity").rel)
    assert a.aligned[0, 0] > 0.9 and a.aligned[1, 0] < 0.3  # ℓ = 44 and ℓ = 0.16 < √γ = 0.32 (no alignment)
    net = torch.nn.Sequential(torch.nn.Linear(d, 16), torch.nn.Tanh(), torch.nn.Linear(16, d)).double()
    b = jacobian.alignment(lambda x, s: net(x) / (1 + s), np.eye(d), [0.5, 1.0], points=torch.randn(3, d,
                           dtype=torch.float64), k=3)
    assert b.overlap2.shape == (2, d, 3) and np.allclose(b.overlap2.sum(1), 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("d", [500, 1000])
@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_monte_carlo_agrees_at_large_d(d, gamma):
    n = int(round(d / gamma))
    s2 = SP.critical_noise(1.0, d / n) * np.array([0.1, 0.4, 2.5, 5.0])
    a = spiked_checks.compare(spiked.monte_carlo(d, n, [1.0], s2, draws=16, seed=d))
    assert a.ok, a.summary()
    m = spiked_checks.size(d, n)
    assert spiked_checks.finite_size("overlap", m).abs < spiked_checks.finite_size("overlap", 200).abs or m < 500
