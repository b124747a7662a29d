"""The floor on generated samples per checkpoint (numerics.nets.resampling), checked against the
CheckpointSampler's own bootstrap weights (Monte Carlo) and a closed count, not against itself."""
import argparse
from math import comb

import numpy as np
import pytest
import torch

from numerics.nets.crn import CheckpointSampler
from numerics.nets.resampling import DEFAULT_BOOTSTRAP, DEGENERATE_RISK, MIN_SAMPLES, degenerate_risk
from verify.cli import argtypes as T


def _sampler(n, bootstrap, seed=0):
    return CheckpointSampler(d=2, bases={"eigen": (np.ones(2), np.eye(2), None)}, n_samples=n, bootstrap=bootstrap,
                             seed=seed)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_per_replicate_chance_matches_the_samplers_weights(n):
    """Monte Carlo over the sampler's replicates: the fraction resampling one sample n times is n^(1-n)."""
    B = 40000
    single = (_sampler(n, B).weights == 1.0).any(1).double().mean().item()
    p = degenerate_risk(n, 1)
    assert abs(single - p) < 5 * np.sqrt(p * (1 - p) / B), (single, p)
    # a closed count of the same event: n of the n^n index draws are constant
    assert p == pytest.approx(n / n**n, rel=1e-12)


def test_a_degenerate_replicate_has_zero_variance_and_below_the_floor_one_occurs():
    """Below the floor (n = 4, 200 replicates: expected 200/64 ≈ 3) the sampler does produce replicates
    with every variance 0 — the v₀ = 0 the network runs died of; at the floor none (seed 0)."""
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    low = _sampler(4, DEFAULT_BOOTSTRAP).reduce(x)["var_boot_eigen"]
    assert (low == 0).all(1).any()
    x = torch.randn(MIN_SAMPLES, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert (_sampler(MIN_SAMPLES, DEFAULT_BOOTSTRAP).reduce(x)["var_boot_eigen"] > 0).all()


def test_floor_is_the_smallest_count_within_the_risk():
    assert degenerate_risk(MIN_SAMPLES) <= DEGENERATE_RISK < degenerate_risk(MIN_SAMPLES - 1)
    # 200·7^-6 ≈ 1.7e-3 > 1e-3 ≥ 200·8^-7 ≈ 9.5e-5
    assert MIN_SAMPLES == 8 and comb(8, 1) * 8.0**-8 * DEFAULT_BOOTSTRAP <= DEGENERATE_RISK


def test_argument_type_accepts_the_floor_and_refuses_below_it():
    conv = T.samples(hi=100)
    assert conv(str(MIN_SAMPLES)) == MIN_SAMPLES and conv("100") == 100
    for bad in (str(MIN_SAMPLES - 1), "2", "101", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"\[8, 100\]"):
            conv(bad)
