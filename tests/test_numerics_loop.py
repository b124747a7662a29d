"""numerics.loop with a plain nn.Module as one parameter group (the path nonlinear denoisers take):
GD against an explicit numpy gradient descent, Adam against torch.optim.Adam, a minibatch loss with
per-sample weights on a nonlinear network, and divergence naming the step."""
import numpy as np
import pytest
import torch
from torch import nn

from numerics import data as D
from numerics.loop import ModuleParams, fit
from numerics.optim import make_optimizer
from numerics.population import Moments, population_loss
from numerics.recorder import StateRecorder
from numerics.schedule import Schedule
from theory.errors import SpecbiasError


class _LinearPopulation:
    """The exact expected denoising loss of an nn.Linear at one noise level σ (one group)."""

    def __init__(self, module, data, sigma):
        self.module, self.m = module, Moments(data, torch.float64, "cpu")
        self.coeffs = torch.tensor([[1.0, sigma, 1.0, 0.0]], dtype=torch.float64)

    def bind(self, tidx):
        pass

    def __call__(self, work):
        return population_loss(work["weight"][None], work["bias"][None], self.coeffs, self.m)


def _linear(d, q):
    lin = nn.Linear(d, d).double()
    with torch.no_grad():
        lin.weight.copy_(q * torch.eye(d, dtype=torch.float64))
        lin.bias.zero_()
    return lin


def _fit(module, objective, optimizer, steps, h, **kw):
    params = ModuleParams(module)
    sched = Schedule.from_steps(steps, h)
    rec = StateRecorder(sched.n_ckpt)
    fit(params, objective, make_optimizer(optimizer, params.theta, grouped=False, **kw), sched, rec,
        progress=False)
    return sched, rec


def test_module_gd_is_explicit_gradient_descent():
    ds = D.gaussian(4, seed=0)
    sigma, h, steps = 0.7, 0.05, [0, 1, 7, 30]
    lin = _linear(4, 0.1)
    sched, rec = _fit(lin, _LinearPopulation(lin, ds, sigma), "gd", steps, h)
    np.testing.assert_allclose(sched.tau_grid, np.array(steps) * h)
    W, done = 0.1 * np.eye(4), 0
    for j, n in enumerate(steps):
        for _ in range(n - done):  # ∂/∂W tr((W − I)Σ(W − I)ᵀ) + σ²‖W‖² = 2(W − I)Σ + 2σ²W
            W = W - h * (2 * (W - np.eye(4)) @ ds.cov + 2 * sigma**2 * W)
        done = n
        np.testing.assert_allclose(rec.states[j][0]["weight"].numpy(), W, rtol=1e-12, atol=1e-15)
        assert rec.steps[j, 0] == n
    np.testing.assert_allclose(lin.weight.detach().numpy(), W, rtol=1e-12)  # trained in place


def test_module_adam_is_torch_adam():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), nn.SiLU(), nn.Linear(8, 3)).double()
    twin = nn.Sequential(nn.Linear(3, 8), nn.SiLU(), nn.Linear(8, 3)).double()
    twin.load_state_dict(net.state_dict())
    x = torch.randn(64, 3, dtype=torch.float64)

    def loss_of(model):
        return ((model(x) - x.flip(-1)) ** 2).sum(-1).mean()

    class Obj:
        def bind(self, tidx):
            pass

        def __call__(self, work):
            return loss_of(net).reshape(1)

    lr = 0.5  # exactly representable in float32 too
    _fit(net, Obj(), "adam", [0, 5, 20], 1.0, lr=lr)
    opt = torch.optim.Adam(twin.parameters(), lr=lr)
    for _ in range(20):
        opt.zero_grad()
        loss_of(twin).backward()
        opt.step()
    for a, b in zip(net.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


class _Denoiser(nn.Module):
    """A tiny nonlinear D(x, σ): an MLP on [x, ln σ]."""

    def __init__(self, d):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d + 1, 32), nn.SiLU(), nn.Linear(32, d))

    def forward(self, x, sigma):
        return self.net(torch.cat([x, sigma.log()], -1))


def test_nonlinear_minibatch_training_with_sample_weights_learns():
    torch.manual_seed(1)
    ds = D.gaussian(4, seed=1)
    net = _Denoiser(4)
    gen = torch.Generator().manual_seed(2)
    losses = {}

    class WeightedDenoising:
        def bind(self, tidx):
            pass

        def __call__(self, work):
            x = ds.sample(256, gen, torch.float32, "cpu")
            sigma = torch.exp(torch.randn(256, 1, generator=gen) - 1.0)
            weight = (sigma**2 + 1.0) / sigma**2  # a per-sample weight, EDM-like
            per = ((net(x + sigma * torch.randn(x.shape, generator=gen), sigma) - x) ** 2).sum(-1)
            return (weight[:, 0] * per).mean().reshape(1)

    def measure(j, group, state):
        x = ds.sample(2048, torch.Generator().manual_seed(9), torch.float32, "cpu")
        sigma = torch.full((2048, 1), 0.5)
        z = torch.randn(x.shape, generator=torch.Generator().manual_seed(10))
        with torch.no_grad():
            losses[j] = float(((torch.func.functional_call(net, state, (x + 0.5 * z, sigma)) - x) ** 2).sum(-1).mean())

    params = ModuleParams(net)
    sched = Schedule.from_steps([0, 10, 300], 1.0)
    rec = StateRecorder(sched.n_ckpt, on_checkpoint=measure)
    fit(params, WeightedDenoising(), make_optimizer("adam", params.theta, grouped=False, lr=3e-3), sched, rec,
        progress=False)
    assert sorted(losses) == [0, 1, 2] and rec.steps[:, 0].tolist() == [0, 10, 300]
    wiener = float((ds.lam * 0.25 / (ds.lam + 0.25)).sum())  # the best any denoiser can do at σ = 0.5
    assert losses[2] < 0.5 * losses[0] and losses[2] < 2.0 * wiener


def test_module_divergence_names_the_step():
    lin = _linear(2, 1.0)

    class Blows:
        calls = 0

        def bind(self, tidx):
            pass

        def __call__(self, work):
            Blows.calls += 1
            bad = torch.tensor(float("nan") if Blows.calls == 4 else 1.0, dtype=torch.float64)
            return ((work["weight"] ** 2).sum() * bad).reshape(1)

    with pytest.raises(SpecbiasError, match="diverged in group 0 at step 4"):
        _fit(lin, Blows(), "gd", 10, 0.01)


def test_one_group_fused_adam_equals_the_grouped_update():
    """grouped=False runs torch's fused Adam; it must equal the grouped per-level arithmetic on one level,
    h = 0 steps (group switched off: moments advance, parameters stay) included."""
    from numerics.optim import make_optimizer

    gen = torch.Generator().manual_seed(1)
    for dtype in (torch.float64, torch.float32):
        P = {"a": torch.randn(5, 3, generator=gen, dtype=dtype), "b": torch.randn(7, generator=gen, dtype=dtype)}
        R = {k: v.clone()[None] for k, v in P.items()}
        one, ref = make_optimizer("adam", P, grouped=False, lr=1e-2), make_optimizer("adam", R, lr=1e-2)
        for i in range(30):
            G = [torch.randn(v.shape, generator=gen, dtype=dtype) for v in P.values()]
            h = torch.full((1,), 0.0 if i in (10, 11) else 1.0, dtype=dtype)
            one.step(P, G, h)
            ref.step(R, [g[None] for g in G], h)
        for k in P:
            np.testing.assert_allclose(P[k].numpy(), R[k][0].numpy(),
                                       rtol=1e-5 if dtype == torch.float32 else 1e-12)  # float32: rounding
