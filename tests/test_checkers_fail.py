"""Every checker must be able to fail: each is fed a known-wrong input and must reject it.

Each test below was run once against the deliberately broken checker it guards (issue 8, §4): the
float64-vs-mpmath property made vacuous, the τ → ∞ optimum consistency check made vacuous, the
agreement's log-variance error forced to 0, checkpoint interpolation made linear in τ, and the exponent
CI taken from a normal quantile instead of Student's t.
"""
import numpy as np
import pytest

import theory
from theory.archs.linear import Linear
from theory.emergence import emergence_from_checkpoints
from verify import consistency
from verify.properties.engine import run_property
from verify.tolerances import tol


class _Drift(Linear):
    """The one-layer model whose float64 code is off by a relative 1e−7 (a transcription slip far
    below anything a plot shows, 100× the float64-vs-mpmath tolerance)."""
    name = "drift_f64"

    def _weight(self, *a, **p):
        return super()._weight(*a, **p) * (1 + 1e-7)

    def _log_variance(self, *a, **p):
        return super()._log_variance(*a, **p) * (1 + 1e-7)


class _WrongOptimum(Linear):
    """Declares λ̃(∞) 5% too large: the closed form's own τ → ∞ limit disagrees with it."""
    name = "wrong_optimum"

    def optimum_log_variance(self, lam, sigma0, sigmaT, **p):
        return self.sampling.optimum_log_variance(lam, sigma0, sigmaT) + 0.05


class _WrongVariance(Linear):
    """Right weights, generated variance off by a factor e^{0.5}: only ln λ̃ can catch it."""
    name = "wrong_variance"

    def _log_variance(self, *a, **p):
        return super()._log_variance(*a, **p) + 0.5


@pytest.fixture
def wrong():
    made = []

    def register(cls):
        made.append(cls.name)
        return theory.register(cls())

    yield register
    for name in made:
        theory.unregister(name)


def test_float64_vs_mpmath_rejects_a_slightly_wrong_float64_path(wrong):
    wrong(_Drift)
    out = run_property("drift_f64", "float64-vs-mpmath", "ci")
    assert not out.ok and "mpmath" in out.message


def test_tau_inf_optimum_rejects_a_wrong_declared_optimum(wrong):
    wrong(_WrongOptimum)
    got = {c.name: c for c in consistency.check("wrong_optimum", [0.01, 1.0, 30.0], [1.0], 0.1, 0.2)}
    assert not got["tau-inf-optimum"].ok
    assert got["tau-inf-optimum"].error == pytest.approx(0.05, rel=1e-3)
    assert all(c.ok for n, c in got.items() if n != "tau-inf-optimum")  # only the optimum is wrong
    right = {c.name: c for c in consistency.check("linear", [0.01, 1.0, 30.0], [1.0], 0.1, 0.2)}
    assert right["tau-inf-optimum"].ok


def test_agreement_measures_the_log_variance_error(wrong):
    """Training cannot match a theory whose λ̃ is off by e^{0.5}; the weights still agree."""
    from numerics import train
    from verify.agreement import compare
    from verify.setups import training_setup

    arch = wrong(_WrongVariance)
    ds, kw = training_setup(arch, 3, np.array([0.3, 1.0, 3.0]), seed=0, levels=24)
    run = train.train("wrong_variance", ds, Q=0.1, taus=np.array([0.05, 1.0, 20.0]), keep_weights=True,
                      progress=False, **kw)
    a = compare(run, ds)
    assert a.weights_ok and not a.variance_ok
    t = tol("log-variance-trained").abs
    assert 0.5 - t <= np.max(a.logvar_error) <= 0.5 + t
    assert np.all(a.logvar_error >= 0.5 - t)  # every checkpoint and mode sees the offset


def test_checkpoint_crossing_is_exact_for_a_power_law():
    """Log–log interpolation (theory.md §4.1) is exact when λ̃ is a power of τ between checkpoints;
    interpolating linearly in τ (or in λ̃) is not."""
    v0, lam = 1e-3, np.array([0.1, 1.0, 10.0])
    p = np.array([0.7, 1.3, 2.0])  # λ̃ = v0 (τ/τ0)^p, τ0 = 1e-3
    tau = np.geomspace(1e-3, 1e3, 7)  # coarse: one checkpoint per decade
    lt = v0 * (tau[None, :] / 1e-3) ** p[:, None]
    exact = 1e-3 * (np.sqrt(v0 * lam) / v0) ** (1 / p)  # geometric threshold √(v0 λ)
    got = emergence_from_checkpoints(tau, lt, v0, lam)
    np.testing.assert_allclose(got, exact, rtol=1e-12)


@pytest.mark.parametrize("n,t975", [(4, 4.303), (5, 3.182), (8, 2.447), (12, 2.228)])
def test_exponent_ci_uses_students_t(n, t975):
    """95% CI half-width = t_{0.975, N−2} × the slope's standard error (t-table values), not 1.96 ×."""
    x = np.linspace(0.0, 1.0, n)
    noise = np.cos(7.0 * np.arange(n))  # fixed, not collinear with x
    lam, tau = np.exp(x), np.exp(-1.1 * x + 0.05 * noise)
    fit = theory.fit_exponent(lam, tau)["all"]
    X = np.stack([np.ones(n), x], 1)
    coef, ssr, *_ = np.linalg.lstsq(X, np.log(tau), rcond=None)
    stderr = np.sqrt(ssr[0] / (n - 2) / np.sum((x - x.mean()) ** 2))
    assert fit.alpha == pytest.approx(-coef[1], rel=1e-12)
    half = 0.5 * (fit.ci[1] - fit.ci[0])
    assert half / stderr == pytest.approx(t975, abs=1e-3)
