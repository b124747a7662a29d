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


def data_kind(arch) -> str:
    """The kind of data an architecture is trained and measured on, the one place that decides it:
    "eigen" (Gaussian data, eigenbasis models), "fourier" (stationary 1-D signals) or "fourier2d"
    (stationary images, 2-D Fourier models). Keys of LOADERS, of `specbias train`'s default spectrum
    (verify.cli.train) and of the report's data sets (verify.report.build)."""
    return "fourier2d" if arch.basis == "fourier" and getattr(arch, "dims", 1) == 2 else arch.basis


def _gaussian(arch, d, lam, seed):
    from numerics import data

    return data.gaussian(d, lam=lam, seed=seed)


def _signal(arch, d, lam, seed):
    from numerics import data

    half = np.sort(lam)[::-1][: d // 2 + 1]
    power = np.concatenate([half, half[1:(d + 1) // 2][::-1]])
    return data.stationary(d, power=power, seed=seed)


def _image(arch, d, lam, seed):
    from numerics import data

    power = arch.as_spectrum(np.sort(lam)[::-1][:3])  # a 4 × 4 image: small, wider than P = 3
    side = int(round(np.sqrt(power.size)))
    return data.stationary2d(side, power=power, seed=seed)


#: data_kind → the training data of verification for a spectrum: loader(arch, d, lam, seed) -> Dataset
LOADERS = {"eigen": _gaussian, "fourier": _signal, "fourier2d": _image}


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
    else:
        ds = LOADERS.get(data_kind(arch), _gaussian)(arch, d, lam, seed)
    return ds, {"sigmas": np.geomspace(0.002, top, levels), "params": params, "seed": seed}
