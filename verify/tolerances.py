"""The one table of tolerances: keyed by what is compared and the dtype, each with its reason.

Tests, `specbias verify` and the reports read tolerances only from here.
"""
from __future__ import annotations

from dataclasses import dataclass

from theory.errors import SpecbiasError


@dataclass(frozen=True)
class Tol:
    rel: float
    abs: float
    reason: str

    def ok(self, err_rel: float, err_abs: float = float("inf")) -> bool:
        return err_rel <= self.rel or err_abs <= self.abs


TABLE: dict[tuple[str, str], Tol] = {
    ("known-answer", "float64"): Tol(5e-5, 0.0, "theory.md §4.3 quotes 4–5 significant digits"),
    ("float64-vs-mpmath", "float64"): Tol(
        1e-9, 0.0, "same formula, float64 vs 50-digit mpmath; 1e−9 leaves room for the conditioning of "
        "exp(2 ln H) where ln λ̃ is O(30)"),
    ("closed-form-vs-quadrature", "float64"): Tol(
        1e-7, 0.0, "scipy.integrate.quad at epsrel 1e−12 over ln σ; the integrand has Gumbel-shaped "
        "transitions that quad resolves to ~1e−9 in ln λ̃"),
    ("symbolic-numeric-zero", "mpmath"): Tol(0.0, 1e-25, "40-digit evaluation of an identically "
                                              "zero residual"),
    ("ode-solver", "float64"): Tol(1e-8, 1e-12, "solve_ivp (DOP853, rtol 1e−11) against an "
                                   "independent evaluation of the same ODE"),
    ("weights-vs-discrete-gd", "float64"): Tol(1e-10, 1e-12, "discrete GD of the one-layer model is "
                                               "exact; only rounding over ≤ 1e4 steps remains"),
    ("weights-vs-discrete-gd", "float32"): Tol(1e-4, 1e-6, "float32 rounding accumulated over "
                                               "≤ 1e4 steps"),
    ("log-variance-trained", "float64"): Tol(0.0, 0.2, "ln λ̃ of trained weights (exact measurement) vs "
                                             "the closed form: σ-grid error (≤ 1e−2) plus the GD gap, "
                                             "|Δ ln λ̃| ≤ 2 ln(σ_T/σ_0)·max|Δψ| ≤ 2·10.6·(c/e)·|Q − K| ≈ 0.16 "
                                             "at c = 0.02; measured ≤ 0.08 (linear, circulant, d = 16)"),
    ("log-variance-trained", "float32"): Tol(0.0, 0.2, "as float64: the GD gap dominates"),
    ("log-variance-sigma-grid", "float64"): Tol(1e-2, 1e-2, "64 log-spaced σ levels interpolated "
                                                "in ln σ: O(Δ²) error in ln λ̃; measured ≤ 3.4e−3 for "
                                                "linear, λ ∈ [1e−4, 1e3], τ ∈ [1e−4, 1e4], Q ∈ [0, 1]"),
    ("log-variance-sigma-grid", "float32"): Tol(1e-2, 1e-2, "σ-grid error dominates float32 rounding"),
    ("monte-carlo-variance", "float64"): Tol(0.0, 5.0, "in units of the standard error of a sample "
                                             "variance: 5σ bound, false alarm < 1e−6"),
    ("monte-carlo-variance", "float32"): Tol(0.0, 5.0, "as float64"),
    ("trajectory-vs-theory", "float64"): Tol(0.0, 1e-2, "per-mode gains of numerics.train (GD, per-level "
                                             "step h_l = c·2/curvature_l, default c = 0.02) vs the theory's "
                                             "gradient flow: discretisation O(h); one-layer bound (c/e)·|Q − ψ*| "
                                             "≈ 7.4e−3·|Q − ψ*| (|Q − ψ*| ≤ 1.3 for flow matching); measured "
                                             "≤ 8.1e−3 flow matching, ≤ 5.8e−3 linear/circulant, ≤ 2.3e−3 "
                                             "products and patch convolution"),
    ("trajectory-gd-bound", "float64"): Tol(1.25, 1e-2, "allowed |ψ_GD − ψ_flow| = max(abs, rel·(c/e)·max|Q − ψ*|) "
                                            "for a run with step fraction c: one GD step of size "
                                            "h ≤ c/(σ² + λ_max) per level gives sup_n |(1 − ε)ⁿ − e^{−εn}| = "
                                            "ε/(2e)·(1 + O(ε)) (1.7% above ε/(2e) at ε = 0.04), "
                                            "ε = 2h(σ² + λ) ≤ 2c (one-layer); |Q − ψ*| reaches 2 for flow "
                                            "matching (w* = −1 at t = 0); 25% margin for products"),
    ("trajectory-gd-bound", "float32"): Tol(1.25, 1e-2, "as float64: the O(h) gap dominates float32 rounding"),
    ("trajectory-vs-theory", "float32"): Tol(0.0, 1e-2, "as float64: the O(h) gap dominates float32 "
                                             "rounding"),
    ("samples-vs-population", "float64"): Tol(0.0, 4.0, "samples-mode gains (mean of R = 6 seeds) minus "
                                              "population-mode gains on the same moments, in units of the "
                                              "standard error across seeds: mean z² over all (τ, σ, mode) is "
                                              "(R−1)/(R−3) = 5/3 when unbiased (Gaussian equivalence, §1.3); "
                                              "4 flags an offset of ≈ 1.5 standard errors everywhere"),
    ("magnus-vs-solve-ivp", "float64"): Tol(2e-5, 0.0, "Magnus-4 propagator (numerics.measure, default "
                                            "max_step 0.25 in ln σ) vs DOP853 at rtol 1e−12 on the same "
                                            "interpolated ODE, 64 levels: O(h⁴); measured 5e−6 (relative "
                                            "to max |A|) for smooth random W with ‖I − W‖ ~ 2, 1e−7 for "
                                            "trained non-centred weights: ≪ the σ-grid error"),
    ("heun-vs-exact", "float64"): Tol(0.0, 1e-2, "ln λ̃ of the EDM Heun sampler (ρ = 7, 256 steps) vs the "
                                      "exact map: O(steps⁻²), measured ≤ 3.2e−3 down to λ = 1e−5"),
    ("log-variance-t-grid", "float64"): Tol(0.0, 1e-2, "65 equal flow times (Δt = 1/64), W linear in t "
                                            "between them: ln λ̃ = 2∫w dt by the trapezoid rule, error "
                                            "(Δt²/6)(w'(1) − w'(0)) + O(Δt⁴) (Euler–Maclaurin), at the "
                                            "optimum (Δt²/6)(1/λ − λ): measured ≤ 4.1e−3 for λ ∈ [1e−2, 1e2], "
                                            "τ ≤ 100; grows like λ + 1/λ (0.043 at λ = 1e−3 or 1e3)"),
    ("magnus-vs-solve-ivp-flow", "float64"): Tol(1e-5, 0.0, "Magnus-4 flow map (numerics.measure.flow_map, "
                                                 "default max_step 1/64 in t) vs DOP853 at rtol 1e−12 on the "
                                                 "same interpolated ODE, 33 flow times: O(h⁴), measured "
                                                 "(relative to max |A|) 1.4e−8 for smooth random W of scale 1, "
                                                 "3.7e−7 (equal steps) to 7.2e−7 (uneven) at scale 3"),
    ("flow-heun-vs-exact", "float64"): Tol(0.0, 1e-3, "ln λ̃ and mean of Heun in t (256 equal steps) vs the "
                                           "exact flow map: O(steps⁻²), measured 1.3e−4 for λ ∈ [1e−2, 1e2], "
                                           "τ ≤ 100 on 65 flow times"),
    ("convergence-order", "float64"): Tol(0.0, 0.2, "observed order log(e₁/e₂)/log(h₁/h₂) vs the "
                                          "method's order: pre-asymptotic terms shift it by < 0.1"),
    ("aligned-identity", "float64"): Tol(1e-10, 1e-14, "identities exact in exact arithmetic (χ = 1, "
                                         "ψ² factor, R1 telescoping): float64 rounding through ≤ 1e4 "
                                         "matrix products and solves"),
    ("derive-numeric-path", "float64"): Tol(1e-8, 1e-6, "`derive` evaluates the float64 path once "
                                            "(theory.numeric_check): rel = ψ vs 30-digit mpmath of the claimed "
                                            "solution or DOP853 (rtol 1e−11) of the derived ODE; abs = ln λ̃ "
                                            "vs 48-panel Gauss–Legendre quadrature (relative once |ln λ̃| > 1); "
                                            "both far above rounding, far below a transcription slip"),
    ("exact-identity", "float64"): Tol(1e-10, 1e-12, "two float64 routes that agree in exact arithmetic "
                                       "(circulant N = 1 ≡ linear, patch_conv K = N ≡ circulant, "
                                       "linear_mean m = 0 ≡ linear, patch eigenmodes ≡ dense expm, DFT "
                                       "identities): rounding, plus eigh's absolute error eps·λ_max on "
                                       "patch eigenvalues; measured ≤ 2e−11 in ln λ̃ at condition 1e7"),
    # ---- spiked covariance model and finite training sets (Weitzner et al., arXiv 2410.14730) ---
    ("spiked-overlap-d200", "float64"): Tol(0.0, 0.03, "mean squared overlap over >= 16 draws vs the n, d → ∞ "
                                        "limit outside the window |ℓ − √γ| < √γ/2: finite-size part quoted by "
                                        "theory.md §5.2 at d = 200 (the statistical part is added separately)"),
    ("spiked-overlap-d500", "float64"): Tol(0.0, 0.015, "as d200, theory.md §5.2 at d = 500"),
    ("spiked-overlap-d1000", "float64"): Tol(0.0, 0.01, "as d200, theory.md §5.2 at d = 1000"),
    ("spiked-top-eigenvalue-d200", "float64"): Tol(0.05, 0.0, "mean top sample eigenvalue vs its limit, "
                                               "relative; theory.md §5.2 at d = 200 (statistical part separate)"),
    ("spiked-top-eigenvalue-d500", "float64"): Tol(0.025, 0.0, "as d200, theory.md §5.2 at d = 500"),
    ("spiked-top-eigenvalue-d1000", "float64"): Tol(0.015, 0.0, "as d200, theory.md §5.2 at d = 1000"),
    ("spiked-monte-carlo", "float64"): Tol(0.0, 4.0, "statistical part of every spiked-model Monte-Carlo "
                                       "comparison, in standard errors of the mean over draws (4σ: false alarm "
                                       "< 1e−4 per comparison). Needed because the spike's own sample variance "
                                       "λ̂ = λχ²_n/n fluctuates by √(2/n): at d = 1000, γ = 2 the mean of 16 draws "
                                       "is off by 1.7% (> the 1.5% of theory.md §5.2) deep above the threshold"),
    ("fixation-heun", "float64"): Tol(2e-3, 0.0, "measured/predicted fixation noise along EDM Heun "
                                  "trajectories (256 steps, ρ = 7): Heun O(h²) plus linear interpolation in "
                                  "ln σ² between levels; theory.md §5.3 quotes 0.998–1.000, measured 0.9991–0.9996 "
                                  "on a 1/k² spectrum, d = 16"),
    ("r2-asymptotic-1/T", "float64"): Tol(1e-2, 0.0, "T·(log G − [−Tφ − ½log(1 + x)]) vs the Euler–Maclaurin "
                                      "coefficient x²/(12(1 + x)): the next term is O(T⁻²) relative, < 1% "
                                      "for T ≥ 64 and x ≤ 16"),
    ("secretly-linear", "float64"): Tol(0.0, 0.2, "ln λ̃ of a per-level linear table trained through the "
                                        "network pipeline (theory protocol, SGD, stratified levels) vs the "
                                        "discrete-GD closed form at each level's clock n·h·w(σ), both sampled "
                                        "with the same latents (CRN: Monte-Carlo and Heun errors cancel): "
                                        "only minibatch-gradient noise remains; measured ≤ 0.09 (d = 8, 12 "
                                        "levels, batch 2048, h = 0.02, seeds 0 and 1)"),
    ("nonlinear-exponent-band", "float64"): Tol(0.0, 0.3, "a network 'follows' when its fitted α is within "
                                                "±0.3 of the linear theory's α on the same spectrum, "
                                                "criterion and τ = 0 variance: the paper calls its MLP "
                                                "slopes 0.76–1.08 (increasing modes, d = 128/256, one seed) "
                                                "'≈ 1' and CNN U-Nets (≈ 0) departures; declared before "
                                                "any network was fitted here"),
    ("nonlinear-exponent-band", "float32"): Tol(0.0, 0.3, "as float64"),
}


def tol(what: str, dtype: str = "float64") -> Tol:
    """The tolerance for comparing `what` in `dtype`."""
    try:
        return TABLE[(what, dtype)]
    except KeyError:
        raise SpecbiasError(f"no tolerance for {what!r} in {dtype}; known: "
                            + ", ".join(sorted({k for k, _ in TABLE}))) from None
