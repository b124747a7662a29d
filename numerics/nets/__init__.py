"""The σ-conditioned networks of the nonlinear study: the nets (models, mlp, convnets), the EDM protocol
(edm), CRN checkpoint sampling (crn), training (train) and `specbias bench nonlinear`'s workload (bench)."""
