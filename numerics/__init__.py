"""specbias numerics: torch training of the models matching the theory, and exact or sampled measurement
of what the trained weights generate. Imports theory only; the `spiked/` wing holds the second paper's
Monte Carlo and reverse chains, the `nets/` wing the σ-conditioned networks of the nonlinear study.

    from numerics import data, train, measure
    ds = data.gaussian(16, "lognormal", seed=0)
    run = train.train("linear", ds, Q=0.1, keep_weights=True)   # gradient descent, per-level steps
    run.gains, run.theory_gains()                               # ψ_k(σ_l, τ_j): trained vs closed form
    measure.measure(run.W, run.b, run.sigma, method="exact", U=ds.U, lam=ds.lam).var_eig
    from numerics.nets.train import train_net                   # networks: train_net("mlp", ds, "edm")

The mathematics the code cites is in docs/theory.md, the authors' protocols in docs/protocols.md.
"""
