"""The linear denoiser trained as a noise predictor ε̂(y) = v y (ε-prediction), for `derive --solve`:
θ = v, ψ = 1 − σv, loss E(vy − z)² = v²(λ + σ²) − 2σv + 1, reduce v = (1 − ψ)/σ.
Training: one GD step on v with this loss moves ψ exactly as one step on W with the denoising loss
(ψ' = ψ − hσ²∂L_ε/∂ψ = ψ − h∂L_σ/∂ψ), so numerics' Linear is the matching torch model."""
import sympy as sp

from theory import symbols as S
from theory.solve import Spec, solved

v = sp.Symbol("v", real=True)
SPEC = Spec("solve_eps_prediction", theta=(v,), gain=1 - S.sigma * v,
            loss=v**2 * (S.lam + S.sigma**2) - 2 * S.sigma * v + 1, reduce={v: (1 - S.psi) / S.sigma},
            title="linear noise predictor ε̂ = v y, gain ψ = 1 − σv (solved)", model="numerics.models:Linear")
ARCH = solved(SPEC)
