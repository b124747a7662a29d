"""The `derive --solve` examples of docs/extending.md §0 and the no-closed-form path: each checked against
an independent computation (the hand-written architecture, scipy's solve_ivp of the derived gain ODE,
scipy quad of the sampling integral) and, in the slow tier, against training through `verify`."""
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad, solve_ivp

import theory
from theory import derive as D
from theory import symbols as S
from theory.solve import Spec, solve
from theory.solve.implicit import implicit_time
from theory.solve.numeric import SeparableGain
from theory.solve.ode import derive_ode, fixed_point
from verify.cli import main
from verify.tolerances import tol

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
NAMES = ("ridge", "eps_prediction", "lr_schedule", "deep3")


def example(name):
    return str(EXAMPLES / f"solve_{name}.py")


def deep3_spec():
    a = sp.symbols("a1:4", positive=True)
    g = a[0] * a[1] * a[2]
    return Spec("deep3_t", theta=a, gain=g, loss=S.denoiser_loss(g),
                reduce={ai: S.psi ** sp.Rational(1, 3) for ai in a})


def test_solve_refuses_a_name_and_a_hand_written_module(capsys):
    assert main(["derive", "--solve", "linear"]) == 2
    assert "specbias: error: --solve takes a module path" in capsys.readouterr().err
    assert main(["derive", "--solve", str(EXAMPLES / "ridge_linear.py")]) == 2
    assert "registers no solved architecture" in capsys.readouterr().err
    theory.unregister("ridge_linear")


def test_eps_prediction_gives_the_one_layer_law():
    v = sp.Symbol("v", real=True)
    got = solve(Spec("eps_t", theta=(v,), gain=1 - S.sigma * v, loss=v**2 * (S.lam + S.sigma**2) - 2 * S.sigma * v + 1,
                     reduce={v: (1 - S.psi) / S.sigma}))
    assert D.check_zero("eps", got.solution() - theory.get("linear").solution(), "ε-prediction ψ − one-layer ψ").ok


@pytest.mark.parametrize("closed", [True, False], ids=["closed-form-tau", "running-quadrature"])
def test_separable_gain_matches_solve_ivp_of_the_derived_ode(closed):
    """The no-closed-form path (deep linear L = 3) against an independent ODE solution, both ways: ψ from
    the closed-form τ(ψ) (theory.solve.implicit) and from the running quadrature of the separable integral."""
    ode = derive_ode(deep3_spec())
    fp = fixed_point(ode, S.Q)
    gain = SeparableGain(ode, fp, (), implicit_time(ode, fp)[0] if closed else None)
    f = sp.lambdify((S.psi, S.lam, S.sigma), ode.subs(S.eta, 1), "numpy")
    t = tol("ode-solver")
    points = [(0.1, 0.7, 3.0, 0.1), (5.0, 0.05, 0.2, 0.9), (1e-3, 2.0, 40.0, 0.5), (30.0, 10.0, 1e-3, 0.02)]
    for lam, sigma, tau, Q in points:
        ref = solve_ivp(lambda _, y, lam=lam, sigma=sigma: f(y, lam, sigma), (0, tau), [Q], method="DOP853",
                        rtol=1e-12, atol=1e-14).y[0, -1]
        got = float(gain.weight(lam, sigma, tau, Q, 1.0))
        assert abs(got - ref) <= max(t.abs, t.rel * abs(ref)), (lam, sigma, tau, Q, got, ref)


def test_solved_ridge_equals_the_hand_written_example():
    (hand,) = theory.load_module(str(EXAMPLES / "ridge_linear.py"))
    try:
        rho = sp.Symbol("rho", positive=True)
        got = solve(Spec("ridge_t", loss=S.denoiser_loss(S.psi) + rho * S.psi**2, params={"rho": 0.01}))
        assert D.check_zero("ridge", got.solution(rho=rho) - hand.solution(rho=rho), "ψ").ok
        lam, tau = np.geomspace(1e-4, 1e3, 9), np.array([0.0, 1e-3, 1.0, 1e3])[:, None]
        a, b = got.log_generated_variance(lam, tau), hand.log_generated_variance(lam, tau)
        assert np.all(np.abs(a - b) <= tol("float64-vs-mpmath").rel * np.maximum(1, np.abs(b)))
    finally:
        theory.unregister("ridge_linear")


def _quad(arch, lam, tau, Q, **p):
    f = lambda s: 1.0 - float(arch.weight(lam, np.exp(s), tau, Q=Q, **p)[0])
    return np.log(80.0**2) - 2 * quad(f, np.log(0.002), np.log(80.0), limit=400, epsabs=1e-13, epsrel=1e-13)[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_example_derive_solve(name, capsys):
    assert main(["derive", "--solve", example(name)]) == 0
    out = capsys.readouterr().out
    assert "result: all checks pass" in out and "ODE class" in out
    if name == "deep3":
        assert "no explicit closed form: separable" in out and "implicit τ(ψ) in closed form" in out
        assert "def tau_of_psi(" in out and r"\tau(\psi) =" in out
    elif name == "lr_schedule":
        assert "sampling integral   no closed form found" in out
    else:
        assert r"\psi(\sigma,\tau) =" in out and "def log_generated_variance" in out
    arch = theory.get(f"solve_{name}")
    t = tol("closed-form-vs-quadrature")
    for lam, tau, Q in [(0.05, 0.5, 0.1), (3.0, 0.02, 0.8)]:
        ref = _quad(arch, np.array([lam]), tau, Q)
        got = float(arch.log_generated_variance(np.array([lam]), tau, Q=Q)[0])
        assert abs(got - ref) <= t.rel * max(1.0, abs(ref)), (name, lam, tau, Q, got, ref)
    theory.unregister(f"solve_{name}")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_example_verifies_with_the_ci_profile(name, capsys):
    """Every property, float64-vs-mpmath included, and theory-vs-numerics: the declared torch model trained
    by gradient descent. deep3 (no explicit ψ(τ)) verifies through its closed-form τ(ψ) and quadrature
    over σ (theory.solve.implicit, numeric): ~55 s on a loaded 2-core machine."""
    assert main(["verify", f"solve_{name}", "--module", example(name), "--profile", "ci"]) == 0
    assert " 0 failed" in capsys.readouterr().out
    theory.unregister(f"solve_{name}")


def _training_check_fails(tmp_path, name: str, example_name: str, text: str) -> None:
    """The example `example_name`'s text, changed, saved as module `name`: theory-vs-numerics must fail."""
    wrong = tmp_path / f"{name}.py"
    wrong.write_text(text.replace(f'"solve_{example_name}"', f'"{name}"'))
    try:
        assert main(["verify", name, "--module", str(wrong), "--profile", "ci", "--only", "theory-vs-numerics"]) == 1
    finally:
        theory.unregister(name)


@pytest.mark.slow
def test_training_check_fails_with_the_wrong_torch_model(tmp_path, capsys):
    """The per-level-rate example trained with the plain Linear (no σ^{2p} weight) must fail theory-vs-numerics."""
    text = Path(example("lr_schedule")).read_text()
    _training_check_fails(tmp_path, "wrong_lr_model", "lr_schedule",
                          text.replace("numerics.models.reweighted:LevelRateLinear", "numerics.models:Linear"))


@pytest.mark.slow
def test_deep3_with_a_loss_missing_its_factor_2_fails_against_training(tmp_path, capsys):
    """deep3 solved from a loss whose −2λψ lost its factor 2 is self-consistent (every closed-form check
    passes), but the trained DeepLinear follows the true loss: theory-vs-numerics must fail."""
    text = Path(example("deep3")).read_text()
    loss = "loss=S.denoiser_loss(a[0] * a[1] * a[2])"
    assert loss in text
    _training_check_fails(tmp_path, "wrong_deep3_loss", "deep3",
                          text.replace(loss, loss[:-1] + " + S.lam * a[0] * a[1] * a[2])"))
