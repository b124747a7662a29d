"""How many generated samples a network run's bootstrap needs (torch-free: the CLI's argument types use it).

numerics.nets.crn.CheckpointSampler draws B bootstrap replicates of its n samples once per run; a
replicate that resamples one sample n times has every mode variance exactly 0 (see `degenerate_risk`).
"""
from __future__ import annotations

#: bootstrap replicates of the CheckpointSampler (and of `train --model`'s --bootstrap default)
DEFAULT_BOOTSTRAP = 200
#: accepted chance that some bootstrap replicate of a run is degenerate (see `min_samples`)
DEGENERATE_RISK = 1e-3


def degenerate_risk(n_samples: int, bootstrap: int = DEFAULT_BOOTSTRAP) -> float:
    """Union bound on the chance that one of `bootstrap` replicates resamples a single sample n times.

    A replicate draws n indices uniformly from n samples (`CheckpointSampler.weights`); with probability
    n·n⁻ⁿ = n^(1−n) all n draws are the same sample, and its variance of every mode is then exactly 0
    at every checkpoint, so v₀ = 0 and that replicate's τ* and exponent are undefined (the run ends with
    "... must be > 0" after training). Any other replicate has two distinct samples, whose projections
    differ on every mode almost surely. n = 2: 1/2 per replicate; n = 4: 1/64; n = 8: 4.8e-7."""
    n = int(n_samples)
    return min(1.0, float(bootstrap) * float(n) ** (1 - n))


def min_samples(bootstrap: int = DEFAULT_BOOTSTRAP, risk: float = DEGENERATE_RISK) -> int:
    """The smallest sample count whose `degenerate_risk` is at most `risk` (8 for 200 replicates)."""
    n = 2
    while degenerate_risk(n, bootstrap) > risk:
        n += 1
    return n


MIN_SAMPLES = min_samples()
