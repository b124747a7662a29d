"""Checks of the `specbias spiked` commands made from their arguments alone, before any compute
(issue 20 §2, §4): memory estimates for sizes that allocate in proportion to an argument, the ranges
in which the Monte-Carlo comparison and the separated-spike law apply, and what a Heun measurement of
the fixation noise can resolve (clamps above σ_T², brackets too wide for a crossing).

Memory estimates count the float64 arrays alive at once (lower bounds) and refuse through
numerics.budget.check_memory, with the estimate in the message.
"""
from __future__ import annotations

import math

import numpy as np

from numerics import budget
from numerics.spiked.dynamics import RESOLVE_FACTOR
from theory.errors import SpecbiasError

from .checks import TABULATED_D, size

#: float64 arrays of k × T alive at once in theory.chains' R2 products (log_g, cumsum, partial, exp, sum)
CHAIN_COPIES = 6
#: float64 arrays of d alive at once in theory.finite_sample.expected_endpoint_kl (index, argument, digamma)
KL_COPIES = 3
#: float64 arrays of s² × draws × spikes: overlap², top eigenvalue, two MSEs (and their means' temporaries)
RESULT_COPIES = 6
#: a Heun crossing is resolved when its bracketing levels differ by at most this factor in σ²
#: (ln 2 in ln σ²: the interpolated level is then off by less than a factor √2 in the worst case; docs/theory.md
#: §5.3's 0.998–1.000 was measured at 256 steps, where the brackets are ≤ 1.21)
RESOLUTION = RESOLVE_FACTOR  # numerics.spiked.dynamics.Fixation.resolved's, checked here before the run
SIGMA_T = 80.0  # the top of the EDM sampling grid (docs/theory.md §6), where --measure starts


def check_chains(lam, Ts) -> None:
    k, t = np.size(lam), max(int(x) for x in Ts)
    budget.check_memory(f"spiked chains with --T {t:,} and {k} mode(s)", CHAIN_COPIES * 8.0 * k * t,
                        hint="use a smaller --T (log_r2_asymptotic is accurate to O(1/T) there)")


def check_kl(d: int) -> None:
    budget.check_memory(f"spiked kl at --d {int(d):,}", KL_COPIES * 8.0 * int(d), hint="use a smaller --d")


def check_simulate(lam, d: int, n: int, M, s2=(), draws: int = 16) -> None:
    """The comparison's size range (docs/theory.md §5.2 tabulates tolerances from min(d, nM) = 200), the
    separated-spike law (equal or nearly equal spikes mix their sample eigenvectors) and the memory of the
    per-draw results (4 quantities × s² × draws × spikes; one chunk of training sets is checked by
    numerics.spiked.simulate.monte_carlo)."""
    budget.check_memory(f"spiked simulate's results for --draws {int(draws):,} x {len(s2)} s² x {np.size(lam)} "
                        "spike(s)", RESULT_COPIES * 8.0 * int(draws) * max(len(s2), 1) * np.size(lam),
                        hint="use fewer --draws or --s2 values")
    m = size(d, n, M)
    if m < TABULATED_D[0]:
        raise SpecbiasError(f"spiked simulate compares with the limits only for min(d, nM) >= {TABULATED_D[0]} "
                            f"(docs/theory.md §5.2 states no finite-size tolerance below); got min(d, nM) = {m:,}: "
                            "use larger --d/--n (or --M)")
    lam = np.sort(np.asarray(lam, float))[::-1]
    if lam.size >= 2:
        gap = np.abs(np.diff(lam)) / lam[:-1]
        i = int(np.argmin(gap))
        if gap[i] < 1 / math.sqrt(m):
            raise SpecbiasError(f"--lam {lam[i]:g} and {lam[i + 1]:g} are not separated spikes at min(d, nM) = "
                                f"{m:,} (relative gap {gap[i]:.3g} < 1/√{m}): the rank-k law of docs/theory.md §5.2 is "
                                "for separated spikes; equal spikes share a sample eigenspace and the per-spike "
                                "overlap is not defined. Give distinct spikes or one spike")


def fixation_sigma0(sigma0: float) -> float:
    """σ_0 with a finite σ_0² below the grid's top σ_T = 80 (1e200 overflowed in σ_0²)."""
    if not (math.isfinite(sigma0) and sigma0 < SIGMA_T):
        raise SpecbiasError(f"--sigma0 must be below the sampling grid's top σ_T = {SIGMA_T:g} (got {sigma0:g}): "
                            "σ_0 is the END of sampling, docs/theory.md §6 uses 0.002")
    return sigma0


def bracket_ratio(levels_s2: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Per predicted level s2, the ratio of the two grid levels (σ² decreasing) that bracket it; inf for a
    level above the grid's top (a clamp), nan below its bottom."""
    levels_s2 = np.asarray(levels_s2, float)
    out = np.full(np.shape(s2), np.nan)
    for i, v in np.ndenumerate(np.asarray(s2, float)):
        if v > levels_s2[0]:
            out[i] = np.inf
            continue
        j = int(np.searchsorted(-levels_s2, -v))  # first level <= v
        if 0 < j < levels_s2.size:
            out[i] = levels_s2[j - 1] / levels_s2[j]
        elif j == 0:
            out[i] = 1.0
    return out


def check_fixation_steps(pred_s2, steps: int, sigma0: float) -> np.ndarray:
    """Refuse --steps too few to resolve a predicted crossing below σ_T² within RESOLUTION; returns the
    mask of modes whose predicted level lies above σ_T² (their Heun value can only be a clamp)."""
    from numerics.samplers import edm_schedule

    pred = np.asarray(pred_s2, float)
    ratio = bracket_ratio(edm_schedule(steps, sigma0, SIGMA_T) ** 2, pred)
    above = np.isinf(ratio)
    coarse = np.isfinite(ratio) & (ratio > RESOLUTION)
    if coarse.any():
        need = steps
        while need < 10**6 and np.nanmax(np.where(above, np.nan, bracket_ratio(
                edm_schedule(need, sigma0, SIGMA_T) ** 2, pred))) > RESOLUTION:
            need *= 2
        raise SpecbiasError(f"--steps {steps} cannot resolve the fixation crossing: the Heun grid's levels around "
                            f"the predicted s² = {pred[coarse][0]:.4g} differ by a factor {ratio[coarse].max():.3g} "
                            f"(> {RESOLUTION:g}); use --steps >= {need} (default 256)")
    return above


def fixation_rows(fix) -> tuple[list, dict]:
    """Per mode of a numerics.spiked.dynamics.Fixation: 'measured' (Fixation.resolved), 'clamp' (crossing at
    the grid's top: a lower bound ≥ σ_T², Fixation.clamped) or 'unresolved' (never reached r, or bracketed
    too coarsely). Returns (per-mode status, counts)."""
    ok, clamped = np.asarray(fix.resolved(), bool), np.asarray(fix.clamped, bool)
    status = ["measured" if o else "clamp" if c else "unresolved" for o, c in zip(ok, clamped, strict=True)]
    counts = {s: status.count(s) for s in ("measured", "clamp", "unresolved")}
    return status, counts


def fixation_ratio(pred, measured, status) -> float:
    """Median measured/predicted over the resolved modes only (clamps and unresolved excluded); nan if none."""
    ok = np.array([s == "measured" for s in status])
    return float(np.median(np.asarray(measured)[ok] / np.asarray(pred)[ok])) if ok.any() else float("nan")
