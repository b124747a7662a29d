"""Scratch (outside the project): synthetic specbias-layout trajectories, analysed by the authors' own
functions (Animadversio/DiffusionLearningCurve @ 94965885b5d94a8fcba0c3b6a31b895d3eb5deee,
core/trajectory_convergence_lib.py), following their Figure_nn_Gaussian_learning_curve notebook cells 26/38.
With a run folder as argument, the trajectories of that specbias run instead (authors_conventions_mlp.npz:
the nonlinear preset's reduced MLP, d = 64, seed 0; PYTHONPATH = the project). Run from a folder holding
their file as their_trajectory_convergence_lib.py (git show <commit>:<path>); needs torch, pandas,
scikit-learn; seaborn (plotting only) is stubbed. Not part of the test suite."""
import sys
import types

import numpy as np
import torch

sys.modules["seaborn"] = types.ModuleType("seaborn")  # only used for plotting
import their_trajectory_convergence_lib as A

if len(sys.argv) > 1:  # a saved specbias network run (numerics.run.Run folder): its trajectories
    from numerics.run import Run

    run = Run.load(sys.argv[1])
    var, steps, lam = run.var_eigen, run.steps, run.lam_eigen
    lr, target = np.float64(run.meta["protocol"]["lr"]), "authors_conventions_mlp.npz"
else:
    rng = np.random.default_rng(16)
    k = 40
    lam = np.sort(np.exp(rng.standard_normal(k)))[::-1]; lam = lam / lam.mean()
    steps = np.unique(np.concatenate([np.arange(0, 10), np.arange(10, 50, 2), np.arange(50, 200, 4),
                                      np.arange(200, 600, 8), np.arange(600, 1600, 16), np.arange(1600, 5001, 32)]))
    lr = 1e-4
    tau = steps * lr
    v0 = 0.35 * np.exp(0.15 * rng.standard_normal(k))          # exact τ = 0 variance per mode
    jump = np.exp(0.15 * rng.standard_normal(k))               # what the first optimiser step does
    x = (lam[None, :] ** 0.9) * tau[:, None] / 0.02
    f = x / (1 + x)
    lv = np.log(v0) + (np.log(lam) - np.log(v0)) * f
    lv[1:] += np.log(jump) * np.exp(-tau[1:, None] / 5e-4)   # the first steps' transient, decaying
    lv[1:] += 0.04 * rng.standard_normal((len(steps) - 1, k))  # checkpoint-to-checkpoint noise
    var = np.exp(lv)                                          # [J, k], row 0 = τ = 0 (specbias layout)
    target = "authors_conventions.npz"

traj = var[1:]                      # the authors' trajectory: first recorded checkpoint after τ = 0
step_slice = steps[1:]
out = {"steps": steps, "lr": np.float64(lr), "var": var, "lam": lam}
for crit, name in (("geometric_mean", "geometric"), ("harmonic_mean", "harmonic"), ("mean", "arithmetic")):
    df = A.compute_crossing_points(torch.from_numpy(lam), torch.from_numpy(traj), step_slice, smooth_sigma=1,
                                   threshold_type=crit)
    init_var = traj[0, :]
    mean_init_var = init_var.mean().item()
    exclude = (df.Variance / mean_init_var > 0.5) & (df.Variance / mean_init_var < 2)
    for d in ("increase", "decrease"):
        sub = df[~exclude].query(f"Direction == '{d}'")
        fit = A.fit_regression_log_scale(sub.Variance, sub.emergence_step)
        out[f"slope_{name}_{d}"] = np.float64(fit["slope"])
        out[f"n_{name}_{d}"] = np.int64(fit["N"])
        out[f"r2_{name}_{d}"] = np.float64(fit["r_squared"])
    out[f"emergence_step_{name}"] = df.emergence_step.to_numpy(float)
    out[f"excluded_{name}"] = exclude.to_numpy()
np.savez_compressed(target, **out)
print({k_: v for k_, v in out.items() if k_.startswith(("slope", "n_"))})
