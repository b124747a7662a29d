"""The hand-written E₁ and the stable span integral against mpmath and direct quadrature."""
import mpmath as mp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from theory.special import e1_span, exp1
from verify.properties import strategies as vs


def test_exp1_matches_mpmath():
    x = np.concatenate([np.geomspace(1e-12, 700, 2000), [0.999999, 1.0, 1.000001, 50.0, 50.00001]])
    ref = np.array([float(mp.e1(mp.mpf(v))) for v in x])
    np.testing.assert_allclose(exp1(x), ref, rtol=5e-15)


@given(a=st.one_of(st.just(0.0), vs.log_uniform(1e-12, 1e4)), u1=vs.log_uniform(1e-6, 1e4),
       du=vs.log_uniform(1e-8, 1e4))
def test_span_matches_mpmath_quadrature(a, u1, du):
    u2 = u1 + du
    with mp.workdps(30):
        ref = mp.quad(lambda u: mp.exp(-a * u) / u, [u1, u2])
    got = e1_span(a, u1, u2)
    assert abs(got - float(ref)) <= 1e-12 * max(1.0, abs(float(ref))) + 1e-300
