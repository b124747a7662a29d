"""The second paper's theory (Weitzner et al., arXiv 2410.14730): the spiked covariance model
(covariance), reverse chains as power iteration (chains), the finite-sample endpoint and its KL
(finite_sample)."""
