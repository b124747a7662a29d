"""How an architecture is trained for verification: data and training options from the registry alone.

- eigenbasis models: Gaussian data with the given spectrum and a random rotation;
- Fourier models: a stationary 1-D signal whose power spectrum is the given one, mirrored (2-D models,
  `dims = 2`: a stationary 4 × 4 image whose spectrum `arch.as_spectrum` builds from the top 3 variances);
- a model whose theory has a data mean `m` (the per-mode theory of theory.md §2.2, exact when the mode
  carrying the mean is alone): one mode with mean m, trained on levels up to σ_T = 4, because the
  bias relaxes at rate O(1) while stable steps at level σ are O(1/σ²) (high noise is stiff).
"""
from __future__ import annotations

import numpy as np

MEAN_SIGMA_T = 4.0


def has_model(arch) -> bool:
    """Whether the architecture declares a torch model (`model`, or its own `torch_model`)."""
    import theory

    return bool(arch.model) or type(arch).torch_model is not theory.Architecture.torch_model


def carries_mean(arch) -> bool:
    return "m" in arch.params


def training_setup(arch, d: int, lam, seed: int = 0, levels: int = 24, m: float | None = None):
    """(dataset, keyword arguments for numerics.train.train) for `arch`."""
    from numerics import data

    lam = np.asarray(lam, dtype=float)
    top = 80.0
    params = {}
    if carries_mean(arch):
        m = float(arch.params["m"] if m is None else m)
        lam, top, params = lam[:1], MEAN_SIGMA_T, {"m": m}
        ds = data.gaussian(1, lam=lam, seed=seed, mean=np.array([m]))
    elif arch.basis == "fourier" and getattr(arch, "dims", 1) == 2:
        power = arch.as_spectrum(np.sort(lam)[::-1][:3])  # a 4 × 4 image: small, wider than P = 3
        side = int(round(np.sqrt(power.size)))
        ds = data.stationary2d(side, power=power, seed=seed)
    elif arch.basis == "fourier":
        half = np.sort(lam)[::-1][: d // 2 + 1]
        power = np.concatenate([half, half[1:(d + 1) // 2][::-1]])
        ds = data.stationary(d, power=power, seed=seed)
    else:
        ds = data.gaussian(d, lam=lam, seed=seed)
    return ds, {"sigmas": np.geomspace(0.002, top, levels), "params": params, "seed": seed}
