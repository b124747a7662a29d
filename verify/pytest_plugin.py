"""specbias as a pytest plugin: property-based regression tests of a researcher's own theory.

Loaded through the `pytest11` entry point (pyproject), or with `pytest -p verify.pytest_plugin`, or
`pytest_plugins = ["verify.pytest_plugin"]` in a conftest. It adds:

- options `--specbias-arch NAME` (default linear) and `--specbias-module PATH` (repeatable; loaded with
  theory.load_module, the CLI's --module path);
- fixtures `specbias_arch` (the architecture: `@pytest.mark.specbias_arch("name" or "file.py")`, or the
  options), `specbias_load` (load any architecture by name or module path), `specbias_spectrum` (8 variances
  from 1e−2 to 10, as the architecture's spectrum) and `specbias_taus` / `specbias_levels` (time and noise
  grids);
- Hypothesis strategies, `verify.pytest_plugin.strategies` (spectra, variances, times, gains, architectures);
- assertions with the project's tolerance table (verify.tolerances): `assert_float64_matches_mpmath`
  (the float64 code against the claimed closed form in 30-digit mpmath) and
  `assert_theory_matches_training` (a small torch model trained by gradient descent against the closed form).

See docs/pytest_plugin.md for a researcher's test file.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

__all__ = ["assert_float64_matches_mpmath", "assert_theory_matches_training", "fixture_settings", "strategies"]


def fixture_settings(max_examples: int = 10, **kw):
    """Hypothesis settings for a @given test that also takes the plugin's fixtures: no deadline (the first
    call compiles the closed forms) and the function-scoped-fixture health check off (the fixtures are
    read-only)."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=max_examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture], **kw)


class strategies:  # noqa: N801 - a namespace: `from verify.pytest_plugin import strategies as sb`
    """Hypothesis strategies for a researcher's property tests (verify.properties.strategies, plus
    architectures)."""

    @staticmethod
    def variances(lo: float = 1e-4, hi: float = 1e3):
        from verify.properties import strategies as vs

        return vs.variances(lo, hi)

    @staticmethod
    def times(lo: float = 1e-5, hi: float = 1e4):
        from verify.properties import strategies as vs

        return vs.times(lo, hi)

    @staticmethod
    def spectra(d=None, kind=None, max_condition: float = 1e6):
        """Sorted positive spectra (log-uniform, power-law, log-normal, degenerate), condition ≤ max_condition."""
        from verify.properties import strategies as vs

        return vs.spectra(d=d, kind=kind, max_condition=max_condition)

    @staticmethod
    def gains(arch="linear"):
        from verify.properties import strategies as vs

        return vs.gains(arch)

    @staticmethod
    def architectures(names=None):
        """Registered architecture names (all, or those given)."""
        import theory

        return st.sampled_from(sorted(names or theory.available()))


def assert_float64_matches_mpmath(arch, lam, tau, Q=0.1, level=None, eta: float = 1.0) -> None:
    """The float64 path of `arch` (ψ at `level`, default σ = 1 or t = 1/2, and ln λ̃) equals the claimed
    closed form evaluated in 30-digit mpmath, within tol('float64-vs-mpmath'); AssertionError says where."""
    import theory
    from verify.properties.architectures import _float64_matches_mpmath

    arch = theory.get(arch)
    level = (1.0 if arch.sampling.variable.name == "sigma" else 0.5) if level is None else level
    _float64_matches_mpmath(arch, arch.as_spectrum(np.asarray(lam, float)), level, float(tau), Q, eta)


def assert_theory_matches_training(arch, lam=None, d: int = 8, Q: float = 0.1, seed: int = 0,
                                   checkpoints: int = 8, levels: int = 16):
    """Train the architecture's torch model (population gradient descent, d modes drawn from `lam` or the
    paper's log-normal spectrum) until every mode has emerged, and assert that the trained gains and the
    exact generated variance follow the closed form within the tolerance table (verify.agreement.compare:
    trajectory-gd-bound, log-variance-trained). Returns the Agreement."""
    import theory
    from numerics import data, train
    from verify.agreement import compare
    from verify.report.data import Preset, training_window
    from verify.setups import has_model, training_setup

    arch = theory.get(arch)
    if not has_model(arch):
        pytest.skip(f"{arch.name} declares no torch model: theory-vs-training cannot run")
    lam = data.spectrum("lognormal", d, seed=seed) if lam is None else np.asarray(lam, float)
    ds, kw = training_setup(arch, d, lam, seed, levels=levels)
    window = training_window(arch, ds.basis(arch.basis)[0], Preset(train_tau_max=1.0), Q, kw["params"])
    run = train.train(arch.name, ds, Q=Q, taus=np.geomspace(1e-3, window["tau_max"], checkpoints),
                      keep_weights=True, progress=False, **kw)
    agreement = compare(run, ds, ds.name)
    s = agreement.summary()
    assert s["ok"], (f"{arch.name}: the trained torch model does not follow the closed form: worst |Δψ| = "
                     f"{s['worst_weight_error']:.3g} (allowed {s['weight_tolerance']['abs']:.3g}), worst "
                     f"|Δ ln λ̃| = {s['worst_log_variance_error']:.3g} (allowed "
                     f"{s['log_variance_tolerance']['abs']:.3g}); {s['weight_tolerance']['reason']}")
    return agreement


# ---- pytest hooks and fixtures ------------------------------------------------------------------
def pytest_addoption(parser):
    group = parser.getgroup("specbias", "specbias: a researcher's architecture under test")
    group.addoption("--specbias-arch", default=None, help="architecture name for the specbias_arch fixture")
    group.addoption("--specbias-module", action="append", default=[], metavar="PATH",
                    help="architecture module(s) to load first (theory.load_module)")


def pytest_configure(config):
    config.addinivalue_line("markers", "specbias_arch(name_or_path): the architecture of the specbias_arch "
                            "fixture in this test")


@pytest.fixture
def specbias_load():
    """load(name_or_path) → Architecture; a module path is loaded with theory.load_module, and what it
    registered is unregistered after the test."""
    import theory

    added = []

    def load(name_or_path):
        if str(name_or_path).endswith(".py"):
            archs = theory.load_module(str(name_or_path))
            added.extend(a.name for a in archs)
            return archs[0]
        return theory.get(name_or_path)

    yield load
    for name in added:
        theory.unregister(name)


@pytest.fixture
def specbias_arch(request, specbias_load):
    """The architecture under test: the test's specbias_arch marker, else --specbias-module's first
    architecture or --specbias-arch, else linear."""
    marker = request.node.get_closest_marker("specbias_arch")
    if marker is not None:
        return specbias_load(marker.args[0])
    loaded = [specbias_load(p) for p in request.config.getoption("--specbias-module")]
    name = request.config.getoption("--specbias-arch")
    if name:
        return specbias_load(name)
    return loaded[0] if loaded else specbias_load("linear")


@pytest.fixture
def specbias_spectrum(specbias_arch):
    """Eight variances log-spaced from 10 down to 1e−2, as the architecture's spectrum."""
    return specbias_arch.as_spectrum(np.geomspace(10.0, 1e-2, 8))


@pytest.fixture
def specbias_taus():
    """τ = 0 and 24 log-spaced training times from 1e−3 to 1e3."""
    return np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 24)])


@pytest.fixture
def specbias_levels(specbias_arch):
    """The architecture's level grid: 16 noise levels σ ∈ [0.002, 80] (flow times t ∈ (0, 1) for flows)."""
    if specbias_arch.sampling.variable.name == "t":
        return np.linspace(0.05, 0.95, 16)
    return np.geomspace(0.002, 80.0, 16)
