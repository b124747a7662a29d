"""specbias numerics: torch training of the models the theory describes, and measurement of what they generate.

    from numerics import data, train, measure, train_net
    ds = data.gaussian(16, "lognormal", seed=0)               # or stationary(N), digits(), patches(P=8), ...
    run = train.train("linear", ds, Q=0.1, keep_weights=True) # per-level gradient descent, τ checkpoints
    run.gains, run.theory_gains()                             # ψ_k(σ, τ): trained vs closed form
    m = measure.measure(run.W, run.b, run.sigma, method="exact", U=ds.U, lam=ds.lam)
    m.var_eig, m.chi, m.kl                                    # generated variance per mode, χ, KL
    net = train_net.train_net("mlp", ds, "edm", steps=3000)   # a σ-conditioned network, the paper's protocol

The mathematics is in docs/theory.md, the authors' protocols in docs/protocols.md.
"""
