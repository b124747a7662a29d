"""The linear denoiser with a per-level learning rate η(σ) = η₀σ^{2p}, for `derive --solve`: the gain ODE
is linear (solved), but ∫(1 − ψ)/σ dσ with e^{−2ητσ^{2p}(σ² + λ)} has no closed form for symbolic p,
so `--solve` says so and ln λ̃ comes from quadrature. Training: the levels have independent
parameters, so η(σ) is the loss at level σ weighted by σ^{2p}: numerics' Linear with every pair
coefficient scaled by σ^p (numerics.models.reweighted)."""
import sympy as sp

from theory import symbols as S
from theory.solve import Spec, solved

p = sp.Symbol("p", real=True)



SPEC = Spec("solve_lr_schedule", loss=S.denoiser_loss(S.psi), lr=S.sigma**(2 * p), params={"p": 0.5},
            title="linear denoiser, per-level learning rate η₀σ^{2p} (solved)",
            model="numerics.models.reweighted:LevelRateLinear")
ARCH = solved(SPEC)
