"""The one place that decides an architecture's data, for every caller, and how it is trained for
verification: data and training options from the registry alone.

`data_kind(arch)` ("eigen", "fourier", "fourier2d") keys the named loaders below; nothing else in
`verify` builds an architecture's data (tests/test_data_one_place.py walks the callers):
- `training_setup` / `LOADERS`: the training data for a given spectrum (`specbias verify`'s
  theory-vs-numerics property, the report's training, the sweeps), with `property_sizes` the sizes the
  property draws;
- `default_data` / `DEFAULT_SPECTRUM`: `specbias train`'s data when --spectrum is not given;
- `report_data` / `REPORT_DATA`: the report's theory spectrum, departure spectra and training spectrum.

The training data of verification:

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
    (stationary images, 2-D Fourier models). Keys of LOADERS, DEFAULT_SPECTRUM, REPORT_DATA and
    PROPERTY_SIZES."""
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


# ---- the theory-vs-numerics property ----------------------------------------------------------------
#: data_kind → the sizes d the theory-vs-numerics property draws; Fourier models get N > 5 so the
#: default local kernel (K = 5) is narrower than the signal; a model with a mean: one mode (see above)
PROPERTY_SIZES = {"eigen": (2, 5), "fourier": (6, 9), "fourier2d": (6, 9)}


def property_sizes(arch) -> tuple[int, int]:
    """(smallest, largest) d the theory-vs-numerics property trains `arch` at."""
    return (1, 1) if carries_mean(arch) else PROPERTY_SIZES.get(data_kind(arch), PROPERTY_SIZES["eigen"])


# ---- `specbias train` ---------------------------------------------------------------------------------
#: data_kind → `specbias train`'s default --spectrum (a numerics.data.load name)
DEFAULT_SPECTRUM = {"eigen": "lognormal", "fourier": "stationary", "fourier2d": "stationary2d"}


def default_spectrum(arch) -> str:
    """`specbias train`'s default --spectrum: lognormal; stationary signals (images for 2-D models)
    for convolutions."""
    return DEFAULT_SPECTRUM.get(data_kind(arch), "lognormal")


def default_data(arch, d: int, seed: int = 0, beta: float | None = None, spectrum: str | None = None):
    """The data `specbias train` trains `arch` on: `spectrum` (default: `default_spectrum(arch)`) at
    size d (pixels for images), numerics.data.load's default β unless `beta` is given."""
    from numerics import data

    return data.load(spectrum or default_spectrum(arch), d, beta=beta, seed=seed)


# ---- the agreement report ---------------------------------------------------------------------------
def side(n: int) -> int:
    """The side of the square image closest below n pixels (at least 3, the default kernel P)."""
    return max(3, int(np.sqrt(n)))


def _report_eigen(d: int, train_d: int, seed: int) -> dict:
    from numerics import data

    gauss = data.gaussian(d, "lognormal", seed=seed)
    patch = data.patches(P=int(round(np.sqrt(d))), seed=seed)
    return {"theory": ("gaussian-lognormal", gauss.lam),
            "departure": {f"gaussian-lognormal (d={gauss.d})": gauss.lam,
                          f"camera patches (d={patch.d})": patch.lam},
            "train": data.spectrum("lognormal", train_d, seed=seed)}


def _report_fourier(d: int, train_d: int, seed: int) -> dict:
    from numerics import data

    stat = data.stationary(d, beta=2.0, seed=seed)
    rows = data.image_rows("camera", N=d)
    return {"theory": ("stationary-powerlaw", stat.basis("fourier")[0]),
            "departure": {f"stationary 1/f² (N={stat.d})": stat.basis("fourier")[0],
                          f"camera rows (N={rows.d})": rows.basis("fourier")[0]},
            "train": data.power_spectrum(train_d, "powerlaw", 2.0)}


def _report_fourier2d(d: int, train_d: int, seed: int) -> dict:
    from numerics import data

    n = side(d)
    return {"theory": ("stationary-powerlaw-2d", data.power_spectrum_2d(n)),
            "departure": {f"stationary 2-D 1/f² ({n}×{n})": data.power_spectrum_2d(n)},
            "train": data.power_spectrum(train_d, "powerlaw", 2.0)}  # LOADERS: a 4 × 4 image


#: data_kind → the report's data: report(d, train_d, seed) -> {"theory": (name, spectrum),
#: "departure": {label: spectrum}, "train": the spectrum handed to training_setup at train_d}
REPORT_DATA = {"eigen": _report_eigen, "fourier": _report_fourier, "fourier2d": _report_fourier2d}


def report_data(arch, d: int, train_d: int, seed: int) -> dict:
    """The report's data sets for `arch`: theory on d, training on train_d (see REPORT_DATA)."""
    return REPORT_DATA.get(data_kind(arch), _report_eigen)(d, train_d, seed)
