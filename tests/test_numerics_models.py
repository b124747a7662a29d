"""numerics.models: aligned initial gains, the effective map against explicit constructions, the
exact expected loss and its gradient."""
import numpy as np
import pytest
import torch

import theory
from numerics import data as D
from numerics import models as M
from numerics.train import LevelTerms, Moments, population_loss, population_loss_reference
from theory.errors import SpecbiasError
from verify.setups import training_setup

SIG = [0.1, 1.0, 10.0]
DENSE = [(M.Linear, {}), (M.SymTwoLayer, {}), (M.TwoLayer, {}), (M.DeepLinear, {"L": 3}),
         (M.DeepLinear, {"depth": 4}), (M.FlowMatching, {})]


def _gains(W, U):
    return np.einsum("dk,lde,ek->lk", U, W.detach().numpy(), U)


@pytest.mark.parametrize("cls,kw", DENSE)
def test_aligned_init_scalar_Q_is_Q_times_identity(cls, kw):
    m = cls(d=6, Q=0.3, **kw)
    W, b = m.effective()
    assert W.shape == (m.n_levels, 6, 6) and b.shape == (m.n_levels, 6)
    np.testing.assert_allclose(W.detach().numpy(), np.broadcast_to(0.3 * np.eye(6), W.shape), atol=1e-15)
    assert float(b.detach().abs().max()) == 0.0


@pytest.mark.parametrize("cls,kw", DENSE)
def test_aligned_init_per_mode_Q_is_diagonal_in_the_eigenbasis(cls, kw):
    ds = D.gaussian(6, seed=4)
    Q = np.linspace(0.05, 0.9, 6)
    m = cls(d=6, Q=Q, cov=ds.cov, sigmas=None, **kw)
    W, _ = m.effective()
    G = np.einsum("dk,lde,ej->lkj", ds.U, W.detach().numpy(), ds.U)
    np.testing.assert_allclose(np.diagonal(G, axis1=1, axis2=2), np.broadcast_to(Q, (m.n_levels, 6)), atol=1e-13)
    np.testing.assert_allclose(G - np.apply_along_axis(np.diag, 1, np.diagonal(G, axis1=1, axis2=2)), 0, atol=1e-13)


def test_factor_shapes_of_the_products():
    ds = D.gaussian(5, seed=1)
    Q = np.linspace(0.1, 0.5, 5)
    sym = M.SymTwoLayer(d=5, Q=Q, cov=ds.cov, hidden=3, sigmas=SIG)
    P = sym.P.detach().numpy()
    assert P.shape == (3, 5, 3)
    # hidden < d keeps the top modes: PPᵀ = Σ_{k<3} Q_k u_k u_kᵀ
    np.testing.assert_allclose(P[0] @ P[0].T, (ds.U[:, :3] * Q[:3]) @ ds.U[:, :3].T, atol=1e-13)
    two = M.TwoLayer(d=5, Q=Q, cov=ds.cov, sigmas=SIG)
    np.testing.assert_allclose(two.W1.detach().numpy(), two.W2.detach().numpy().transpose(0, 2, 1))  # balanced
    deep = M.DeepLinear(d=5, Q=0.125, L=3, sigmas=SIG)
    for i in range(3):
        np.testing.assert_allclose(getattr(deep, f"W{i}").detach().numpy()[0], 0.5 * np.eye(5), atol=1e-15)
    with pytest.raises(SpecbiasError, match="cov"):
        M.SymTwoLayer(d=5, Q=0.1, hidden=3)


def test_random_init_is_reproducible_and_has_the_scale():
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    a = M.Linear(d=40, init="random", scale=0.01, generator=g())
    b = M.Linear(d=40, init="random", scale=0.01, generator=g())
    assert torch.equal(a.W, b.W)
    assert float(a.W.detach().std()) == pytest.approx(0.01, rel=0.02)


def test_circulant_effective_is_the_circulant_matrix_and_gains_are_the_dft():
    rng = np.random.default_rng(0)
    m = M.Circulant(d=8, init="random", scale=1.0, generator=torch.Generator().manual_seed(1), sigmas=SIG)
    taps = m.w.detach().numpy().reshape(3, 8)
    W, _ = m.effective()
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    np.testing.assert_allclose(W.detach().numpy(), taps[:, (i - j) % 8], atol=0)
    F = D.fourier_matrix((8,))
    gains = np.real(np.einsum("dk,lde,ek->lk", F.conj(), W.detach().numpy(), F))
    np.testing.assert_allclose(gains, np.real(np.fft.fft(taps, axis=-1)), atol=1e-12)
    x = torch.as_tensor(rng.standard_normal((3, 5, 8)))
    np.testing.assert_allclose(m(x).detach().numpy(), np.einsum("lij,lbj->lbi", W.detach().numpy(), x.numpy())
                               + m.b.detach().numpy()[:, None, :], atol=1e-12)


def test_patch_conv_effective_is_the_banded_circulant():
    m = M.PatchConv(d=9, K=3, init="random", scale=1.0, generator=torch.Generator().manual_seed(2), sigmas=SIG)
    k = m.w.detach().numpy().reshape(3, 3)  # offsets −1, 0, 1
    W = m.effective()[0].detach().numpy()
    for lv in range(3):
        expect = np.zeros((9, 9))
        for i in range(9):
            for off in (-1, 0, 1):
                expect[i, (i - off) % 9] = k[lv, off + 1]
        np.testing.assert_allclose(W[lv], expect, atol=0)
    aligned = M.PatchConv(d=9, K=5, Q=0.4, sigmas=SIG)
    np.testing.assert_allclose(aligned.w.detach().numpy().reshape(3, 5), [[0, 0, 0.4, 0, 0]] * 3)  # w(0) = Q e₀
    with pytest.raises(SpecbiasError, match="odd"):
        M.PatchConv(d=9, K=4)
    with pytest.raises(SpecbiasError, match="scalar Q"):
        M.Circulant(d=4, Q=[0.1, 0.2, 0.3, 0.4])


def test_patch_conv_2d_matches_an_explicit_convolution():
    C, H, W_ = 2, 4, 5
    m = M.PatchConv2d(d=C * H * W_, shape=(C, H, W_), P=3, init="random", scale=1.0,
                      generator=torch.Generator().manual_seed(3), sigmas=SIG)
    k = m.w.detach().numpy().reshape(3, C, C, 3, 3)
    x = np.random.default_rng(1).standard_normal((3, 2, C, H, W_))
    expect = np.zeros_like(x)
    for c in range(C):
        for c2 in range(C):
            for a in range(3):
                for b in range(3):
                    shifted = np.roll(x[:, :, c2], shift=(a - 1, b - 1), axis=(-2, -1))
                    expect[:, :, c] += k[:, c, c2, a, b][:, None, None, None] * shifted
    expect += m.b.detach().numpy()[:, None, :, None, None]
    got = m(torch.as_tensor(x.reshape(3, 2, -1))).detach().numpy().reshape(x.shape)
    np.testing.assert_allclose(got, expect, atol=1e-12)
    Wm, bm = m.effective()
    np.testing.assert_allclose(np.einsum("lij,lbj->lbi", Wm.detach().numpy(), x.reshape(3, 2, -1))
                               + bm.detach().numpy()[:, None], expect.reshape(3, 2, -1), atol=1e-12)
    aligned = M.PatchConv2d(d=C * H * W_, shape=(C, H, W_), Q=0.2, sigmas=SIG)
    np.testing.assert_allclose(aligned.effective()[0].detach().numpy()[0], 0.2 * np.eye(C * H * W_))


def test_flow_matching_grid_and_pairs():
    m = M.FlowMatching(d=3, ts=[0.0, 0.5, 1.0])
    assert m.kind == "flow" and m.level_name == "t"
    np.testing.assert_allclose(m.pair_coefficients().numpy(), [[0, 1, 1, -1], [0.5, 0.5, 1, -1], [1, 0, 1, -1]])
    with pytest.raises(SpecbiasError, match=r"\[0, 1\]"):
        M.FlowMatching(d=3, ts=[0.5, 1.5])
    with pytest.raises(SpecbiasError, match="increasing"):
        M.Linear(d=3, sigmas=[1.0, 0.5])


def test_every_registry_model_builds_with_the_theory_initial_gain():
    for name in theory.available():
        arch = theory.get(name)
        if not arch.model:
            continue
        cls = M.model_class(arch)
        ds = training_setup(arch, 8, np.geomspace(0.1, 3.0, 8))[0]  # the arch's own kind of signal
        p = arch.resolve({"N": ds.d} if "N" in arch.params else {})
        model = arch.torch_model(d=ds.d, shape=ds.shape, Q=0.2, cov=ds.cov, **p)
        lam, Ure, Uim = ds.basis(cls.basis)
        W = model.effective()[0].detach().numpy()
        gains = sum(np.einsum("dk,lde,ek->lk", U, W, U) for U in (Ure, Uim) if U is not None)
        levels = model.levels.numpy()
        want = arch.weight(lam[None, :], levels[:, None], 0.0, Q=0.2, **p)
        np.testing.assert_allclose(gains, want, atol=1e-13, err_msg=name)


def _coeffs(kind, levels):
    t = torch.as_tensor(levels, dtype=torch.float64)
    one = torch.ones_like(t)
    if kind == "flow":
        return torch.stack([t, 1 - t, one, -one], -1)
    return torch.stack([one, t, one, 0 * one], -1)


@pytest.mark.parametrize("kind,levels", [("denoiser", [0.01, 1.0, 30.0]), ("flow", [0.0, 0.3, 1.0])])
@pytest.mark.parametrize("mean", [False, True])
def test_expected_loss_and_gradient_match_the_plain_formula(kind, levels, mean):
    ds = D.gaussian(5, seed=2, mean=np.linspace(-1, 1, 5) if mean else None)
    m = Moments(ds, torch.float64, "cpu")
    co = _coeffs(kind, levels)
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(3, 5, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    fast = population_loss(W, b, co, m)
    ref = population_loss_reference(W, b, co, m)
    np.testing.assert_allclose(fast.detach().numpy(), ref.detach().numpy(), rtol=1e-13)
    g_fast = torch.autograd.grad(fast.sum(), (W, b))
    g_ref = torch.autograd.grad(ref.sum(), (W, b))
    for a, r in zip(g_fast, g_ref):
        np.testing.assert_allclose(a.numpy(), r.numpy(), rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(lambda W_, b_: population_loss(W_, b_, co, m, LevelTerms(co, m)),
                                    (W, b), eps=1e-6, atol=1e-6)


def test_expected_loss_is_the_per_mode_loss_at_aligned_weights():
    """theory.md §1.3: at W = Σ ψ_k u_k u_kᵀ, b = 0, μ = 0, L_σ = Σ_k (σ² + λ_k)ψ_k² − 2λ_kψ_k + λ_k."""
    ds = D.gaussian(6, seed=5)
    psi = np.linspace(0.1, 0.7, 6)
    W = torch.as_tensor((ds.U * psi) @ ds.U.T)[None].repeat(3, 1, 1)
    sig = np.array(SIG)
    L = population_loss(W, torch.zeros(3, 6, dtype=torch.float64), _coeffs("denoiser", sig),
                        Moments(ds, torch.float64, "cpu")).numpy()
    want = ((sig[:, None] ** 2 + ds.lam) * psi**2 - 2 * ds.lam * psi + ds.lam).sum(-1)
    np.testing.assert_allclose(L, want, rtol=1e-12)
    # and the Monte-Carlo mean of the sample loss agrees (5 standard errors)
    x = ds.sample(100_000, torch.Generator().manual_seed(1))
    z = torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    err = ((x + 1.0 * z) @ W[1].T - x).pow(2).sum(-1)
    assert abs(float(err.mean()) - want[1]) <= 5 * float(err.std()) / np.sqrt(err.numel())
