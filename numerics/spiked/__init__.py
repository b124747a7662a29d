"""The second paper's numerics (Weitzner et al., arXiv 2410.14730): Monte Carlo of the noisy-PCA denoiser
(simulate), fixation and reverse chains of learned filters (dynamics), Jacobian alignment with the
principal components (jacobian)."""
