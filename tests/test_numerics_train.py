"""numerics.train: real gradient descent against independent known answers.

- one-layer, population mode: the exact discrete-GD solution K + Π(1 − 2h(σ²+λ))(Q − K) (theory's
  `discrete_weight`, composed over the run's step segments) to float tolerance, and the gradient-flow
  closed form within the O(h) gap;
- every registry model at aligned init tracks `theory.get(name).weight` (population mode);
- models without a registered theory (deep linear, 2-D patch convolution): the independent per-mode ODE
  / the exact GD of the tap quadratic, computed here in numpy;
- samples mode on digits follows population mode on the Gaussian twin (Gaussian equivalence);
- stability refusal, NaN detection, save/load, device handling, float32, Adam, the CLI.
"""
import json

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

import theory
from numerics import data as D
from numerics import models as M
from numerics.run import Run
from numerics.train import resolve_device, train
from theory.errors import SpecbiasError
from verify.cli import main
from verify.tolerances import tol

SIG = np.array([0.05, 0.3, 1.0, 3.0])
TAUS = np.concatenate([[0.0], np.geomspace(1e-2, 3.0, 6)])


def _err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))), float(np.max(np.abs(a - b)))


def _discrete(run, Q):
    """Theory's exact discrete GD composed over the run's (segment steps, segment step size)."""
    arch = theory.get("linear")
    psi = np.broadcast_to(np.asarray(Q, float), run.gains.shape[1:]).copy()
    out = np.empty_like(run.gains)
    for j in range(run.tau.size):
        for lv, s in enumerate(run.sigma):
            if run.seg_steps[j, lv]:
                psi[lv] = arch.discrete_weight(run.lam, s, run.seg_steps[j, lv], run.seg_h[j, lv], Q=psi[lv])
        out[j] = psi
    return out


@pytest.fixture(scope="module")
def linear_run():
    return train("linear", D.gaussian(8, seed=0), sigmas=np.geomspace(0.002, 80, 6), taus=TAUS, Q=0.1,
                 progress=False)


def test_linear_population_is_the_exact_discrete_gd(linear_run):
    run = linear_run
    assert run.meta["device"] == "cpu" and run.meta["mode"] == "population"
    h = theory.get("linear").max_stable_step(run.meta["lam_max"], run.sigma)  # 1/(σ² + λ_max)
    np.testing.assert_allclose(run.h, 0.02 * h, rtol=1e-12)  # per-level steps, c = 0.02
    assert np.all(run.seg_h <= run.h[None, :] * (1 + 1e-12))
    t = tol("weights-vs-discrete-gd")
    assert t.ok(*_err(run.gains, _discrete(run, 0.1)))
    np.testing.assert_allclose(run.gains[0], 0.1, atol=1e-15)


def test_linear_population_tracks_gradient_flow(linear_run):
    run = linear_run
    th = theory.get("linear").weight(run.lam[None, None], run.sigma[None, :, None], run.tau[:, None, None], Q=0.1)
    np.testing.assert_allclose(run.theory_gains(), th)
    gap = np.abs(run.gains - th).max()
    assert gap <= tol("trajectory-vs-theory").abs
    assert gap > 1e-5  # real discrete GD, not the closed form
    # GD runs ahead of the flow by at most the O(h) clock factor −ln(1 − x)/x, x = 2h(σ² + λ) ≤ 0.04
    fast = theory.get("linear").weight(run.lam[None, None], run.sigma[None, :, None],
                                       1.0206 * run.tau[:, None, None], Q=0.1)
    lo, hi = np.minimum(th, fast), np.maximum(th, fast)
    assert np.all(run.gains >= lo - 1e-12) and np.all(run.gains <= hi + 1e-12)


def test_single_user_h_with_step_checkpoints_is_discrete_weight():
    ds = D.gaussian(6, seed=1)
    sig = np.array([0.5, 1.0, 2.0])
    h = 0.5 / (4.0 + ds.lam_max)
    run = train("linear", ds, sigmas=sig, steps=[0, 1, 10, 100], h=h, Q=0.3, progress=False)
    np.testing.assert_allclose(run.tau, np.array([0, 1, 10, 100]) * h)
    want = theory.get("linear").discrete_weight(ds.lam[None, None], sig[None, :, None],
                                                np.array([0, 1, 10, 100])[:, None, None], h, Q=0.3)
    assert tol("weights-vs-discrete-gd").ok(*_err(run.gains, want))
    one_h = train("linear", ds, sigmas=sig, steps=50, n_checkpoints=5, Q=0.3, progress=False)
    assert np.unique(one_h.h).size == 1 and one_h.h[0] == pytest.approx(0.02 / (4.0 + ds.lam_max))


def test_eta_scales_time():
    ds = D.gaussian(5, seed=2)
    a = train("linear", ds, sigmas=SIG, taus=[0, 0.1, 1.0], eta=1.0, progress=False)
    b = train("linear", ds, sigmas=SIG, taus=[0, 0.05, 0.5], eta=2.0, progress=False)
    np.testing.assert_allclose(a.gains, b.gains, atol=1e-13)


def _registry_case(name):
    """(data, train kwargs, comparison mask) for a registered architecture."""
    arch = theory.get(name)
    cls = M.model_class(arch)
    kw = {"ts": np.array([0.1, 0.5, 0.9])} if cls.level_name == "t" else {"sigmas": SIG}
    if cls.basis == "fourier":  # 1-D signals, or 5 × 5 images for 2-D models
        image = getattr(arch, "dims", 1) == 2
        return (D.stationary2d(5, beta=1.0) if image else D.stationary(8, beta=1.0)), kw, slice(None)
    if "m" in arch.params:  # the mean along one mode (theory.md §2.2): data mean m·u_0, compare mode 0
        base = D.gaussian(6, seed=3)
        m = arch.params["m"]
        return D.gaussian(6, seed=3, mean=m * base.U[:, 0]), kw, slice(0, 1)
    return D.gaussian(6, seed=3), kw, slice(None)


@pytest.mark.parametrize("name", [n for n in theory.available() if theory.get(n).model])
def test_registry_model_tracks_the_theory(name):
    arch = theory.get(name)
    if arch.q_range[0] > 0.3 or arch.q_range[1] < 0.3:
        pytest.skip(f"{name}: Q = 0.3 outside its range")
    ds, kw, modes = _registry_case(name)
    run = train(name, ds, taus=TAUS, Q=0.3, progress=False, **kw)
    if "m" in arch.params:
        th = arch.weight(run.lam[modes][None, None], run.levels[None, :, None],
                         run.tau[:, None, None], Q=0.3, **run.meta["theory_params"])
    else:
        th = run.theory_gains()
    got = run.gains[..., modes]
    np.testing.assert_allclose(got[0], th[0], atol=1e-13)  # the theory's initial gain, exactly
    assert np.abs(got - th).max() <= tol("trajectory-vs-theory").abs, name
    assert np.abs(got[-1] - got[0]).max() > 0.05  # it did learn


def _temporary_arch(name, model, params):
    cls = type("Temp", (theory.Architecture,), {"name": name, "model": model, "params": params})
    return theory.register(cls())


def test_deep_linear_follows_the_balanced_depth_L_ode():
    """theory.md §2.4: dw/dτ = −2ηL w^{2−2/L} ((σ² + λ) w − λ), integrated independently here."""
    arch = _temporary_arch("_test_deep_linear", "numerics.models:DeepLinear", {"L": 3})
    try:
        ds = D.gaussian(5, seed=4)
        sig = np.array([0.3, 1.0])
        run = train(arch, ds, sigmas=sig, taus=TAUS, Q=0.3, progress=False)
        Ld = 3
        for lv, s in enumerate(sig):
            for k, lam in enumerate(ds.lam):
                rhs = lambda t, w: -2 * Ld * w ** (2 - 2 / Ld) * ((s**2 + lam) * w - lam)  # noqa: E731
                sol = solve_ivp(rhs, (0, TAUS[-1]), [0.3], t_eval=TAUS, rtol=1e-10, atol=1e-12)
                assert np.abs(run.gains[:, lv, k] - sol.y[0]).max() <= tol("trajectory-vs-theory").abs
        assert run.meta["model"]["parameters"] == {f"W{i}": [2, 5, 5] for i in range(3)} | {"b": [2, 5]}
    finally:
        theory.unregister("_test_deep_linear")


def test_patch_conv_2d_is_exact_gd_on_the_tap_quadratic():
    """A C-channel P×P circular convolution is linear in its taps w: L(w) = wᵀAw − 2gᵀw + const with
    A, g built here from an explicit loop over positions; GD on it is w ← w − h(2Aw − 2g) exactly."""
    arch = _temporary_arch("_test_patch2d", "numerics.models:PatchConv2d", {"P": 3})
    try:
        C, H, W_ = 2, 3, 4
        d = C * H * W_
        rng = np.random.default_rng(5)
        X = rng.standard_normal((400, d)) @ rng.standard_normal((d, d)) / np.sqrt(d)
        ds = D.empirical("toy-images", X, (C, H, W_))
        sig = np.array([0.5, 2.0])
        run = train(arch, ds, sigmas=sig, taus=[0, 0.01, 0.1], Q=0.2, keep_weights=True, progress=False)
        # the tap → matrix map, by explicit loops (independent of the model's index table)
        offs = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
        T = C * C * len(offs)
        J = np.zeros((d * d, T))
        for c in range(C):
            for c2 in range(C):
                for t, (a, b) in enumerate(offs):
                    for i in range(H):
                        for j in range(W_):
                            row = (c * H + i) * W_ + j
                            col = (c2 * H + (i - a) % H) * W_ + (j - b) % W_
                            J[row * d + col, (c * C + c2) * len(offs) + t] += 1
        for lv, s in enumerate(sig):
            Sxx = ds.cov + s**2 * np.eye(d)  # centred data: the bias decouples and stays 0
            A = J.T @ np.kron(np.eye(d), Sxx) @ J
            g = J.T @ ds.cov.reshape(-1)
            w = np.zeros(T)
            w[[(c * C + c) * len(offs) + 4 for c in range(C)]] = 0.2
            for j in range(1, 3):
                for _ in range(run.seg_steps[j, lv]):
                    w = w - run.seg_h[j, lv] * (2 * A @ w - 2 * g)
                np.testing.assert_allclose(run.W[j, lv], (J @ w).reshape(d, d), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(run.b, 0, atol=1e-14)
        assert np.all(run.h <= 2 / (2 * H * W_ * (sig**2 + ds.lam_max)))  # the shared-tap stability bound
    finally:
        theory.unregister("_test_patch2d")


def test_samples_mode_on_digits_follows_population_on_the_gaussian_twin():
    digits = D.digits()
    sig, taus = [0.3, 1.0, 3.0], [0, 0.01, 0.03, 0.1, 0.3]
    pop = train("linear", digits.gaussian_twin(), sigmas=sig, taus=taus, step_fraction=0.1, progress=False)
    runs = [train("linear", digits, mode="samples", batch=512, sigmas=sig, taus=taus, step_fraction=0.1,
                  seed=s, progress=False) for s in range(6)]
    assert runs[0].meta["mode"] == "samples" and runs[0].meta["data"]["name"] == "digits"
    np.testing.assert_array_equal(runs[0].seg_steps, pop.seg_steps)
    G = np.stack([r.gains for r in runs])[:, 1:]
    se = G.std(0, ddof=1) / np.sqrt(len(runs))
    z2 = ((G.mean(0) - pop.gains[1:]) / se) ** 2
    assert z2.mean() <= tol("samples-vs-population").abs
    # the statistic has power: a Gaussian with 3% more variance is rejected
    wrong = D.Dataset("wrong", digits.mu, 1.03 * digits.cov, 1.03 * digits.lam, digits.U, digits.shape)
    off = train("linear", wrong, sigmas=sig, taus=taus, step_fraction=0.1, progress=False)
    assert (((G.mean(0) - off.gains[1:]) / se) ** 2).mean() > 3 * tol("samples-vs-population").abs


def test_unstable_h_is_refused_with_the_bound():
    ds = D.gaussian(6, seed=6)
    bound = float(theory.get("linear").max_stable_step(ds.lam_max, 3.0))
    with pytest.raises(SpecbiasError, match="unstable") as err:
        train("linear", ds, sigmas=SIG, taus=[0, 1], h=1.01 * bound, progress=False)
    assert f"{bound:.4g}" in str(err.value) and "sigma = 3" in str(err.value)
    train("linear", ds, sigmas=SIG, taus=[0, 0.01], h=0.99 * bound, progress=False)  # accepted


def test_divergence_is_stopped_with_level_and_step():
    ds = D.gaussian(6, seed=6)
    bound = float(theory.get("linear").max_stable_step(ds.lam_max, 3.0))
    with pytest.raises(SpecbiasError, match=r"diverged at sigma = 3 \(level 3\) at step \d+") as err:
        train("linear", ds, sigmas=SIG, taus=[0, 1e4 * bound], h=3 * bound, check_stability=False,
              progress=False)
    assert "NaN/inf" in str(err.value)


def test_save_load_round_trip(tmp_path, linear_run):
    linear_run.save(tmp_path / "run")
    back = Run.load(tmp_path / "run")
    assert set(back.arrays) == set(linear_run.arrays)
    for k, v in linear_run.arrays.items():
        np.testing.assert_array_equal(back.arrays[k], v)
    assert back.meta == json.loads(json.dumps(back.meta)) and back.meta["arch"] == "linear"
    assert back.meta["Q"] == 0.1 and back.meta["step_fraction"] == 0.02
    np.testing.assert_allclose(back.theory_gains(), linear_run.theory_gains())
    with pytest.raises(SpecbiasError, match="no saved run"):
        Run.load(tmp_path / "nothing")


def test_devices():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(SpecbiasError, match="no GPU"):
            resolve_device("cuda")
    with pytest.raises(SpecbiasError, match="auto, cpu, cuda or cuda:N"):
        resolve_device("tpu")


def test_float32_and_adam():
    ds = D.gaussian(6, seed=7)
    r32 = train("linear", ds, sigmas=SIG, taus=[0, 0.1, 1.0], dtype=torch.float32, progress=False)
    assert r32.meta["dtype"] == "float32"
    assert tol("weights-vs-discrete-gd", "float32").ok(*_err(r32.gains, _discrete(r32, 0.1)))
    adam = train("linear", ds, sigmas=SIG, taus=[0, 0.1], optimizer="adam", lr=1e-3, progress=False)
    assert adam.meta["optimizer"] == "adam" and "nominal" in adam.meta["clock"]
    assert np.abs(adam.gains[-1] - 0.1).max() > 1e-3


def test_random_init_learns_towards_the_wiener_filter():
    ds = D.gaussian(6, seed=8)
    run = train("linear", ds, sigmas=[1.0], taus=[0, 200.0], init="random", scale=0.05, progress=False)
    K = ds.lam / (ds.lam + 1.0)
    np.testing.assert_allclose(run.gains[-1, 0], K, atol=1e-9)
    assert run.meta["levels_converged"] == 1 and run.converged_tau[0] < 200


def test_bad_arguments():
    ds = D.gaussian(4, seed=0)
    with pytest.raises(SpecbiasError, match="mode"):
        train("linear", ds, mode="nope", progress=False)
    with pytest.raises(SpecbiasError, match="batch"):
        train("linear", ds, mode="samples", progress=False)
    with pytest.raises(SpecbiasError, match="increasing"):
        train("linear", ds, taus=[1, 0.5], progress=False)
    with pytest.raises(SpecbiasError, match="max_steps"):
        train("linear", ds, mode="samples", batch=8, taus=[0, 100.0], progress=False)


def test_cli_train_json_and_errors(capsys, tmp_path):
    rc = main(["train", "linear", "--d", "6", "--levels", "4", "--tau-max", "1", "--checkpoints", "5",
               "--json", "--out", str(tmp_path / "cli")])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["theory"]["within_tolerance"] and out["meta"]["arrays"]["gains"] == [5, 4, 6]
    assert Run.load(tmp_path / "cli").meta["theory_comparison"]["available"]
    rc = main(["train", "linear", "--d", "6", "--levels", "4", "--h", "10"])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("specbias: error: step size h = 10 is unstable")


@pytest.mark.parametrize("d, levels", [pytest.param(64, 64, marks=pytest.mark.slow, id="paper-size"),
                                       pytest.param(8, 12, id="ci-size")])
def test_default_size_linear_run_matches_discrete_gd_and_flow(d, levels):
    """The paper's set-up: d = 64 lognormal, 64 levels from 0.002 to 80, τ from 1e−4 to 1e3 (slow); the
    same check at d = 8 on 12 levels over the same σ and τ ranges runs in the default suite (~2 s)."""
    sigmas = None if levels == 64 else np.geomspace(0.002, 80, levels)
    run = train("linear", D.gaussian(d, seed=11), Q=0.1, sigmas=sigmas, progress=False)
    assert run.gains.shape == (37, levels, d) and run.meta["levels_converged"] == levels
    assert tol("weights-vs-discrete-gd").ok(*_err(run.gains, _discrete(run, 0.1)))
    assert np.abs(run.gains - run.theory_gains()).max() <= tol("trajectory-vs-theory").abs


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_matches_cpu():
    ds = D.gaussian(32, seed=12)
    kw = dict(sigmas=np.geomspace(0.01, 10, 8), taus=[0, 0.1, 1.0], progress=False)
    cpu, gpu = train("sym_two_layer", ds, device="cpu", **kw), train("sym_two_layer", ds, device="cuda", **kw)
    assert gpu.meta["device"].startswith("cuda")
    np.testing.assert_allclose(gpu.gains, cpu.gains, atol=1e-10)
    s = train("linear", ds, device="cuda", mode="samples", batch=64, **dict(kw, taus=[0, 0.01]))
    assert np.isfinite(s.gains).all()
