"""The built-in example sweep (`specbias sweep --example`): the one-layer and the untied two-layer
denoiser over 8 seeds and three spectra, and the local convolution over kernel sizes, on small data
(d = 16) so it finishes in a few minutes on 2 cores."""
from __future__ import annotations

import tomllib

EXAMPLE = """\
name = "example"
description = "Built-in example: linear and two_layer over 8 seeds and three spectra; patch_conv over kernel sizes."
kind = "train"

[defaults]
d = 16
Q = 0.1
protocol = "population"
levels = 16
checkpoints = 16
tau_min = 1e-3
tau_max = 12.0

[measure]
criteria = ["geometric", "harmonic"]

[[grid]]
arch = ["linear", "two_layer"]
spectrum = ["lognormal", "powerlaw"]
beta = [0.5, 1.0]
seeds = 8

[[grid]]
arch = "patch_conv"
spectrum = "lognormal"
K = [3, 5, 7, 9]
seeds = 4
"""


def example() -> dict:
    return tomllib.loads(EXAMPLE)
