"""theory.solve (`derive --solve`): the registry re-derived from θ, ψ, L and the initial value alone; the
solved forms must equal the hand-written ones, and a changed loss must make them differ."""
import time

import numpy as np
import pytest
import solve_specs as SPECS
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import theory
from theory import derive as D
from theory import symbols as S
from theory.solve import solve
from verify.properties import strategies as vs
from verify.tolerances import tol

FAST = ("linear", "circulant", "sym_two_layer", "flow_matching")  # each solves in < 7 s
SLOW = ("circulant", "sym_two_layer", "flow_matching")
_cache = {}


def solved(name, **kw):
    key = (name, tuple(sorted(kw.items())))
    if key not in _cache:
        start = time.perf_counter()
        _cache[key] = solve(SPECS.REGISTRY[name](**kw))
        _cache[key].wall = time.perf_counter() - start
    return _cache[key]


def same(name, expr, reference, what):
    check = D.check_zero(name, sp.expand(expr - reference), what)
    return check.ok, check


def generated(arch_or_lnH, family):
    return family.log_variance_expr(arch_or_lnH)


def assert_rederived(name):
    got, ref = solved(name), theory.get(name)
    ok, check = same("solution", got.solution(), ref.solution(), "solved ψ − hand-written ψ")
    assert ok, check.detail
    assert got.anti.expr is not None, got.anti.note
    ok, check = same("generated", generated(got.log_H(), got.sampling), generated(ref.log_H(), ref.sampling),
                     "solved ln λ̃ − hand-written ln λ̃")
    assert ok, check.detail


def assert_float64_agrees(name, lam, tau, Q):
    got, ref = solved(name), theory.get(name)
    t = tol("float64-vs-mpmath")
    lam = np.asarray(lam)
    a, b = got.log_generated_variance(lam, tau, Q=Q), ref.log_generated_variance(lam, tau, Q=Q)
    assert np.all(np.abs(a - b) <= t.rel * np.maximum(1.0, np.abs(b))), (a, b, t.reason)
    x = 0.4 if got.sampling.variable == S.t else 0.7
    np.testing.assert_allclose(got.weight(lam, x, tau, Q=Q), ref.weight(lam, x, tau, Q=Q), rtol=t.rel, atol=1e-14)


@pytest.mark.parametrize("name", FAST)
def test_rederives_the_registry_closed_forms(name):
    assert_rederived(name)


@settings(max_examples=10, deadline=None)
@given(lam=st.lists(vs.variances(1e-4, 1e3), min_size=3, max_size=3), tau=st.just(0.0) | vs.times(1e-6, 1e4),
       Q=st.floats(0.0, 1.0))
def test_generated_float64_agrees_with_hand_written_linear(lam, tau, Q):
    assert_float64_agrees("linear", lam, tau, Q)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_generated_float64_agrees_with_hand_written(name):
    @settings(max_examples=10, deadline=None)
    @given(lam=st.lists(vs.variances(1e-4, 1e3), min_size=3, max_size=3), tau=vs.times(1e-3, 1e3),
           Q=st.floats(0.05, 1.0))
    def prop(lam, tau, Q):
        assert_float64_agrees(name, lam, tau, Q)
    prop()


@pytest.mark.parametrize("broken", [{"two": 1}, {"noise": 0}], ids=["missing-factor-2", "dropped-sigma2"])
def test_a_changed_loss_is_caught(broken):
    got = solve(SPECS.linear(**broken))
    ok, _ = same("solution", got.solution(), theory.get("linear").solution(), "solved ψ − hand-written ψ")
    assert not ok


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
@pytest.mark.parametrize("broken", [{"two": 1}, {"noise": 0}], ids=["missing-factor-2", "dropped-sigma2"])
def test_a_changed_loss_is_caught_slow(name, broken):
    got = solve(SPECS.REGISTRY[name](**broken))
    ref = theory.get(name)
    assert got.solved_gain.solution is not None, got.solved_gain.note
    ok, _ = same("solution", got.solution(), ref.solution(), "solved ψ − hand-written ψ")
    assert not ok


def test_coupled_parameters_are_reported_not_solved():
    with pytest.raises(theory.SpecbiasError, match="coupled system: the gain ODE still holds b"):
        solve(SPECS.linear_mean())


def test_logistic_class_is_named():
    from theory.solve.ode import classify
    assert classify(8 * S.eta * S.lam * S.psi * (1 - S.psi / S.K)).startswith("Bernoulli")
    assert classify(-2 * S.eta * ((S.sigma**2 + S.lam) * S.psi - S.lam)).startswith("linear")
    assert classify(S.psi ** sp.Rational(4, 3) * (1 - S.psi)).startswith("separable")


def test_cancelling_pieces_fall_back_to_quadrature_and_are_counted():
    """A closed form whose pieces cancel (here a ±1e6 pair of nearly equal Ei terms added to linear's)
    is not trusted: every entry goes to Gauss–Legendre quadrature of ψ, and the count says so."""
    from theory.solve.arch import SolvedArchitecture
    from theory.solve.sampling import Antiderivative, EiPiece

    got = solved("linear")
    A, big = 2 * S.eta * S.tau, sp.Integer(10**6)
    extra = [EiPiece(big, A, S.sigma**2), EiPiece(-big, A, S.sigma**2 * (1 + sp.Rational(1, 10**9)))]
    anti = Antiderivative(got.anti.expr + sum(p.expr for p in extra), got.anti.ei + extra, got.anti.rest)
    shaky = SolvedArchitecture(got.spec, got.solved_gain, anti, 0.0)
    lam = np.geomspace(1e-3, 1e2, 6)
    out = shaky.log_generated_variance(lam, 0.5, Q=0.1)
    assert shaky.fallbacks.entries == lam.size and "τ = 0.5" in shaky.fallbacks.last
    ref = theory.get("linear").log_generated_variance(lam, 0.5, Q=0.1)
    assert np.all(np.abs(out - ref) <= tol("closed-form-vs-quadrature").rel * np.maximum(1, np.abs(ref)))


@pytest.mark.parametrize("ode", [8 * S.eta * S.lam * S.psi * (1 - S.psi / S.K),
                                 -2 * S.eta * ((S.sigma**2 + S.lam) * S.psi - S.lam)], ids=["logistic", "linear"])
def test_without_dsolve_the_canonical_solution_is_checked_by_substitution(ode):
    """A loaded machine where dsolve gets no time still solves the linear and Bernoulli classes, and the
    answer is the hand-written one."""
    from theory.solve.ode import solve_gain

    got = solve_gain(sp.expand(ode), seconds=1e-3)
    assert "checked by substitution" in got.note
    ref = theory.get("sym_two_layer" if "logistic" in got.kind else "linear").solution()
    assert same("solution", got.solution, ref, "ψ − hand-written ψ")[0]
