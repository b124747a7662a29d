"""The product models' step bound (numerics.models.dense `_product_curvature`): it bounds the true
parameter Hessian along the run, it is the derived formula (computed here independently in numpy),
and it is not vacuous: GD at twice the step it allows diverges."""
import numpy as np
import pytest
import torch

from numerics import data as D
from numerics.population import Moments, population_loss_reference
from numerics.train import train
from theory.errors import SpecbiasError

PRODUCTS = {"sym_two_layer": ("tied", 2), "two_layer": ("untied", 2), "deep_linear": ("untied", 3)}
C = 0.02  # the trainer's default step fraction


def _kappa_formula(name, lam, sigma, Q):
    """κ of the derivation at the aligned init W = Q·I: s = λ_max + σ², wmax = max(Q, max λ/(λ + σ²)),
    g = max |Q(λ + σ²) − λ|; the bias block (2) is decoupled for centred data."""
    kind, L = PRODUCTS[name]
    s = lam.max() + sigma**2
    w = max(Q, float(np.max(lam / (lam + sigma**2))))
    g = float(np.max(np.abs(Q * (lam + sigma**2) - lam)))
    k = 8 * s * w + 4 * g if kind == "tied" else 2 * s * L * w ** (2 - 2 / L) + 2 * (L - 1) * g * w ** (1 - 2 / L)
    return max(k, 2.0)


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_initial_steps_are_the_derived_bound(name):
    ds = D.gaussian(5, seed=1)
    sig = np.array([0.05, 0.5, 3.0])
    run = train(name, ds, sigmas=sig, taus=[0, 0.01], Q=0.1, progress=False)
    want = [C * 2 / _kappa_formula(name, ds.lam, s, 0.1) for s in sig]
    np.testing.assert_allclose(run.h, want, rtol=1e-9)


def _true_kappa(model, W, l, coeffs, m):
    """Top eigenvalue of the per-level loss Hessian in the model's parameters, at the balanced aligned
    factors of the symmetric W (the trained trajectory's own factors), by autograd."""
    kind, L = PRODUCTS[model.arch_name]
    lam, U = np.linalg.eigh(W)
    root = U @ np.diag(np.clip(lam, 0, None) ** (1 / L)) @ U.T
    names = [k for k in model.params() if k != "b"]
    flat0 = torch.as_tensor(np.concatenate([root.reshape(-1)] * len(names)))
    d = W.shape[0]

    def loss(flat):
        p = {k: flat[i * d * d:(i + 1) * d * d].reshape(1, d, d) for i, k in enumerate(names)}
        p["b"] = torch.zeros(1, d, dtype=torch.float64)
        Weff, b = model.effective(p)
        return population_loss_reference(Weff, b, coeffs[l:l + 1], m).sum()  # twice differentiable

    H = torch.autograd.functional.hessian(loss, flat0, vectorize=True)
    return float(torch.linalg.eigvalsh(H)[-1])


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_bound_holds_along_the_run_and_is_tight(name):
    """κ_true at every checkpoint ≤ the κ the trainer derived at the previous one (it must hold over
    the whole segment); at the end (near the optimum) the bound is within 5% of the truth at low σ."""
    ds = D.gaussian(4, seed=2)
    sig = np.array([0.05, 10.0])  # growing modes at the low level, decaying ones (w* < Q) at the high one
    taus = np.concatenate([[0.0], np.geomspace(0.03, 4.0, 5)])
    run = train(name, ds, sigmas=sig, taus=taus, Q=0.1, keep_weights=True, progress=False)
    model = run.model
    coeffs = model.pair_coefficients()
    m = Moments(ds, torch.float64, "cpu")
    from numerics.stability import Stability

    stab = Stability(model, ds, coeffs, torch.float64, "cpu")
    for l in range(sig.size):
        kappas = [2 / float(stab.bound(torch.as_tensor(run.W[j, l][None]), [l], torch.as_tensor(run.b[j, l][None])))
                  for j in range(taus.size)]
        true = [_true_kappa(model, run.W[j, l], l, coeffs, m) for j in range(taus.size)]
        for j in range(1, taus.size):
            assert true[j] <= kappas[j - 1] * (1 + 1e-9), (name, l, j, true[j], kappas[j - 1])
            assert true[j - 1] <= kappas[j - 1] * (1 + 1e-9)
        if l == 0:
            assert true[-1] >= 0.95 * kappas[-1], (name, true[-1], kappas[-1])


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_twice_the_allowed_step_fails(name):
    """Fixed h at 2× the bound at init (check off): once the top mode nears its optimum its per-mode
    GD map is unstable, so GD blows up or never settles at w* (a product model may orbit instead of
    diverging); at 0.9× the bound it converges to w*. So the bound is not vacuous: the true limit is
    within 2× of it (derived: κ_init/κ_optimum ≈ 1.45 for the two-layer models here)."""
    ds = D.gaussian(4, seed=3)
    h0 = 2 / _kappa_formula(name, ds.lam, 0.1, 0.1)
    kw = dict(sigmas=[0.1], taus=np.linspace(0, 500 * h0, 11), Q=0.1, progress=False)
    w_star = ds.lam[0] / (ds.lam[0] + 0.01)  # the top mode's optimum
    with pytest.raises(SpecbiasError, match="unstable"):
        train(name, ds, h=1.01 * h0, **kw)
    try:
        bad = train(name, ds, h=2.0 * h0, check_stability=False, **kw)
        assert np.abs(bad.gains[-3:, 0, 0] - w_star).max() > 0.1, bad.gains[-3:, 0, 0]
    except SpecbiasError as err:
        assert "diverged" in str(err)
    ok = train(name, ds, h=0.9 * h0, **kw)
    assert np.abs(ok.gains[-3:, 0, 0] - w_star).max() < 1e-6
