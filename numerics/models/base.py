"""The base class of every torch model and the aligned initial matrices.

A model is affine in its input with independent parameters per level; subclasses create their
parameters in `_build` (level axis first) and implement `_effective(p)`; `forward` defaults to the
effective affine map and is overridden where the network computes it otherwise (convolutions).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from theory import validate as V
from theory.errors import SpecbiasError

SIGMA0, SIGMAT, LEVELS = 0.002, 80.0, 64
INITS = ("aligned", "random")


def default_sigmas(n: int = LEVELS, sigma0: float = SIGMA0, sigmaT: float = SIGMAT,
                   dtype=torch.float64) -> torch.Tensor:
    """n log-spaced noise levels from σ0 to σT, increasing."""
    return torch.as_tensor(np.geomspace(sigma0, sigmaT, int(n)), dtype=dtype)


def level_grid(name: str, values, rule: str, ok) -> torch.Tensor:
    """A 1-D float64 grid of levels: non-empty, finite, `ok` elementwise (described by `rule`), increasing."""
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if v.numel() == 0 or not bool(torch.isfinite(v).all()) or not bool(ok(v).all()):
        raise SpecbiasError(f"{name} must be finite and {rule}")
    if v.numel() > 1 and bool((v[1:] <= v[:-1]).any()):
        raise SpecbiasError(f"{name} must be strictly increasing")
    return v


def model_class(arch):
    """The torch class an architecture declares in `model` ("module:Class"), without building one."""
    return arch.model_class()


#: options of every model that a trainer does not set itself (see AffineModel.__init__)
COMMON_OPTIONS = ("bias",)
#: the largest size a model option (hidden width, depth, ...) may take; memory is estimated after
MAX_OPTION_SIZE = 2**24


def check_options(arch, options: dict | None) -> dict:
    """Torch-model options (`model_kwargs`, CLI `--model-param`) the architecture's model really takes:
    its own non-theory parameters (e.g. `hidden`) and COMMON_OPTIONS; anything else is refused rather
    than silently ignored. An architecture with a custom `torch_model` and no `model` is not checked."""
    options = dict(options or {})
    if not options or not getattr(arch, "model", ""):
        return options
    cls = model_class(arch)
    valid = sorted((set(cls.own_params) - set(arch.params)) | set(COMMON_OPTIONS))
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise SpecbiasError(f"{arch.name}'s torch model ({cls.__name__}) takes no option {unknown} "
                            f"(valid: {', '.join(valid)}; theory parameters go in params / --param)")
    if "bias" in options and options["bias"] not in (0, 1):  # True/False/0/1
        raise SpecbiasError(f"model option bias must be true or false (0 or 1), got {options['bias']!r}")
    for k in set(options) - set(COMMON_OPTIONS):  # every other model option is a size (width, depth)
        options[k] = V.count(f"model option {k} (--model-param)", options[k], hi=MAX_OPTION_SIZE)
    return options


def weights_per_level(arch, d: int, options: dict | None = None) -> int:
    """Trainable floats per level of the architecture's torch model (its `n_weights`, from the sizes
    alone, nothing built); d² + d where the architecture declares no model class."""
    if not getattr(arch, "model", ""):
        return d * d + d
    cls = model_class(arch)
    own = {k: v for k, v in (options or {}).items() if k in cls.own_params}
    return int(cls.n_weights(d, **own))


def _eigen(cov, d: int):
    """Eigenvectors of cov, columns ordered by descending eigenvalue (used only for aligned init)."""
    if cov is None:
        raise SpecbiasError("a per-mode Q needs `cov` to build the aligned initial matrix "
                            "Σ_k Q_k u_k u_kᵀ (cov is used for nothing else)")
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (d, d):
        raise SpecbiasError(f"cov must be {d}×{d}, got shape {cov.shape}")
    lam, U = np.linalg.eigh(0.5 * (cov + cov.T))
    return U[:, ::-1]


def _per_mode(Q, d: int) -> np.ndarray:
    Q = np.asarray(Q, dtype=float)
    if Q.ndim == 0:
        return Q
    if Q.size != d:
        raise SpecbiasError(f"Q must be a scalar or one value per mode ({d}), got {Q.size} values")
    return Q.reshape(-1)


def aligned_factor(Q, cov, d: int, width: int | None = None, power: float = 1.0) -> np.ndarray:
    """A d×width matrix F with F Fᵀ = Σ_k Q_k^{2·power} u_k u_kᵀ (u_k by descending variance).

    width ≥ d (default d): F = [A, 0] with A = Σ_k Q_k^power u_k u_kᵀ (symmetric; A = Q^power·I for a
    scalar Q, which needs no cov); width < d: F = [Q_k^power u_k] for the top `width` modes.
    """
    width = d if width is None else int(width)
    Q = _per_mode(Q, d)
    if np.any(Q < 0):
        raise SpecbiasError("aligned initialisation needs Q ≥ 0")
    if Q.ndim == 0 and width >= d:
        A = float(Q) ** power * np.eye(d)
    else:
        U = _eigen(cov, d)
        q = np.broadcast_to(Q, (d,)) ** power
        if width < d:
            return U[:, :width] * q[None, :width]
        A = (U * q[None, :]) @ U.T
    return np.concatenate([A, np.zeros((d, width - d))], axis=1)


def aligned_matrix(Q, cov, d: int, power: float = 1.0) -> np.ndarray:
    """Σ_k Q_k^power u_k u_kᵀ (Q·I for a scalar Q)."""
    return aligned_factor(Q, cov, d, d, power)


class AffineModel(nn.Module):
    """Base class; see numerics.models. Subclasses implement `_build` and `_effective`."""

    kind = "denoiser"
    level_name = "sigma"
    basis = "eigen"
    #: keyword parameters `_build` takes (theory parameters such as `L`, and model options); other
    #: architecture parameters are kept as metadata only.
    own_params: tuple = ()

    @classmethod
    def n_weights(cls, d: int, **own) -> int:
        """Trainable floats per level, from the sizes alone (for the memory estimate made before the
        model is built, numerics.budget): d² + d by default (the effective matrix and the bias)."""
        return d * d + d

    def __init__(self, arch=None, d: int | None = None, sigmas=None, init: str = "aligned", Q=0.1,
                 cov=None, scale: float = 1e-3, dtype=torch.float64, device="cpu",
                 generator: torch.Generator | None = None, shape=None, bias: bool = True, **arch_params):
        super().__init__()
        shape = tuple(int(s) for s in (shape or (d,)))
        d = int(np.prod(shape)) if d is None else int(d)
        if d < 1 or int(np.prod(shape)) != d:
            raise SpecbiasError(f"signal shape {shape} does not hold d = {d} values")
        if init not in INITS:
            raise SpecbiasError(f"init must be one of {', '.join(INITS)} (got {init!r})")
        if not np.isfinite(scale) or scale < 0:
            raise SpecbiasError(f"random init scale must be ≥ 0 (got {scale!r})")
        self.arch_name = getattr(arch, "name", None)
        self.d, self.shape, self.init, self.scale, self.has_bias = d, shape, init, float(scale), bool(bias)
        self.Q = Q
        self.extra_params = {k: v for k, v in arch_params.items() if k not in self.own_params}
        self.register_buffer("levels", self._levels(sigmas).to(dtype=dtype, device=device))
        self.generator = generator
        self._dtype, self._device = dtype, torch.device(device)
        self._build(init, Q, cov, **{k: v for k, v in arch_params.items() if k in self.own_params})

    # ---- levels and what the model is trained on ---------------------------------------------------
    def _levels(self, sigmas) -> torch.Tensor:
        if sigmas is None:
            return default_sigmas()
        return level_grid("noise levels (sigmas)", sigmas, "> 0", lambda s: s > 0)

    @property
    def sigmas(self) -> torch.Tensor:
        return self.levels

    @property
    def n_levels(self) -> int:
        return int(self.levels.numel())

    def pair_coefficients(self) -> torch.Tensor:
        """[levels, 4] = (a, c, e, f): input a·x + c·z, target e·x + f·z, x ~ data, z ~ N(0, I).
        Denoiser: input x + σz, target x (theory.md §1.2)."""
        one = torch.ones_like(self.levels)
        return torch.stack([one, self.levels, one, torch.zeros_like(one)], dim=-1)

    # ---- parameters -------------------------------------------------------------------------------
    def _tensor(self, value) -> torch.Tensor:
        return torch.as_tensor(value, dtype=self._dtype).to(self._device)

    def _random(self, *shape) -> torch.Tensor:
        """scale · N(0, 1) entries (drawn on the CPU generator, so every device gets the same init)."""
        z = torch.randn(*shape, generator=self.generator, dtype=torch.float64)
        return self._tensor(self.scale * z)

    def _per_level(self, init_value: np.ndarray, random_shape) -> nn.Parameter:
        """A parameter [levels, ...]: the aligned value repeated at every level, or random."""
        if self.init == "random":
            return nn.Parameter(self._random(self.n_levels, *random_shape))
        v = self._tensor(init_value)
        return nn.Parameter(v.unsqueeze(0).repeat(self.n_levels, *([1] * v.ndim)))

    def _bias_parameter(self, width: int) -> None:
        if self.has_bias:
            self.b = nn.Parameter(torch.zeros(self.n_levels, width, dtype=self._dtype, device=self._device))

    def params(self) -> dict:
        """The trainable tensors by name (level axis first)."""
        return dict(self.named_parameters())

    def _bias(self, p: dict, like: torch.Tensor) -> torch.Tensor:
        if "b" in p:
            return self._expand_bias(p["b"])
        return torch.zeros(like.shape[:-1], dtype=like.dtype, device=like.device)

    def _expand_bias(self, b: torch.Tensor) -> torch.Tensor:
        return b

    # ---- the affine map ----------------------------------------------------------------------------
    def effective(self, params: dict | None = None):
        """(W [levels, d, d], b [levels, d]) of D(x) = W x + b; `params` may be a level subset."""
        return self._effective(self.params() if params is None else params)

    def _effective(self, p: dict):
        raise NotImplementedError

    def forward(self, x: torch.Tensor, params: dict | None = None) -> torch.Tensor:
        """x [levels, batch, d] → [levels, batch, d]."""
        return self._forward(self.params() if params is None else params, x)

    def _forward(self, p: dict, x: torch.Tensor) -> torch.Tensor:
        W, b = self._effective(p)
        return torch.einsum("lij,lbj->lbi", W, x) + b[:, None, :]

    # ---- stability ---------------------------------------------------------------------------------
    #: whether `_curvature` reads the gain bound `wmax` and the gradient bound `g` (product models);
    #: when False the trainer does not compute them (they cost a spectral norm per level)
    weight_dependent_curvature = False

    def curvature(self, s: torch.Tensor, wmax: torch.Tensor, g: torch.Tensor, coupled: bool = False) -> torch.Tensor:
        """Bound on the top eigenvalue of the per-level loss Hessian in parameter space, given a bound
        s on the top eigenvalue of the input's second moment E[y yᵀ] (the Hessian of the loss in the
        effective matrix W is 2·S ⊗ I with ‖S‖₂ ≤ s), the largest gain wmax ≥ ‖W‖₂ and a bound
        g ≥ ‖∂L/∂W‖₂/2 = ‖W S − B‖₂ on the segment ahead (numerics.stability); gradient descent with
        step h is stable where h < 2/curvature. The bias block is 2·(positions sharing a bias entry);
        with a data mean (`coupled`) it couples to the weights and the two bounds add, otherwise the
        blocks are independent and the larger one counts."""
        out = self._curvature(s, wmax, g)
        if self.has_bias:
            bias = torch.full_like(out, 2.0 * self.bias_share)
            out = out + bias if coupled else torch.maximum(out, bias)
        return out

    bias_share = 1  # positions sharing one bias entry

    def _curvature(self, s, wmax, g):
        return 2.0 * s

    def describe(self) -> dict:
        return {"class": type(self).__name__, "kind": self.kind, "basis": self.basis, "d": self.d,
                "shape": list(self.shape), "levels": self.n_levels, "init": self.init,
                "scale": self.scale, "bias": self.has_bias,
                "parameters": {k: list(v.shape) for k, v in self.params().items()},
                "extra_params": {k: v for k, v in self.extra_params.items()}}
