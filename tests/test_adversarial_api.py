"""Adversarial Python-API inputs, by class (issue 8 §2–§3): each raises `theory.SpecbiasError` with a
one-line message naming the argument, before any compute; tensors that carry gradients are detached."""
import numpy as np
import pytest
import torch

import theory
from numerics import data as D
from theory import validate as V
from theory.errors import SpecbiasError

ARCH = theory.get("linear")
LAM = np.array([1.0, 0.1, 0.01])


CASES = {
    "complex": [
        (lambda: ARCH.weight(np.array([1 + 1j]), 1.0, 1.0), "lam"),
        (lambda: ARCH.generated_variance(1.0, np.array([1j])), "tau"),
        (lambda: theory.kl(LAM, LAM + 1j), "generated"),
    ],
    "overflow": [
        (lambda: ARCH.generated_variance(1.0, 1.0, sigmaT=1e200), "sigmaT"),
        (lambda: ARCH.generated_variance(1.0, 1.0, sigma0=1e-320), "sigma0"),
        (lambda: theory.emergence_time("linear", LAM, sigmaT=1e200), "sigmaT"),
    ],
    "precision": [
        (lambda: ARCH.weight(1.0, 1.0, 1.0, dps="abc"), "dps"),
        (lambda: ARCH.generated_variance(1.0, 1.0, dps=0), "dps"),
        (lambda: ARCH.generated_variance(1.0, 1.0, dps=-5), "dps"),
        (lambda: ARCH.generated_variance(1.0, 1.0, dps=1.5), "dps"),
    ],
    "tau_range and grid": [
        (lambda: theory.emergence_time("linear", LAM, tau_range=(1.0, 0.1)), "tau_range"),
        (lambda: theory.emergence_time("linear", LAM, tau_range=(0.0, 1.0)), "tau_range"),
        (lambda: theory.emergence_time("linear", LAM, tau_range=(np.nan, 1.0)), "tau_range"),
        (lambda: theory.emergence_time("linear", LAM, tau_range="abc"), "tau_range"),
        (lambda: theory.emergence_time("linear", LAM, tau_range=(1.0,)), "tau_range"),
        (lambda: theory.emergence_time("linear", LAM, grid=1), "grid"),
        (lambda: theory.emergence_time("linear", LAM, grid=10**9), "grid"),
        (lambda: theory.emergence_time("linear", LAM, grid="x"), "grid"),
    ],
    "shapes": [
        (lambda: theory.emergence_time("linear", LAM, Q=np.array([0.1, 0.2])), "shape"),
        (lambda: theory.fit_exponent(LAM, np.ones(4)), "shape"),
        (lambda: theory.fit_exponent(LAM, np.ones(3), v0=np.ones(2)), "shape"),
        (lambda: theory.kl(np.ones(3), np.ones(4)), "broadcast"),
    ],
    "data": [
        (lambda: D.gaussian(8, seed=-1), "seed"),
        (lambda: D.gaussian(8, seed=1.5), "seed"),
        (lambda: D.gaussian(8, seed=2**40), "seed"),
        (lambda: D.stationary(8, seed=-1), "seed"),
        (lambda: D.gaussian(8, "powerlaw", beta=np.nan), "beta"),
        (lambda: D.gaussian(8, "powerlaw", beta=1e5), "beta"),
        (lambda: D.stationary(8, beta=1e5), "beta"),
        (lambda: D.stationary(8, beta=np.inf), "beta"),
        (lambda: D.gaussian(10**8), "d must be an integer"),
        (lambda: D.gaussian(2**20), "memory"),
        (lambda: D.stationary(500_000), "memory"),
        (lambda: D.gaussian(0), "d"),
        (lambda: D.spectrum("logspace", 5, lo=np.nan, hi=1.0), "lo"),
        (lambda: D.patches(P=10**6), "P"),
    ],
    "model sizes": [
        (lambda: _model_options("two_layer", hidden="abc"), "hidden"),
        (lambda: _model_options("two_layer", hidden=2.5), "hidden"),
        (lambda: _model_options("two_layer", hidden=-1), "hidden"),
        (lambda: _model_options("sym_two_layer", hidden=2**40), "hidden"),
        (lambda: theory.get("deep_linear").weight(1.0, 1.0, 1.0, L=10**5), "L"),
        (lambda: theory.get("deep_linear").derive(L=200), "derive"),
    ],
    "spiked extremes": [
        (lambda: _spiked().check_spikes([1.0, 1e300]), "lam"),
        (lambda: _spiked().check_noise(1e-300), "s2"),
        (lambda: _spiked().check_gamma(1e308), "gamma"),
        (lambda: _chains().r1_product(np.array([1.0]), 1e308), "S2"),
    ],
}


def _model_options(arch, **options):
    from numerics.models import check_options

    return check_options(theory.get(arch), options)


def _spiked():
    from theory.spiked import covariance as spiked

    return spiked


def _chains():
    from theory.spiked import chains

    return chains


def _net_run():
    """A network run measured in the eigenbasis only: τ = 0 and 4 checkpoints, 3 modes, 12 replicates."""
    from numerics.run import Run

    lam, tau = np.array([2.0, 1.0, 0.5]), np.r_[0.0, np.geomspace(0.1, 10.0, 4)]
    var = lam - (lam - 0.02) * np.exp(-np.outer(tau, lam))
    boot = var[:, None, :] * (1 + 0.01 * np.linspace(-1, 1, 12))[None, :, None]
    return Run({"tau": tau, "steps": np.arange(tau.size), "var_eigen": var, "var_boot_eigen": boot,
                "lam_eigen": lam, "lam": lam}, {"net": "mlp", "data": {"name": "synthetic"}})


def _nl():
    from verify.nets import analysis as nonlinear

    return nonlinear


def _from_checkpoints(tau, lt, v0=0.1, lam=1.0):
    from theory.emergence import emergence_from_checkpoints

    return emergence_from_checkpoints(tau, np.asarray(lt, float), v0, lam)


CASES.update({  # issue 20: tracebacks and silent wrong answers of the newer API entries
    "division by zero": [
        (lambda: _spiked().reference(1, 0, 0.5), "s2"),
        (lambda: _spiked().reference(1, 1, 0), "gamma"),
        (lambda: _chains().log_r2_reference(1, 0, 4), "S2"),
        (lambda: _chains().log_r2_reference(0, 1, 4), "lam"),
        (lambda: _chains().log_r2_reference(1, 1, 0), "T"),
    ],
    "array where one number belongs": [
        (lambda: _chains().fixation_noise(1.0, r=np.array([0.5, 0.6])), "fixation fraction r"),
        (lambda: _chains().fixation_noise(1.0, r="x"), "fixation fraction r"),
        (lambda: _chains().fixation_noise(1.0, s2_min=np.ones(2)), "s2_min"),
        (lambda: _spiked().reference(np.ones(2), 1.0, 1.0), "lam"),
        (lambda: _chains().log_r2_reference(np.ones(2), 1.0, 4), "lam"),
    ],
    "shapes that do not line up": [
        (lambda: _fs().gaussian_kl(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "dimension"),
        (lambda: _fs().gaussian_kl(np.zeros(2), np.ones((2, 3)), np.zeros(2), np.eye(2)), "cov_p"),
        (lambda: _basis().along(np.ones(3), np.ones((4, 2))), "line up"),
        (lambda: _basis().along(np.ones(3), np.ones(3)), "weights"),
        (lambda: _basis().eigen_weights(np.eye(3), np.eye(4)), "line up"),
        (lambda: _nl().time_scale(np.ones(3), np.ones(4)), "shape"),
        (lambda: _nl().time_scale(np.ones(3), np.ones(3), use=np.ones(2, bool)), "shape"),
        (lambda: _nl().time_scale(np.ones(3), np.ones(3), tau_boot=np.ones((12, 4))), "tau_boot"),
        (lambda: _nl().time_scale(1.0, 1.0), "tau_star"),
        (lambda: _from_checkpoints([1.0, 2.0, 3.0], [[0.5, 2.0]]), "column per checkpoint"),
        (lambda: _from_checkpoints([1.0, 2.0], [[0.5, 2.0]], lam=np.ones(3)), "lam"),
    ],
    "missing keys": [
        (lambda: _nl().sampler_bias(LAM, {}), "heun_steps"),
        (lambda: _nl().sampler_bias(LAM, "edm"), "sampler"),
        (lambda: _nl().emergence(_net_run(), basis="fourier"), "eigen"),
        (lambda: _nl().plateau(_net_run(), basis="fourier"), "basis"),
    ],
    "not an architecture": [
        (lambda: theory.emergence_time(123, LAM), "architecture"),
        (lambda: theory.emergence_time(None, LAM), "architecture"),
        (lambda: theory.get(ARCH.__class__), "architecture"),
    ],
    "outside the physical range": [
        (lambda: _spiked().mse(0.5, 1, 1, alpha2=2), "alpha2"),
        (lambda: _spiked().mse(0.5, 1, 1, alpha2=-0.1), "alpha2"),
        (lambda: _spiked().mse(np.nan, 1, 1, alpha2=0.5), "gain (h)"),
        (lambda: _from_checkpoints([1.0, 2.0], [[-0.5, 2.0]]), "lam_tilde"),
        (lambda: _from_checkpoints([1.0, 2.0], [[np.nan, 2.0]]), "lam_tilde"),
        (lambda: _from_checkpoints([1.0, 2.0], [[0.5, 2.0]], v0=-1.0), "v0"),
    ],
    "order and counts": [
        (lambda: _from_checkpoints([2.0, 1.0], [[0.5, 2.0]]), "strictly increasing"),
        (lambda: _from_checkpoints([1.0, 1.0], [[0.5, 2.0]]), "strictly increasing"),
        (lambda: _from_checkpoints([[1.0, 2.0]], [[0.5, 2.0]]), "1-D"),
        (lambda: D.gaussian(16, lam=[1.0] * 15), "15 variances"),
        (lambda: D.gaussian(16, np.ones(15)), "15 variances"),
        (lambda: _nl().plateau(_net_run(), last=0), "last"),
        (lambda: _nl().plateau(_net_run(), last=6), "last"),
    ],
    "not a run or a record": [
        (lambda: _nl().emergence(123), "run"),
        (lambda: _nl().plateau({"arrays": {}}), "run"),
        (lambda: _nl().latent_variance(123, np.eye(2)), "sampler"),
        (lambda: _nl().latent_variance({"n_samples": 4, "heun_steps": 2, "seed": 0}, 1.0), "basis (U)"),
        (lambda: _nl().sampler_bias(LAM, dict(heun_steps="x", sigma0=0.002, sigmaT=80.0, rho=7.0)), "heun_steps"),
        (lambda: _nl().compare(_net_run(), em=1.0), "em"),
        (lambda: _sd().fixation(123, np.eye(2)), "denoiser"),
        (lambda: _sd().fixation(_sd().wiener_denoiser(np.eye(2)), np.eye(3)), "dimension"),
        (lambda: _sd().fixation(_sd().wiener_denoiser(np.eye(2)), 1.0), "basis (U)"),
    ],
    "options given the wrong type": [
        (lambda: _nl().emergence(_net_run(), criteria=5), "criteria"),
        (lambda: _nl().emergence(_net_run(), criteria=["median"]), "criterion"),
        (lambda: _nl().emergence(_net_run(), basis=np.ones((2, 3))), "basis"),
        (lambda: _nl().q_effective(LAM, sigma0=0), "sigma0"),
        (lambda: _nl().time_scale(np.ones(3), np.ones(3), tau_boot=1.0), "tau_boot"),
        (lambda: _spiked().threshold_window(1.0, 4.0, width=None), "window width"),
        (lambda: _spiked().outside_window(1.0, np.ones((2, 3)), np.ones(2)), "broadcast"),
        (lambda: _spiked().aspect_ratio(4, 8, M=np.ones(2)), "M"),
        (lambda: _chains().log_r2_asymptotic(1.0, 1.0, 4, order=1.5), "order"),
        (lambda: _chains().log_r2_asymptotic(1.0, 1.0, 4, order=3), "order"),
        (lambda: _chains().noisy_chain_variance(1.0, 1.0, 4, v_T=np.ones(2)), "v_T"),
        (lambda: _chains().log_r2_product(1.0, 1.0, np.ones((2, 3))), "T"),
        (lambda: _fs().expected_endpoint_kl(4, 8, centred=np.ones(2)), "centred"),
        (lambda: _fs().expected_endpoint_kl(4, 1e308), "n (samples)"),
        (lambda: _fs().finite_sample_kl(np.ones((5, 2)), 1.0, 1.0), "Sigma"),
        (lambda: _basis().covariance_along(1.0, np.eye(2)), "covariance"),
        (lambda: _basis().fourier_weights(np.eye(2), 2), "signal shape"),
        (lambda: _basis().patch_positions((1, 4, 4), np.nan, 1), "patch size p"),
        (lambda: _basis().patch_pcs(np.eye(16), (1, 4, 4), 2.5, 1), "patch size p"),
        (lambda: theory.emergence.threshold(1.0, 2.0, np.ones(2)), "criterion"),
        (lambda: theory.emergence.threshold(np.ones((2, 3)), np.ones(2)), "broadcast"),
        (lambda: theory.emergence.starts_inside("x", 1.0, "band"), "v0"),
        (lambda: _fit().in_gray_zone(1.0, 2.0, gray_zone=0.5), "gray_zone"),
        (lambda: _along().emergence_along("linear", LAM, np.eye(3), LAM, Q=np.ones(2)), "Q"),
        (lambda: _along().emergence_along("linear", LAM, np.eye(3), LAM, grid=-1), "grid"),
        (lambda: _along().emergence_along("linear", LAM, np.eye(3), LAM, tau_range=0), "tau_range"),
        (lambda: _nl().fitted_modes("x", LAM), "v0"),
    ],
})


def _sd():
    from numerics.spiked import dynamics as spiked_dynamics

    return spiked_dynamics


def _fit():
    from theory import fit

    return fit


def _along():
    from theory import along

    return along


def _fs():
    from theory.spiked import finite_sample

    return finite_sample


def _basis():
    from theory import basis

    return basis


FLAT = [(cls, fn, frag) for cls, cases in CASES.items() for fn, frag in cases]


@pytest.mark.parametrize("cls,fn,frag", FLAT, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(FLAT)])
def test_bad_input_raises_specbias_error_naming_the_argument(cls, fn, frag):
    with pytest.raises(SpecbiasError) as info:
        fn()
    msg = str(info.value)
    assert frag in msg and "\n" not in msg, msg


def test_tensors_with_gradients_are_detached_not_refused():
    lam = torch.tensor([1.0, 0.1], dtype=torch.float64, requires_grad=True)
    want = ARCH.weight(lam.detach().numpy(), 1.0, 2.0)
    assert np.array_equal(ARCH.weight(lam, 1.0, 2.0), want)
    assert np.array_equal(V.as_array("lam", lam), lam.detach().numpy())
    assert np.isfinite(theory.emergence_time("linear", lam)).all()


def test_validators_name_the_argument_and_the_range():
    assert V.count("n", "7") == 7 and V.count("n", 7.0) == 7
    for bad in ("0", 0, -1, 1.5, "x", np.nan, True, 10**13):
        with pytest.raises(SpecbiasError, match=r"^n must be an integer"):
            V.count("n", bad, hi=10**12)
    assert V.seed(0) == 0 and V.seed(2**32 - 1) == 2**32 - 1
    assert V.positive("h", "1e-3") == 1e-3
    for bad in (0, -1, np.inf, np.nan, "x", [1, 2]):
        with pytest.raises(SpecbiasError, match="^h "):
            V.positive("h", bad)
    assert V.scalar("beta", -2.0) == -2.0
    with pytest.raises(SpecbiasError, match=r"beta must lie in \[0, 1\]"):
        V.scalar("beta", 2.0, lo=0, hi=1)


def test_strict_json_writes_null_for_non_finite():
    from theory import output

    text = output.dumps({"a": np.nan, "b": [np.inf, 1.0, np.float32(2)], "c": np.arange(2), "d": (np.int64(3),)})
    assert text == '{"a": null, "b": [null, 1.0, 2.0], "c": [0, 1], "d": [3]}'


def test_memory_estimate_refuses_what_cannot_fit_and_allows_an_override():
    from numerics import budget

    with pytest.raises(SpecbiasError, match="memory"):
        budget.check_memory("training", 10 * 2**40, available=64 * 2**30)
    budget.check_memory("training", 10 * 2**40, available=64 * 2**30, allow_large=True)
    budget.check_memory("training", 2**30, available=64 * 2**30)
    # train linear --d 8192 at 32 levels: the 17 GB after 78 s, refused on a 16 GB machine
    need = budget.training_bytes(d=8192, levels=32, checkpoints=33, modes=8192)
    assert need > 17e9
    with pytest.raises(SpecbiasError, match="memory"):
        budget.check_memory("training", need, available=16 * 2**30)


TRAIN_CASES = [
    (dict(data="not a dataset"), "Dataset"),
    (dict(seed=-1), "seed"),
    (dict(device="cuda:abc"), "device"),
    (dict(device="tpu"), "device"),
    (dict(model_kwargs={"foo": 1}), "foo"),
    (dict(batch=8), "batch"),
    (dict(lr=0.1), "lr"),
    (dict(scale=0.1), "scale"),
    (dict(step_fraction=np.nan), "step_fraction"),
    (dict(n_checkpoints=0, steps=10), "n_checkpoints"),
    (dict(sigmas=np.geomspace(1e-3, 1.0, 10**7)), "memory"),
    (dict(h=1e-9, sigmas=[1.0]), "steps"),
    (dict(taus=[0, 1e15]), "steps"),
    (dict(steps=10**11), "steps"),
    (dict(eta=np.nan), "eta"),
    (dict(sigmas=[1e-150, 1e150], taus=[0, 1]), "sigmaT"),
    (dict(model_kwargs={"bias": "abc"}), "bias"),
    (dict(mode="samples", batch=10**8), "memory"),
]


@pytest.mark.parametrize("kw,frag", TRAIN_CASES, ids=[str(sorted(k))[:40] for k, _ in TRAIN_CASES])
def test_train_refuses_before_training(kw, frag):
    from numerics.train import train

    kw = dict(kw)
    ds = kw.pop("data", None) or D.gaussian(4, seed=0)
    with pytest.raises(SpecbiasError) as info:
        train("linear", ds, progress=False, **kw)
    assert frag in str(info.value) and "\n" not in str(info.value), str(info.value)


SIZED = [  # the model's own sizes count in the memory estimate made before anything is built
    ("two_layer", dict(model_kwargs={"hidden": 2**24}), "memory"),
    ("deep_linear", dict(params={"L": 1000}, sigmas=np.geomspace(0.01, 10, 64)), "memory"),  # d = 512: 270 GB
]


@pytest.mark.parametrize("arch,kw,frag", SIZED, ids=[f"{a}-{sorted(k.items())}"[:50] for a, k, _ in SIZED])
def test_model_sizes_are_estimated_before_building(arch, kw, frag):
    from numerics.train import train

    d = {"two_layer": 64, "deep_linear": 512}[arch] if frag == "memory" else 2
    with pytest.raises(SpecbiasError) as info:
        train(arch, D.gaussian(d, seed=0), progress=False, **kw)
    assert frag in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_network_sizes_are_estimated_on_the_meta_device():
    from numerics import budget
    from numerics.nets import train as train_net
    from numerics.nets.models import net_class

    small = budget.network_bytes(net_class("mlp"), (8,), {"width": 16, "depth": 1}, batch=4)
    big = budget.network_bytes(net_class("mlp"), (8,), {"width": 10**6, "depth": 1}, batch=4)
    assert 0 < small < 1e6 and big > 1e12  # a 10⁶-wide layer pair has > 10¹² bytes of weights × copies
    with pytest.raises(SpecbiasError, match="memory"):
        train_net.train_net("mlp", D.gaussian(8, seed=0), net_options={"width": 10**6}, progress=False)
    with pytest.raises(SpecbiasError, match="samples"):
        train_net.train_net("mlp", D.gaussian(8, seed=0), n_samples=10**8, bootstrap=10**6, progress=False)


def test_time_estimate_counts_parameter_tensors_and_notes_long_runs(capsys):
    """The time estimate is not a bound (levels that converge stop early: the default circulant run was
    estimated at 6.8 min and took 30 s), so a long estimate prints one note line and never refuses."""
    from numerics import budget

    budget.check_steps(5000, 2, tensors=2)  # one-layer: a second
    assert capsys.readouterr().err == ""
    assert budget.check_steps(5000, 2, tensors=51, n_estimate=55277) == 5000  # deep_linear L = 50, d = 2
    err = capsys.readouterr().err
    assert err.startswith("specbias: note: training may take up to") and len(err.splitlines()) == 1
    budget.check_steps(5000, 2, tensors=51, n_estimate=55277, allow_large=True)
    assert capsys.readouterr().err == ""
    assert budget.step_seconds(1000, 2, 51) > 10 * budget.step_seconds(1000, 2, 2)


def test_flow_matching_keeps_Q_where_the_optimum_is_huge():
    """t = 1 − 1e−16, λ = 1e−100: w* ≈ −1e16, and w* + (Q − w*)e^{−x} returned 0 at τ = 0 (mpmath: Q = 1);
    found by the range-edge property (float64 vs mpmath)."""
    arch, lam, t = theory.get("flow_matching"), np.full(3, 1e-100), 1 - 2**-53
    assert np.array_equal(arch.weight(lam, t, 0.0, eta=1e-50, Q=1.0), np.ones(3))
    ref = np.array(arch.weight(lam, t, 1e-3, Q=0.5, dps=40), dtype=float)
    assert np.allclose(arch.weight(lam, t, 1e-3, Q=0.5), ref, rtol=1e-12, atol=1e-12)


def test_no_emerging_mode_gives_no_fit_not_an_error():
    from verify.departure import high_variance_fit

    fit = high_variance_fit(np.array([1.0, 0.5]), np.array([np.nan, np.nan]), 0.1)
    assert fit.n == 0 and np.isnan(fit.alpha)


def test_allow_large_overrides_the_step_estimate():
    from numerics.train import train

    run = train("linear", D.gaussian(2, seed=0), sigmas=[1.0], steps=3, h=1e-9, n_checkpoints=3,
                progress=False, allow_large=True)
    assert run.meta["total_steps"] == 3


W4 = np.tile(0.5 * np.eye(3), (4, 1, 1))
S4 = np.geomspace(0.01, 10.0, 4)
MEASURE_CASES = [
    (dict(W=W4 + 1j), "W must be real"),
    (dict(method="x"), "method"),
    (dict(device="tpu"), "device"),
    (dict(sigmaT=1e308), "sigmaT"),
    (dict(max_step=np.nan), "max_step"),
    (dict(method="samples", n_samples=10**9), "memory"),
    (dict(method="samples", n_samples=10, seed=-1), "seed"),
    (dict(method="samples", n_samples=10, rho=np.nan), "rho"),
    (dict(method="samples", n_samples=10, steps=0), "steps"),
]


@pytest.mark.parametrize("kw,frag", MEASURE_CASES, ids=[str(sorted(k)) for k, _ in MEASURE_CASES])
def test_measure_refuses_before_compute(kw, frag):
    from numerics.measure import measure

    kw = dict(kw)
    W = kw.pop("W", W4)
    with pytest.raises(SpecbiasError) as info:
        measure(W, None, S4, **kw)
    assert frag in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_measure_detaches_tensors_with_gradients():
    from numerics.measure import measure

    W = torch.tensor(W4, requires_grad=True)
    a, b = measure(W, None, S4), measure(W4, None, S4)
    assert np.array_equal(a.covariance, b.covariance) and np.isfinite(a.covariance).all()


def test_interrupted_run_save_keeps_the_previous_files(tmp_path, monkeypatch):
    from numerics.train import train

    run = train("linear", D.gaussian(2, seed=0), sigmas=[1.0], taus=[0, 0.1], progress=False)
    run.save(tmp_path)
    before = (tmp_path / "run.npz").read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(KeyboardInterrupt):
        run.save(tmp_path)
    assert (tmp_path / "run.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.npz"]


def test_undefined_answers_are_nan_and_defaults_still_hold():
    """The fixed silent answers' legal neighbours: equal λ make the simultaneity undefined (NaN, it was
    inf); d may be left out, or match, when variances are given; plateau over every checkpoint is
    last = J; the MSE of the spiked model stays ≥ 0 on its whole range (independent check:
    the expanded polynomial λ − 2hλα² + h²(λα² + s²))."""
    from theory.spiked import covariance as spiked
    from verify import departure

    assert np.isnan(departure.simultaneity(np.ones(5), np.arange(1.0, 6.0), 0.01))
    assert D.gaussian(lam=[1.0] * 15).d == 15 and D.gaussian(15, lam=[1.0] * 15).d == 15
    assert D.gaussian().d == 64 and D.gaussian(8).d == 8
    run = _net_run()
    np.testing.assert_array_equal(_nl().plateau(run, last=5)["mean"], (run.var_eigen / run.lam_eigen).mean(0))
    rng = np.random.default_rng(0)
    h, lam, s2, a2 = rng.uniform(-3, 3, 4000), rng.uniform(0, 5, 4000), rng.uniform(0, 2, 4000), rng.uniform(0, 1, 4000)
    got = spiked.mse(h, lam, s2, a2)
    assert (got >= 0).all()
    np.testing.assert_allclose(got, lam - 2 * h * lam * a2 + h**2 * (lam * a2 + s2), rtol=1e-12, atol=1e-12)
    assert spiked.mse(1.0, 2.0, 0.0, 1.0) == 0.0  # the perfect denoiser: exactly zero, never −ε
