"""The extension path as a newcomer walks it (docs/extending.md): a minimal architecture from a
temporary file — a linear noise predictor ε̂(y) = V y, reparametrised gain ψ = 1 − σv, no closed-form
sampling integral (quadrature), no torch model — through derive, verify and a quick report.

Its noise-prediction loss E(vy − z)² = L_σ(ψ)/σ², so dψ/dτ = −σ dv/dτ = −η ∂L_σ/∂ψ: the gain follows
the one-layer model exactly (Prop. eq. 7), which gives the independent reference for its numbers.
"""
import json
import textwrap

import numpy as np
import pytest

import theory
from verify.cli import main
from verify.tolerances import tol

MODULE = textwrap.dedent('''
    import numpy as np
    import sympy as sp
    import theory
    from theory import symbols as S

    v = sp.Symbol("v", real=True)

    class EpsLinear(theory.Architecture):
        name = "{name}"
        title = "linear noise predictor eps(y) = V y"
        source = "docs/extending.md walk-through"
        law = theory.Law("inverse-variance", "2 eta (sigma^2 + lam)", {{}}, "")

        def theta(self, **p):
            return (v,)

        def gain(self, **p):
            return 1 - S.sigma * v
    {reduce}
        def loss(self, **p):
            return v**2 * (S.lam + S.sigma**2) - 2 * S.sigma * v + 1

        def solution(self, **p):
            return S.K + (S.Q - S.K) * sp.exp(-2 * S.eta * S.tau * (S.sigma**2 + S.lam))

        def _weight(self, lam, sigma, tau, Q, eta, **p):
            K = lam / (lam + sigma**2)
            return {weight}

    theory.register(EpsLinear())
''')
REDUCE = "    def reduce(self, **p):\n        return {v: (1 - S.psi) / S.sigma}\n"
RIGHT = "K + (Q - K) * np.exp(-2.0 * eta * tau * (sigma**2 + lam))"


def _write(tmp_path, name, reduce=REDUCE, weight=RIGHT):
    path = tmp_path / f"{name}.py"
    path.write_text(MODULE.format(name=name, reduce=reduce, weight=weight))
    return str(path)


@pytest.fixture
def registered():
    names = []
    yield names
    for n in names:
        theory.unregister(n)


def test_derive_points_at_reduce_when_the_ode_keeps_a_parameter(tmp_path, registered, capsys):
    path = _write(tmp_path, "eps_noreduce", reduce="")
    registered.append("eps_noreduce")
    assert main(["derive", path]) == 1
    out = capsys.readouterr().out
    assert "result: FAILED at ode-in-gain" in out
    assert "still holds v: declare reduce()" in out and "{v: (1 - psi)/sigma}" in out


def test_derive_verify_and_report_pass_for_the_minimal_architecture(tmp_path, registered, capsys):
    path = _write(tmp_path, "eps_linear")
    registered.append("eps_linear")
    assert main(["derive", path]) == 0
    out = capsys.readouterr().out
    assert "[     NOT CLAIMED] sampling-integral" in out and "quadrature" in out
    assert "numeric-path: float64 path evaluated once" in out and "result: all checks pass" in out

    assert main(["verify", "eps_linear", "--json", "--profile", "ci"]) == 0
    res = {o["prop"]: o for o in json.loads(capsys.readouterr().out)["results"]}
    for ran in ("derivation", "float64-vs-mpmath", "closed-form-vs-quadrature", "consistency",
                "emergence-order"):
        assert res[ran]["status"] == "pass", res[ran]
    assert res["theory-vs-numerics"]["status"] == "skip" and "no torch model" in res["theory-vs-numerics"]["message"]
    assert res["exponent-range"]["status"] == "skip" and "no exponent range" in res["exponent-range"]["message"]

    assert main(["report", "--arch", "eps_linear", "--quick", "--name", "eps", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    folder = tmp_path / "eps"
    md = (folder / "report.md").read_text()
    assert "| eps_linear |" in md and "skipped: no torch model declared" in md and "FAIL" not in md
    assert "## Local convolution" not in md  # a section about conv2d/local2d, none of which was asked for
    table = json.loads((folder / "report.json").read_text())["architectures"]["eps_linear"]
    assert table["agreement"] == {"skipped": "no torch model declared (theory only)"}
    # the quadrature numbers of the report equal the one-layer closed form (Prop. 4.2)
    data = np.load(folder / "data.npz")
    lam, tau = data["eps_linear/lam"], data["eps_linear/tau"]
    ref = theory.get("linear").log_generated_variance(lam[:, None], tau[None, :])
    np.testing.assert_allclose(data["eps_linear/log_variance"], ref, rtol=tol("closed-form-vs-quadrature").rel,
                               atol=tol("closed-form-vs-quadrature").rel)
    np.testing.assert_allclose(data["eps_linear/tau_star_geometric"], theory.emergence_time("linear", lam),
                               rtol=1e-6)


@pytest.mark.parametrize("weight,match", [
    ("np.full_like(lam, np.nan)", "not finite"),
    ("K + (Q - K) * np.exp(-2.0 * eta * tau * lam)", "ψ vs mpmath of the claimed solution"),
    ("K[..., :1]", "shapes"),
])
def test_derive_evaluates_the_float64_path(tmp_path, registered, weight, match):
    path = _write(tmp_path, "eps_bad", weight=weight)
    registered.append("eps_bad")
    (arch,) = theory.load_module(path)
    check = {c.name: c for c in arch.derive().checks}["numeric-path"]
    assert check.status == "failed" and match in check.detail


def test_derive_reports_a_wrong_signature_in_one_line(tmp_path, registered):
    path = _write(tmp_path, "eps_sig", weight=RIGHT)
    registered.append("eps_sig")
    (arch,) = theory.load_module(path)
    type(arch)._weight = lambda self, lam, sigma, tau: lam  # forgot Q and eta
    check = {c.name: c for c in arch.derive().checks}["numeric-path"]
    assert check.status == "failed" and "raised TypeError" in check.detail and "\n" not in check.detail


@pytest.mark.parametrize("lam_shape,tau_shape,q", [((3,), (), 0.1), ((3, 1), (1, 4), 0.3), ((2, 3), (2, 1), "array")])
def test_quadrature_fallback_takes_any_shape(tmp_path, registered, lam_shape, tau_shape, q):
    """The generic quadrature (no `_log_variance`) against Prop. 4.2, broadcasting λ, τ and Q."""
    path = _write(tmp_path, "eps_shape")
    registered.append("eps_shape")
    (arch,) = theory.load_module(path)
    rng = np.random.default_rng(1)
    lam = 10 ** rng.uniform(-3, 2, lam_shape)
    tau = 10 ** rng.uniform(-3, 2, tau_shape)
    Q = rng.uniform(0, 1, np.broadcast_shapes(lam_shape, tau_shape)) if q == "array" else q
    got = arch.log_generated_variance(lam, tau, Q=Q)
    ref = theory.get("linear").log_generated_variance(lam, tau, Q=Q)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=tol("closed-form-vs-quadrature").rel)
    ts = theory.emergence_time(arch, [1.0, 10.0, 100.0])  # the crash (lam = [1, 10, 100])
    np.testing.assert_allclose(ts, theory.emergence_time("linear", [1.0, 10.0, 100.0]), rtol=1e-6)
