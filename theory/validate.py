"""Input validation shared by every layer and the CLI: one clear one-line error per bad input.

Every public entry point (theory, numerics, verify and the `specbias` command's argparse types, see
`verify.cli.argtypes`) checks its arguments with these functions, so one rule holds everywhere:
- numbers are finite real floats (complex, NaN, ±inf and non-numeric text are refused);
- torch tensors are accepted and detached (a tensor that requires grad gives its current value);
- counts are integers within a stated range; seeds are integers in [0, 2³² − 1];
- arrays that must line up have equal (or broadcastable) shapes, and the message shows the shapes.
Each error names the argument and the valid range.
"""
from __future__ import annotations

import numbers

import numpy as np

from .errors import SpecbiasError

SEED_MAX = 2**32 - 1  # numpy's SeedSequence and torch's manual_seed both take [0, 2³² − 1]
DPS_MAX = 10_000  # mpmath working precision beyond which one evaluation takes minutes
#: σ (and σ_T) beyond which σ² leaves float64 (1e154² overflows); the closed forms take σ² and σ⁴
SIGMA_RANGE = (1e-150, 1e150)


def _plain(value):
    """Torch tensors (possibly requiring grad, possibly on a GPU) as numpy arrays; anything else as is."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return value


def as_array(name: str, value, *, positive: bool = False, nonneg: bool = False,
             allow_nan: bool = False) -> np.ndarray:
    """Return `value` as a float64 array after checking it is real, finite or, with `allow_nan`, NaN
    (and the sign of the other entries)."""
    value = _plain(value)
    try:
        raw = np.asarray(value)
        if np.iscomplexobj(raw):
            raise SpecbiasError(f"{name} must be real, got complex values (e.g. {raw.reshape(-1)[0]!r})")
        if raw.dtype == object and raw.size and any(hasattr(v, "detach") for v in raw.reshape(-1)):
            raw = np.asarray([_plain(v) for v in raw.reshape(-1)]).reshape(raw.shape)
        arr = np.asarray(raw, dtype=np.float64)
    except SpecbiasError:
        raise
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
        raise SpecbiasError(f"{name} must be numeric, got {_short(value)}") from exc
    if arr.size == 0:
        raise SpecbiasError(f"{name} is empty")
    if not np.all(np.isfinite(arr) | (allow_nan & np.isnan(arr))):
        raise SpecbiasError(f"{name} contains {'infinite' if allow_nan else 'NaN or infinite'} values")
    if positive and np.any(arr <= 0):
        raise SpecbiasError(f"{name} must be > 0 (smallest given: {np.nanmin(arr):g})")
    if nonneg and np.any(arr < 0):
        raise SpecbiasError(f"{name} must be >= 0 (smallest given: {np.nanmin(arr):g})")
    return arr


def _short(value) -> str:
    """repr on one line (an array's repr spans lines), at most 60 characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


# ---- scalars ----------------------------------------------------------------------------------------
def scalar(name: str, value, *, lo=None, hi=None, lo_open: bool = False, hi_open: bool = False) -> float:
    """One finite real number, optionally within [lo, hi] (open ends with lo_open / hi_open)."""
    if isinstance(value, bool):
        raise SpecbiasError(f"{name} must be a number, got {value!r}")
    arr = as_array(name, value)
    if arr.size != 1:
        raise SpecbiasError(f"{name} must be a single number, got {arr.size} values")
    x = float(arr.reshape(()))
    below = lo is not None and (x <= lo if lo_open else x < lo)
    above = hi is not None and (x >= hi if hi_open else x > hi)
    if below or above:
        if hi is None:
            rule = f"be {'>' if lo_open else '>='} {lo:g}"
        elif lo is None:
            rule = f"be {'<' if hi_open else '<='} {hi:g}"
        else:
            rule = f"lie in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise SpecbiasError(f"{name} must {rule} (got {x:g})")
    return x


def positive(name: str, value, hi=None) -> float:
    """One finite number > 0 (and ≤ hi)."""
    return scalar(name, value, lo=0.0, lo_open=True, hi=hi)


def nonneg(name: str, value, hi=None) -> float:
    """One finite number ≥ 0 (and ≤ hi)."""
    return scalar(name, value, lo=0.0, hi=hi)


def count(name: str, value, *, lo: int = 1, hi: int | None = None) -> int:
    """An integer in [lo, hi]: ints, integral floats and integer text ("7", "1e3") are accepted."""
    rule = f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi:,}]"
    value = _plain(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool):
        raise SpecbiasError(f"{name} must be {rule} (got {value!r})")
    n = None
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif isinstance(value, (str, numbers.Real)):
        try:
            n = int(value) if isinstance(value, str) and value.strip().lstrip("+-").isdigit() else None
            if n is None:
                x = float(value)
                n = int(x) if np.isfinite(x) and x == int(x) else None
        except (TypeError, ValueError, OverflowError):
            n = None
    if n is None or n < lo or (hi is not None and n > hi):
        raise SpecbiasError(f"{name} must be {rule} (got {_short(value)})")
    return n


def seed(value, name: str = "seed") -> int:
    """A random seed: an integer in [0, 2³² − 1] (what numpy and torch both accept)."""
    return count(name, value, lo=0, hi=SEED_MAX)


def dps(value, name: str = "dps") -> int:
    """mpmath decimal digits: an integer in [1, DPS_MAX] (None is handled by the caller)."""
    return count(name, value, lo=1, hi=DPS_MAX)


def flag(name: str, value) -> bool:
    """A yes/no option: True or False (numpy's bool too), never an array or a number."""
    if not isinstance(value, (bool, np.bool_)):
        raise SpecbiasError(f"{name} must be True or False (got {_short(value)})")
    return bool(value)


def choice(name: str, value, options) -> str:
    """One of `options` (strings)."""
    if not isinstance(value, str) or value not in options:
        raise SpecbiasError(f"{name} must be one of {', '.join(options)} (got {_short(value)})")
    return value


def interval(name: str, value, *, positive_ends: bool = True) -> tuple[float, float]:
    """A pair (lo, hi) of finite numbers with lo < hi (both > 0 when positive_ends)."""
    arr = as_array(name, value, positive=positive_ends)
    if arr.shape != (2,):
        raise SpecbiasError(f"{name} must be a pair (lo, hi), got shape {arr.shape}")
    lo, hi = (float(v) for v in arr)
    if not lo < hi:
        raise SpecbiasError(f"{name} must have lo < hi (got ({lo:g}, {hi:g}))")
    return lo, hi


# ---- the theory's quantities ---------------------------------------------------------------------------
def variances(lam) -> np.ndarray:
    """Data variances λ_k: finite and strictly positive."""
    return as_array("variances (lam)", lam, positive=True)


def times(tau) -> np.ndarray:
    """Gradient-flow times τ ≥ 0."""
    return as_array("training time (tau)", tau, nonneg=True)


def noise(sigma) -> np.ndarray:
    """Noise levels σ > 0."""
    return as_array("noise level (sigma)", sigma, positive=True)


def rate(eta) -> float:
    """Learning rate η > 0 (a scalar)."""
    arr = as_array("learning rate (eta)", eta, positive=True)
    if arr.size != 1:
        raise SpecbiasError("learning rate (eta) must be a single number")
    return float(arr.reshape(()))


def sampling_range(sigma0, sigmaT) -> tuple[float, float]:
    """End and start of sampling, 0 < σ_0 < σ_T, both within SIGMA_RANGE (σ² stays a float64)."""
    lo, hi = SIGMA_RANGE
    s0 = scalar("sigma0", sigma0, lo=lo, hi=hi)
    sT = scalar("sigmaT", sigmaT, lo=lo, hi=hi)
    if s0 >= sT:
        raise SpecbiasError(f"sigma0 must be smaller than sigmaT (got sigma0={s0:g}, sigmaT={sT:g})")
    return s0, sT


def broadcast(**arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast named arrays together, or say which shapes do not fit."""
    try:
        return tuple(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in arrays.items())
        raise SpecbiasError(f"shapes do not broadcast together: {shapes}") from None


def same_shape(**arrays: np.ndarray) -> None:
    """Arrays that pair up element by element must have one shape; say which do not."""
    shapes = {k: tuple(np.shape(v)) for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{k}{s}" for k, s in shapes.items())
        raise SpecbiasError(f"shapes must match element by element: {listed}")


def broadcast_to(name: str, value: np.ndarray, shape: tuple, target: str = "lam") -> np.ndarray:
    """`value` broadcast to `shape` (that of `target`), or an error showing both shapes."""
    try:
        return np.broadcast_to(value, shape)
    except ValueError:
        raise SpecbiasError(f"{name} has shape {tuple(np.shape(value))}, which does not broadcast to the "
                            f"shape of {target} {tuple(shape)}") from None


# ---- structure: ordered times, contractions, ranges, records (issue 20) ---------------------------------
def increasing(name: str, value, *, positive: bool = True) -> np.ndarray:
    """A 1-D array of finite numbers in strictly increasing order (> 0 when `positive`)."""
    arr = as_array(name, value, positive=positive)
    if arr.ndim != 1:
        raise SpecbiasError(f"{name} must be a 1-D sequence, got shape {arr.shape}")
    if arr.size > 1 and not np.all(np.diff(arr) > 0):
        i = int(np.argmax(np.diff(arr) <= 0))
        raise SpecbiasError(f"{name} must be strictly increasing (entry {i + 1} = {arr[i + 1]:g} follows "
                            f"{arr[i]:g})")
    return arr


def contractible(a_name: str, a: np.ndarray, b_name: str, b: np.ndarray, a_axis: int = -1,
                 b_axis: int = 0, what: str = "") -> None:
    """Axis `a_axis` of a and axis `b_axis` of b are summed against each other: equal lengths, or one
    error showing both shapes (a matmul's ValueError otherwise)."""
    a_shape, b_shape = np.shape(a), np.shape(b)
    if not a_shape or not b_shape or a_shape[a_axis] != b_shape[b_axis]:
        raise SpecbiasError(f"{a_name}{tuple(a_shape)} and {b_name}{tuple(b_shape)} do not line up"
                            + (f" ({what})" if what else ""))


def within(name: str, value, lo: float, hi: float) -> np.ndarray:
    """An array of finite numbers in the closed range [lo, hi] (a physical range: a squared overlap,
    a fraction)."""
    arr = as_array(name, value)
    bad = (arr < lo) | (arr > hi)
    if np.any(bad):
        raise SpecbiasError(f"{name} must lie in [{lo:g}, {hi:g}] (got {arr[bad].reshape(-1)[0]:g})")
    return arr


def record(name: str, value, keys) -> dict:
    """A mapping that holds every key in `keys` (a run's sampler record, say), or one error listing the
    missing ones."""
    if not hasattr(value, "keys") or not hasattr(value, "__getitem__"):
        raise SpecbiasError(f"{name} must be a mapping with keys {', '.join(keys)} (got {_short(value)})")
    missing = [k for k in keys if k not in value]
    if missing:
        raise SpecbiasError(f"{name} lacks {', '.join(missing)} (needs {', '.join(keys)})")
    return value
