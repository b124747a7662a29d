"""Memory and step estimates made BEFORE building data or training: refuse what will not fit or finish.

Lower bounds on purpose (a refusal must never be wrong; a run that passes may still be slow):
- data: a d×d covariance, its eigenvectors and the rotation's QR work space, ~DATA_COPIES d² floats;
- training (population mode, all levels at once): the effective matrix, W·C and the loss node's saved
  tensors, ~TRAIN_COPIES L·d² floats, the parameters with their gradients and optimiser state
  (~PARAM_COPIES × the model's weights per level, e.g. 2·d·hidden for a two-layer model), plus the
  recorded gains (checkpoints × L × modes) and, with keep_weights, every checkpoint's W and b;
- steps: the level that steps least to reach τ_max still takes ⌈η τ_max / h_l⌉ steps at the largest
  step h_l its stability bound can ever allow (numerics.stability's `ceiling`; product models re-derive
  h_l from the current weights at every checkpoint, and it may grow, but never past that ceiling),
  `steps=N` N.
- time: those steps × the cost of one step, SECONDS_PER_STEP + SECONDS_PER_TENSOR per parameter tensor
  (a depth-L product steps L factors) + 2d³ flops per tensor at FLOPS_PER_SECOND. The constants are
  this project's 2-core CPU machine (deep_linear, d = 2: 1.2 ms per step at L = 20, 2.2 ms at L = 50,
  under load ≈ 3), taken at the initial step (numerics.train); it is an estimate, not a bound (levels
  that converge early freeze: the default circulant run is estimated at 6.8 min and takes 30 s), so
  above MAX_SECONDS it prints one `specbias: note:` line and trains; it never refuses.
`allow_large=True` (CLI `--force`) skips the refusals (and the note); the estimates are still computed.
"""
from __future__ import annotations

import os
import sys

from theory.errors import SpecbiasError

FLOAT = 8  # bytes of a float64
DATA_COPIES = 4
TRAIN_COPIES = 6
PARAM_COPIES = 2  # a parameter and its gradient (the optimiser's state comes on top)
MEMORY_FRACTION = 0.8  # of the memory available now
MAX_LEVEL_STEPS = 10**7  # gradient steps at one level (~an hour of Python-level iterations)
MAX_FLOPS = {"cpu": 1e15, "cuda": 1e17}  # at the level that steps least: days on a CPU / hours on a GPU
MAX_SECONDS = 60.0  # estimated training time above which a one-line note is printed before training
SECONDS_PER_STEP, SECONDS_PER_TENSOR, FLOPS_PER_SECOND = 1e-4, 3e-5, 1e10


def available_memory(device: str = "cpu") -> int:
    """Bytes available now: free GPU memory on cuda, MemAvailable (else physical memory) on the CPU."""
    if str(device).startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.mem_get_info()[0])
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1  # cannot tell: do not refuse


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_memory(what: str, nbytes: float, *, available: int | None = None, device: str = "cpu",
                 allow_large: bool | None = None, hint: str = "") -> float:
    """Refuse (SpecbiasError) when `nbytes` exceed MEMORY_FRACTION of the memory available; an
    `allow_large` of None means the caller offers no override (then none is mentioned)."""
    avail = available_memory(device) if available is None else available
    if nbytes > MEMORY_FRACTION * avail and not allow_large:
        raise SpecbiasError(f"{what} needs about {_gib(nbytes)} of memory, {_gib(avail)} available"
                            + (f": {hint}" if hint else "")
                            + ("" if allow_large is None else " (override: --force / allow_large=True)"))
    return nbytes


def data_bytes(d: int) -> float:
    return float(DATA_COPIES) * d * d * FLOAT


def training_bytes(d: int, levels: int, checkpoints: int, modes: int | None = None,
                   keep_weights: bool = False, weights: float | None = None) -> float:
    """`weights`: trainable floats per level (numerics.models.weights_per_level; default d² + d)."""
    modes = d if modes is None else modes
    weights = float(d) * (d + 1) if weights is None else float(weights)
    work = (TRAIN_COPIES * float(d) * d + PARAM_COPIES * weights) * float(levels) * FLOAT + data_bytes(d)
    record = float(checkpoints) * levels * modes * FLOAT * 2
    keep = float(checkpoints) * levels * d * (d + 1) * FLOAT if keep_weights else 0.0
    return work + record + keep


def step_seconds(n_steps: float, d: int, tensors: int = 2) -> float:
    """Estimated wall time of `n_steps` steps of a model with `tensors` parameter tensors (module doc)."""
    per_tensor = SECONDS_PER_TENSOR + 2.0 * float(d) ** 3 / FLOPS_PER_SECOND
    return float(n_steps) * (SECONDS_PER_STEP + tensors * per_tensor)


def check_steps(n_steps: float, d: int, *, device: str = "cpu", allow_large: bool = False,
                tensors: int = 2, n_estimate: float | None = None) -> float:
    """Refuse a run whose least-stepping level alone exceeds MAX_LEVEL_STEPS or MAX_FLOPS (2d³ per step
    and parameter tensor); note (one stderr line, no refusal) a run whose estimated time (step_seconds
    of `n_estimate` steps, default `n_steps`) exceeds MAX_SECONDS."""
    flops = n_steps * 2.0 * float(d) ** 3 * tensors
    limit = MAX_FLOPS["cuda" if str(device).startswith("cuda") else "cpu"]
    override = "(override: --force / allow_large=True)"
    if allow_large:
        return n_steps
    if n_steps > MAX_LEVEL_STEPS or flops > limit:
        raise SpecbiasError(
            f"training would take at least {n_steps:.3g} gradient steps at one level (~{flops:.2g} flops; "
            f"limits {MAX_LEVEL_STEPS:.0e} steps, {limit:.0e} flops): shorten tau (--tau-max/--taus), "
            f"use a larger step (--h/--step-fraction) or fewer steps {override}")
    n_est = n_steps if n_estimate is None else n_estimate
    seconds = step_seconds(n_est, d, tensors)
    if seconds > MAX_SECONDS:
        # an estimate, not a bound (levels that converge stop stepping early; per-step costs vary by
        # machine): a note, never a refusal (the default circulant run was estimated at 6.8 min, took 30 s)
        note(f"training may take up to ~{seconds / 60:.1f} min ({n_est:,.0f} steps at the level that steps "
             f"least × {tensors} parameter tensors; levels that converge stop earlier); to shorten it: "
             "--tau-max/--taus, fewer factors, a larger step or fewer steps")
    return n_steps


def note(message: str) -> None:
    """One line on stderr before long work (the CLI's `specbias: note:` channel)."""
    print(f"specbias: note: {' '.join(message.split())}", file=sys.stderr)


NET_COPIES = 4  # a network parameter, its gradient and Adam's two moments
SAMPLER_COPIES = 3  # the CRN latents, the generated samples and one Heun work array, n × d each


def network_bytes(cls, shape, options: dict, batch: int, itemsize: int = 4) -> float:
    """Parameters (× NET_COPIES) and the activations one training step keeps for the backward pass
    (the outputs of every leaf module on a batch), of network class `cls` with `options`, measured on
    torch's "meta" device: shapes only, nothing allocated, so a width of 10⁹ is refused in milliseconds."""
    import torch

    with torch.device("meta"):
        net = cls(tuple(shape), **options)
        params = sum(p.numel() for p in net.parameters())
        acts = [0]

        def count(module, inputs, output):
            if isinstance(output, torch.Tensor) and not list(module.children()):
                acts[0] += output.numel()

        hooks = [m.register_forward_hook(count) for m in net.modules()]
        try:
            net(torch.empty(int(batch), *shape), torch.empty(int(batch)))
        except Exception:  # a network meta tensors cannot run through: its parameters still count
            acts[0] = 0
        for h in hooks:
            h.remove()
    return float(itemsize) * (NET_COPIES * params + acts[0])


def sampler_bytes(n_samples: int, d: int, bootstrap: int) -> float:
    """The CRN sampler (numerics.nets.crn): latents, samples and work arrays (n × d, float64) and the
    bootstrap's index, count and weight arrays (bootstrap × n)."""
    return FLOAT * SAMPLER_COPIES * (float(n_samples) * d + float(bootstrap) * n_samples)
