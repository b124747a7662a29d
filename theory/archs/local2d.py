"""`local2d`: the locally connected control of `conv2d` — the same P × P circular support on C-channel
images, but one filter per output position (no weight sharing); aligned init W(0) = Q·I.

Row (c, i) of W sees only its own support S_i, so w_{c,i}(σ, τ) = g(Σ_{S_i}) e_c with g the one-layer gain
at rate η (not HWη: no position shares its taps; theory.local gives the exact propagator on any
covariance). On the theory's `lam` interface — C stacked stationary 2-D spectra, as for `conv2d` — every
Σ_{S_i} equals the patch covariance Σ_patch, so every position holds the same filter as the
convolution and [derived] λ̃_locally-connected(τ) = λ̃_conv2d(τ/HW): the eigen-mix closed form with one
position per tap. The two models part ways only on non-stationary data (see theory.local), which is the
control the local-convolution study needs: locality without weight sharing.
"""
from __future__ import annotations

from .. import derive as D
from .. import symbols as S
from ..registry import register
from .circulant import N
from .conv2d import Conv2d


class LocallyConnected2d(Conv2d):
    name = "local2d"
    title = "2-D locally connected (P × P support, one filter per position), C channels"
    source = "control for Prop. 5.4: the conv2d flow per Σ_patch eigenmode with one position per tap"
    model = "numerics.models:LocallyConnected2d"
    shift_invariant = False  # the closed form holds on stationary spectra only; theory.local otherwise
    emergence_order_caveat = (
        "on stationary data every filter is the conv2d filter (P² patch eigenmodes mixed per Fourier "
        "mode), so a smaller Fourier variance can emerge first, as for conv2d")

    def loss(self, **p):
        return super().loss(**p).subs(N, 1)

    def solution(self, **p):
        return super().solution(**p).subs(N, 1)

    def log_H(self, **p):
        return super().log_H(**p).subs(N, 1)

    def extra_checks(self, ode, **p):
        return super().extra_checks(ode, **p) + [D.check_zero(
            "no-sharing-is-conv-at-tau-over-N", self.solution() - Conv2d.solution(self).subs(S.tau, S.tau / N),
            "ψ_local(τ) − ψ_conv(τ/N): one position per tap is the shared flow at time τ/N")]

    def spectral(self, spectrum, geom):
        return (1,) + super().spectral(spectrum, geom)[1:]

    def spectral_mp(self, spectrum, geom):
        return (1,) + super().spectral_mp(spectrum, geom)[1:]


ARCH = register(LocallyConnected2d())
