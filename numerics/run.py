"""A training run: labelled numpy arrays plus metadata, saved as run.npz + run.json.

Arrays (axis names in `AXES`):
- `tau` [checkpoint]: gradient-flow times of the checkpoints (ητ = Σ steps of size h);
- `sigma` (denoisers) or `t` (flow matching) [level]: the noise levels / flow times;
- `lam` [mode]: variances of the measurement modes (data eigenvalues, or Fourier variances);
- `gains` [checkpoint, level, mode]: per-mode gains ψ_k = Re u_k* W u_k of the trained weights,
  projected on the measurement basis after training (the model never saw that basis);
- `loss` [checkpoint, level]: the exact expected loss at the checkpoint;
- `h` [level]: the step size each level started with; `seg_h`, `seg_steps` [checkpoint, level]: the
  step size and number of steps of the segment that ends at each checkpoint (0 steps: none taken,
  e.g. at τ = 0 or after the level froze); `steps` [checkpoint, level]: cumulative steps;
- `converged_tau` [level]: the τ at which a level was frozen as numerically converged (NaN: never);
- optional `W` [checkpoint, level, d, d] and `b` [checkpoint, level, d] (`keep_weights=True`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import theory
from theory.errors import SpecbiasError
from theory.output import check_dir, dumps, write_atomic

AXES = {"tau": ("checkpoint",), "sigma": ("level",), "t": ("level",), "lam": ("mode",),
        "gains": ("checkpoint", "level", "mode"), "loss": ("checkpoint", "level"), "h": ("level",),
        "seg_h": ("checkpoint", "level"), "seg_steps": ("checkpoint", "level"),
        "steps": ("checkpoint", "level"), "converged_tau": ("level",),
        "W": ("checkpoint", "level", "row", "col"), "b": ("checkpoint", "level", "row")}


@dataclass(eq=False)
class Run:
    arrays: dict
    meta: dict
    model: object = field(default=None, repr=False, compare=False)  # the trained torch model (not saved)

    def __getattr__(self, name):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    @property
    def level_name(self) -> str:
        return self.meta.get("level_name", "sigma")

    @property
    def levels(self) -> np.ndarray:
        return self.arrays[self.level_name]

    def theory_gains(self, arch=None) -> np.ndarray:
        """theory's ψ_k(level, τ) on this run's grid [checkpoint, level, mode] (gradient flow)."""
        arch = theory.get(arch or self.meta["arch"])
        lam = self.arrays["lam"]
        return arch.weight(lam[None, None, :], self.levels[None, :, None], self.arrays["tau"][:, None, None],
                           Q=self.meta["Q"], eta=self.meta["eta"], **self.meta.get("theory_params", {}))

    def save(self, directory) -> Path:
        """Write `run.npz` and `run.json` into `directory` (created if needed; checked first by
        theory.output.check_dir). Each file is written under a temporary name and renamed into place,
        so an interrupted save never leaves a truncated run.npz; only these two files are replaced."""
        path = check_dir(directory, "directory")
        path.mkdir(parents=True, exist_ok=True)
        write_atomic(path / "run.npz", lambda fh: np.savez_compressed(fh, **self.arrays))
        write_atomic(path / "run.json", dumps(self.meta, indent=1).encode())
        return path

    @classmethod
    def load(cls, directory) -> "Run":
        path = Path(directory)
        if not (path / "run.npz").is_file() or not (path / "run.json").is_file():
            raise SpecbiasError(f"{directory} holds no saved run (run.npz + run.json)")
        with np.load(path / "run.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        return cls(arrays, json.loads((path / "run.json").read_text()))

    def summary(self) -> dict:
        """Short JSON-able description (metadata and array shapes)."""
        return dict(self.meta, arrays={k: list(v.shape) for k, v in self.arrays.items()})

