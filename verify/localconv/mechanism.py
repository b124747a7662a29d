"""The mechanism of near-simultaneous emergence along the data PCs, stated by the data (issue 16 §5):
which measured property of a data set predicts that weight sharing alone (the full-width circulant)
makes the PCs emerge at nearly one time, and when the kernel size P (locality) matters.

Two properties of the data, both computed from its covariance Σ alone:
- the compression c = std ln uᵀΣ̄u / std ln λ_u over the data PCs u (verify.localconv.analysis.compression; Σ̄
  the shift-averaged covariance): 1 on stationary data, near 0 when shift-averaging flattens the targets;
- the reach r_P = Σ_{δ outside the P × P window} k(δ)² / Σ_δ k(δ)², k(δ) = mean_i Σ[i, i + δ] (circular)
  the shift-averaged covariance function: the share of the correlation energy a P × P kernel cannot see.

Claims (`violations` lists every one that fails on given survey rows; thresholds fixed a priori):
1. weight sharing alone: S_full < ½ exactly where c < ½ (a shift-invariant model's λ̃ along u tends to
   uᵀΣ̄u, so compressed targets give one common rise, crossed at nearly one time);
2. strong compression (c < ½): every kernel P ≥ 3 gives S within TRACKS of full width (locality
   changes nothing) and S < ½;
3. a kernel that covers the correlations (r_P ≤ REACH) gives S within TRACKS of full width, whatever c;
   where r_P > REACH and c ≥ ½ the kernel size can move S either way (measured, not a claim);
4. P = 1 (one shared gain) is its own case: every Fourier mode has the same gain, so λ̃ along every
   direction is one trajectory λ̃_lin(ν̄, τ; Q, HWη), ν̄ = tr Σ / d, and τ*_u depends on λ_u only
   through the threshold √(v₀λ_u): S < ½ on every data set, stationary ones included.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import theory
from theory.along import emergence_along

from verify.departure import SIMULTANEOUS, simultaneity
from verify.localconv import analysis as L

KERNELS = (1, 3, 5, 7)
#: |S_P − S_full| below this counts as "locality changes nothing" (the study's earlier tolerance 0.1)
TRACKS = 0.1
#: r_P ≤ REACH: the P × P window holds at least three quarters of the correlation energy (fixed a priori)
REACH = 0.25


def study_sets() -> dict:
    """name → loader of every data set the mechanism is stated on: digits, stationary and random
    (Haar) 8 × 8 covariances, and every registered natural-image set (numerics.image_sets)."""
    from numerics import data, image_sets

    from verify.properties.localconv import random_images

    sets = {"digits": data.digits, "stationary 8×8": lambda: data.stationary2d(8, beta=2.0),
            "random 8×8": lambda: random_images(8, seed=2)}
    sets.update({n: (lambda n=n: image_sets.load(n)) for n in image_sets.available()})
    return sets


def covariance_function(ds) -> np.ndarray:
    """k(δ) = mean_i Σ[i, i + δ] (C, H, W) per channel, δ = (δ_h, δ_w) circular: the first row of Σ̄."""
    C, H, W = ds.shape
    ih, iw = np.divmod(np.arange(H * W), W)
    dh, dw = np.divmod(np.arange(H * W), W)
    j = ((ih[:, None] + dh[None, :]) % H) * W + (iw[:, None] + dw[None, :]) % W  # (i, δ)
    out = np.empty((C, H * W))
    for c in range(C):
        block = ds.cov[c * H * W:(c + 1) * H * W, c * H * W:(c + 1) * H * W]
        out[c] = block[np.arange(H * W)[:, None], j].mean(0)
    return out.reshape(C, H, W)


def reach(ds, P: int) -> float:
    """r_P: the share of Σ_δ k(δ)² outside the P × P window |δ_h|, |δ_w| ≤ P // 2 (circular distances)."""
    k = covariance_function(ds)
    _, H, W = ds.shape
    dh = np.minimum(np.arange(H), H - np.arange(H))[:, None]
    dw = np.minimum(np.arange(W), W - np.arange(W))[None, :]
    outside = np.maximum(dh, dw) > P // 2
    return float(np.sum(k[:, outside] ** 2) / np.sum(k**2))


def simultaneity_along(name: str, ds, m, P: int = 3, Q: float = 0.1, weights=None) -> float:
    """S of a closed-form architecture along the basis `m` (geometric criterion): the departure flag's
    index without its fits and target check (cheap). `weights`: L.weights(arch, ds, m) if known."""
    arch = theory.get(name)
    modes, w = L.weights(arch, ds, m) if weights is None else weights
    ts = emergence_along(arch, modes, w, m.target, criterion="geometric", Q=Q, bisections=L.BISECTIONS,
                         **L.params(arch, ds, P))
    return simultaneity(m.target, ts, float(arch.initial_variance(Q)))


@dataclass
class Row:
    dataset: str
    compression: float
    S_full: float
    S: dict = field(default_factory=dict)  # kernel size P → S of conv2d
    reach: dict = field(default_factory=dict)  # P → r_P

    def as_dict(self) -> dict:
        return {"dataset": self.dataset, "compression": self.compression, "S_full": self.S_full,
                "S": {str(k): v for k, v in self.S.items()}, "reach": {str(k): v for k, v in self.reach.items()}}


def survey(name: str, ds, kernels=KERNELS) -> Row:
    """The measured properties (c, r_P) and S of the full-width circulant and conv2d per P on `ds`."""
    m = L.measurement(ds, "pcs")
    side = min(ds.shape[1:])
    ks = [P for P in kernels if P <= side]
    w = L.weights(theory.get("circulant"), ds, m)  # one Fourier spectrum and weights for every kernel
    return Row(name, L.compression(ds), simultaneity_along("circulant", ds, m, weights=w),
               {P: simultaneity_along("conv2d", ds, m, P, weights=w) for P in ks},
               {P: reach(ds, P) for P in ks if P > 1})


def violations(rows) -> list[str]:
    """Every claim of the module doc that fails on the survey rows (empty: the mechanism holds)."""
    out = []
    for r in rows:
        c, Sf, half = r.compression, r.S_full, SIMULTANEOUS
        if (Sf < half) != (c < half):
            out.append(f"{r.dataset}: compression {c:.2f} and full-width S {Sf:.2f} on opposite sides of {half}")
        for P, S in r.S.items():
            if P == 1:
                if not S < half:
                    out.append(f"{r.dataset}: P = 1 gives S {S:.2f} ≥ {half}")
                continue
            if c < half and not (abs(S - Sf) < TRACKS and S < half):
                out.append(f"{r.dataset}: compression {c:.2f} < {half} but P = {P} gives S {S:.2f} "
                           f"(full width {Sf:.2f})")
            if r.reach[P] <= REACH and not abs(S - Sf) < TRACKS:
                out.append(f"{r.dataset}: P = {P} covers the correlations (r = {r.reach[P]:.2f}) but S "
                           f"{S:.2f} differs from full width {Sf:.2f} by ≥ {TRACKS}")
    return out
