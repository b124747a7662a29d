"""Specs for the re-derivation tests: each registry architecture given to theory.solve as θ, ψ, L and the
initial value only (plus reduce), never its hand-written answers; `broken` variants change the loss."""
import sympy as sp

from theory import symbols as S
from theory.solve import Spec

N = sp.Symbol("N", positive=True)
c, v, w, b = sp.Symbol("c", real=True), sp.Symbol("v", real=True), sp.Symbol("w", real=True), sp.Symbol("b", real=True)
p_ = sp.Symbol("p", positive=True)
m = sp.Symbol("m", positive=True)
t = S.t


def denoiser(gain, two=2, noise=S.sigma**2):
    """(σ² + λ)ψ² − 2λψ + λ (theory.md §1.3), with the factor 2 and the σ² replaceable to break it."""
    return (noise + S.lam) * gain**2 - two * S.lam * gain + S.lam


def linear(**kw):
    return Spec("re_linear", loss=denoiser(S.psi, **kw))


def circulant(**kw):
    return Spec("re_circulant", theta=(c,), gain=sp.sqrt(N) * c, loss=denoiser(sp.sqrt(N) * c, **kw),
                reduce={c: S.psi / sp.sqrt(N)}, params={"N": 64})


def sym_two_layer(**kw):
    return Spec("re_sym_two_layer", theta=(p_,), gain=p_**2, loss=denoiser(p_**2, **kw), reduce={p_: sp.sqrt(S.psi)})


def flow_matching(two=2, noise=None):
    g = t**2 * S.lam + (1 - t) ** 2 if noise is None else t**2 * S.lam
    return Spec("re_flow_matching", theta=(w,), gain=w, sampling="flow", reduce={w: S.psi},
                loss=g * w**2 - two * w * (t * S.lam - (1 - t)) + (S.lam + 1))


def linear_mean():
    return Spec("re_linear_mean", theta=(w, b), gain=w, reduce={w: S.psi}, params={"m": 1.0},
                loss=(w - 1) ** 2 * (S.lam + m**2) + 2 * (w - 1) * m * b + b**2 + w**2 * S.sigma**2)


REGISTRY = {"linear": linear, "circulant": circulant, "sym_two_layer": sym_two_layer, "flow_matching": flow_matching}
