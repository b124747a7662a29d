"""Torch models matching the theory's architectures (one per registry entry; `Architecture.model`).

Every model is affine in its input, with independent parameters at every noise level (or flow time):
- `effective(params=None) -> (W [levels, d, d], b [levels, d])`: the affine map it computes;
- `forward(x [levels, batch, d], params=None) -> [levels, batch, d]`: the network itself;
- every parameter has the level axis first, so a trainer can step levels with their own step sizes
  and train any subset of levels by passing `params` (sliced along axis 0);
- `pair_coefficients()` says what it is trained on (input a·x + c·z, target e·x + f·z per level);
- `curvature(s, wmax)` bounds the per-level loss Hessian (the stability bound of gradient descent);
- `basis` names the measurement basis ("eigen": data eigenvectors; "fourier": DFT modes);
- `kind` is "denoiser" or "flow".

None of them is given the data eigenbasis: `cov` is used only to build an aligned initial matrix
Σ_k Q_k u_k u_kᵀ when Q is given per mode (a scalar Q needs no `cov`: the aligned matrix is Q·I).
"""
from .base import (AffineModel, aligned_factor, aligned_matrix, check_options, default_sigmas, model_class,
                   weights_per_level)
from .conv import Circulant, LocallyConnected2d, PatchConv, PatchConv2d, SharedWeightModel
from .dense import DeepLinear, Linear, SymTwoLayer, TwoLayer
from .flow import FlowMatching, default_ts

__all__ = ["AffineModel", "SharedWeightModel", "Linear", "SymTwoLayer", "TwoLayer", "DeepLinear",
           "Circulant", "PatchConv", "PatchConv2d", "LocallyConnected2d",
           "FlowMatching", "aligned_matrix", "aligned_factor",
           "default_sigmas", "default_ts", "model_class", "check_options", "weights_per_level"]
