"""Natural-image data sets for the local-convolution study (verify.localconv.analysis, verify.localconv.mechanism):
non-overlapping P × P crops of photographs and textures that ship inside scikit-image — nothing is
downloaded (numerics.data._bundled refuses any image that is not in the package).

Each set is `numerics.data.patches(image, P)`: grayscale (RGB through skimage.color.rgb2gray), every
non-overlapping P × P crop, centred and scaled to mean variance 1, with the empirical covariance (1/n).

Sources and licences (from the scikit-image docstrings, skimage.data.<image>):
- camera: photograph by Lav Varshney, CC0;
- astronaut: Eileen Collins, NASA Great Images database, public domain;
- coffee: photograph by Rachel Michetti (Pikolo Espresso Bar), CC0;
- chelsea: Chelsea the cat, photograph by Stefan van der Walt, CC0;
- brick: CC0Textures "Bricks25", CC0 (perspective-transformed, rotated and cropped by scikit-image);
- grass: DeviantArt "Grass-01" by linolafett, CC0 (cropped, grayscale);
- gravel: CC0Textures "Gravel04", CC0 (rescaled, cropped, grayscale).

    from numerics import image_sets
    image_sets.available()              # registry names, e.g. "camera 8×8"
    ds = image_sets.load("camera 8×8")  # a numerics.data.Dataset of shape (1, 8, 8)
"""
from __future__ import annotations

from dataclasses import dataclass

from theory.errors import SpecbiasError

from . import data


@dataclass(frozen=True)
class Source:
    image: str  # the skimage.data loader
    P: int  # crop side
    kind: str  # "photograph" or "texture"
    licence: str


#: the registry: every natural-image set the project ships for the local-convolution study
SETS = {
    "camera 8×8": Source("camera", 8, "photograph", "CC0, photographer Lav Varshney"),
    "camera 12×12": Source("camera", 12, "photograph", "CC0, photographer Lav Varshney"),
    "astronaut 8×8": Source("astronaut", 8, "photograph", "public domain, NASA Great Images"),
    "coffee 12×12": Source("coffee", 12, "photograph", "CC0, photographer Rachel Michetti"),
    "chelsea 12×12": Source("chelsea", 12, "photograph", "CC0, photographer Stefan van der Walt"),
    "brick 8×8": Source("brick", 8, "texture", "CC0, CC0Textures Bricks25"),
    "grass 12×12": Source("grass", 12, "texture", "CC0, DeviantArt Grass-01 (linolafett)"),
    "gravel 8×8": Source("gravel", 8, "texture", "CC0, CC0Textures Gravel04"),
}


def available() -> list[str]:
    return list(SETS)


def load(name: str) -> data.Dataset:
    """The registered natural-image set `name` (see the module doc), or one clear SpecbiasError."""
    if name not in SETS:
        raise SpecbiasError(f"unknown natural-image set {name!r}; valid: {', '.join(SETS)}")
    s = SETS[name]
    ds = data.patches(s.image, s.P)
    ds.name = name
    ds.meta.update(kind=s.kind, licence=s.licence)
    return ds
