"""Linear denoiser with weight decay ρ‖W‖², declared for `specbias derive --solve` (docs/extending.md §1):
only the loss is written; the gain, ln H, the evaluators and the LaTeX come from theory.solve.
Training: E‖W(x + σz + √ρ z′) − x‖² = L_σ + ρ‖W‖², so the torch model is numerics' Linear with
noise coefficient √(σ² + ρ) (numerics.models.reweighted)."""
import sympy as sp

from theory import symbols as S
from theory.solve import Spec, solved

rho = sp.Symbol("rho", positive=True)



SPEC = Spec("solve_ridge", loss=S.denoiser_loss(S.psi) + rho * S.psi**2, params={"rho": 0.01},
            title="linear denoiser + weight decay ρ‖W‖² (solved)", conditions=("ρ ≥ 0",),
            model="numerics.models.reweighted:WeightDecayLinear")
ARCH = solved(SPEC)
