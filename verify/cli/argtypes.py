"""argparse types built from `theory.validate`, so the `specbias` command refuses a bad option while
parsing, before any compute, with the same rule (and message) as the Python API.

    p.add_argument("--Q", type=argtypes.real, ...)
    p.add_argument("--d", type=argtypes.count(hi=...), ...)
    argtypes.parse_params(["N=16"])  # --param NAME=VALUE options → {"N": 16}

A validator's SpecbiasError becomes argparse's `argument --X: <message>`; the top-level parser
(verify.cli) prints it as one line, `specbias: error: ...`, exit status 2.
"""
from __future__ import annotations

import argparse
import re

import numpy as np

from theory import output
from theory import validate as V
from theory.errors import SpecbiasError

DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _typed(fn, label: str):
    def convert(text):
        try:
            return fn(text)
        except SpecbiasError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = label  # argparse names the type in its own messages
    return convert


real = _typed(lambda s: V.scalar("value", s), "number")
positive = _typed(lambda s: V.positive("value", s), "positive number")
nonneg = _typed(lambda s: V.nonneg("value", s), "non-negative number")
seed = _typed(lambda s: V.seed(s, "value"), "seed")
name = _typed(lambda s: output.check_name(s, "value"), "name")
out_dir = _typed(lambda s: output.check_dir(s, "value") and s, "folder")


def count(lo: int = 1, hi: int | None = None):
    """An integer option in [lo, hi]."""
    return _typed(lambda s: V.count("value", s, lo=lo, hi=hi), "integer")


def fraction(lo_open: bool = True, hi_open: bool = True):
    """A number in (0, 1) (ends open by default)."""
    return _typed(lambda s: V.scalar("value", s, lo=0.0, hi=1.0, lo_open=lo_open, hi_open=hi_open), "fraction")


def _device(text: str) -> str:
    if not DEVICE.match(text):
        raise SpecbiasError(f"value must be auto, cpu, cuda or cuda:N (got {text!r})")
    return text


device = _typed(_device, "device")


def parse_params(items, option: str = "--param") -> dict:
    """`--param N=16 --param K=5` → {"N": 16, "K": 5} (numbers parsed as int or float); `option` names
    the option in the messages (e.g. "--model-param")."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SpecbiasError(f"{option} expects NAME=VALUE, got {item!r}")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
            else:
                if not np.isfinite(out[key]):
                    raise SpecbiasError(f"{option} {key} must be finite (got {value!r})")
    return out
