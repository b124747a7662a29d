"""The balanced deep linear denoiser at depth L = 3, for `derive --solve`: ψ = a₁a₂a₃ on the balanced
manifold a_i = ψ^{1/3}. The gain ODE dψ/dτ = −6ηψ^{4/3}((σ² + λ)ψ − λ) is separable with no explicit
solution: `--solve` says so and finds the implicit one, τ(ψ) in closed form (theory.solve.implicit);
ψ is its root (theory.solve.numeric) and ln λ̃ is quadrature over σ. Training: numerics' DeepLinear
(default depth 3, balanced aligned init)."""
import sympy as sp

from theory import symbols as S
from theory.solve import Spec, solved

a = sp.symbols("a1:4", positive=True)
SPEC = Spec("solve_deep3", theta=a, gain=a[0] * a[1] * a[2], loss=S.denoiser_loss(a[0] * a[1] * a[2]),
            reduce={ai: S.psi ** sp.Rational(1, 3) for ai in a}, q_range=(0.0, 1.0),
            title="balanced deep linear denoiser, L = 3 (no closed form)", model="numerics.models:DeepLinear")
ARCH = solved(SPEC)
