"""The closed-form separable integral τ(ψ) of theory.solve.implicit (deep linear L = 3) and the ψ(τ)
evaluators built on it, each against a computation that does not use that closed form: scipy quad of
1/f for τ(ψ), and the mpmath tanh-sinh separable integral (weight_mp_quadrature) for ψ."""
import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad

from theory import symbols as S
from theory.solve import Antiderivative, Spec, SolvedArchitecture
from theory.solve.implicit import implicit_time
from theory.solve.numeric import SeparableGain
from theory.solve.ode import GainSolution, classify, derive_ode, fixed_point
from verify.properties.architectures import _float64_matches_mpmath
from verify.tolerances import tol

a = sp.symbols("a1:4", positive=True)
g = a[0] * a[1] * a[2]
SPEC = Spec("deep3_implicit_t", theta=a, gain=g, loss=S.denoiser_loss(g),
            reduce={ai: S.psi ** sp.Rational(1, 3) for ai in a})
ODE = derive_ode(SPEC)
K = fixed_point(ODE, S.Q)
# what solve() builds, without its 8 s dsolve attempt (test_solve_examples runs that path)
ARCH = SolvedArchitecture(SPEC, GainSolution(ODE, classify(ODE), (), None, K, "implicit τ(ψ) in closed form",
                                             implicit_time(ODE, K)[0]), Antiderivative(None), 0.0)
# (λ, σ, τ, Q, η): ψ* = λ/(λ + σ²) ≪ Q (closed form cancels, u ≫ 1), Q ≪ ψ* at τ below the z-scan,
# and ordinary points on both sides of ψ*
POINTS = [(1.0048583154338697e-4, 57.51507295260551, 5.003201804907763e-6, 0.18164783630665426, 1.0),
          (0.09189357400366181, 0.06894421775784375, 0.007977203568355554, 1e-12, 0.11411925203639998),
          (0.3, 0.5, 2.0, 0.1, 1.0), (5.0, 3.0, 0.05, 0.9, 2.0), (1e-3, 1e-3, 1e4, 0.5, 0.01)]


def test_deep3_gets_a_closed_form_tau_of_psi():
    imp, why = implicit_time(ODE, K)
    assert imp is not None, why
    assert imp.q == 3 and imp.check.ok and imp.dG_y is not None


@pytest.mark.parametrize("point", POINTS[2:] + [(1e-4, 50.0, 0.0, 0.2, 1.0)])
def test_closed_form_tau_equals_quad_of_the_separable_integral(point):
    lam, sigma, _, Q, eta = point
    f = sp.lambdify(S.psi, ODE.subs({S.lam: lam, S.sigma: sigma, S.eta: eta}))
    # in mpmath at 30 digits: in float64 the formula as printed cancels where ψ, Q ≫ ψ* (8e−6 relative at
    # the last point; the evaluator integrates that part in y = 1/u instead)
    tau_of = sp.lambdify((S.psi, S.Q, S.lam, S.sigma, S.eta), ARCH.solved_gain.implicit.tau_expr(K), "mpmath")
    Kv = lam / (lam + sigma**2)
    for frac in (0.1, 0.5, 0.9):
        psi = Q + frac * (Kv - Q)
        ref = quad(lambda x: 1.0 / f(x), Q, psi, epsabs=0, epsrel=1e-13, limit=200)[0]
        with mp.workdps(30):
            got = float(tau_of(*map(mp.mpf, (psi, Q, lam, sigma, eta))))
        assert abs(got - ref) <= 1e-10 * abs(ref), (point, frac)


@pytest.mark.parametrize("point", POINTS)
def test_float64_psi_equals_the_independent_mpmath_integral(point):
    """Includes the two regions the first version of the closed-form path got wrong (errors 2.5e−6 and
    4e−6): ψ* ≪ Q, where G(u) − G(u₀) cancels, and τ below the bracketing scan."""
    lam, sigma, tau, Q, eta = point
    got = float(ARCH.numeric.weight(lam, sigma, tau, Q, eta))
    with mp.workdps(30):
        ref = ARCH.numeric.weight_mp_quadrature(*map(mp.mpf, point))
        closed = ARCH.numeric.weight_mp_closed(*map(mp.mpf, point))
        # the two mpmath references (the quadrature one forms ψ = ψ* − (ψ* − Q)e^{−v}: ~1e−20 in ψ at 30 digits)
        assert abs(closed - ref) <= mp.mpf(10) ** -18 * abs(ref), point
    assert abs(got - float(ref)) <= tol("float64-vs-mpmath").rel * abs(float(ref)), (point, got, float(ref))


def test_a_perturbed_float64_evaluator_fails_float64_vs_mpmath(monkeypatch):
    """The checker behind `verify`'s float64-vs-mpmath, fed the deep3 evaluator with its float64 rate A
    off by 1e−6 (the mpmath reference keeps the true one): it must fail."""
    args = dict(lam=np.array([0.05, 0.8, 6.0]), x=0.7, tau=0.4, Q=0.3)
    _float64_matches_mpmath(ARCH, **args)  # the true evaluator passes
    A = ARCH.numeric.A
    monkeypatch.setattr(ARCH.numeric, "A", lambda *r: A(*r) * (1 + 1e-6))
    with pytest.raises(AssertionError, match="does not match"):
        _float64_matches_mpmath(ARCH, **args)


def test_the_implicit_path_is_generic_deep_linear_L4():
    """Nothing above is specific to L = 3: at L = 4 (q = 2, G = 2/u + ln|u − 1| − ln(u + 1)) the float64
    ψ matches the independent mpmath separable integral."""
    b = sp.symbols("b1:5", positive=True)
    gb = sp.Mul(*b)
    ode = derive_ode(Spec("deep4_t", theta=b, gain=gb, loss=S.denoiser_loss(gb),
                          reduce={bi: S.psi ** sp.Rational(1, 4) for bi in b}))
    fp = fixed_point(ode, S.Q)
    imp, why = implicit_time(ode, fp)
    assert imp is not None and imp.q == 2, why
    gain = SeparableGain(ode, fp, (), imp)
    for point in [(0.1, 0.7, 3.0, 0.1, 1.0), (1e-4, 50.0, 1e-5, 0.2, 1.0), (5.0, 0.05, 0.2, 0.9, 1.0)]:
        got = float(gain.weight(*point))
        with mp.workdps(30):
            ref = float(gain.weight_mp_quadrature(*map(mp.mpf, point)))
        assert abs(got - ref) <= tol("float64-vs-mpmath").rel * abs(ref), (point, got, ref)
