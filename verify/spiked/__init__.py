"""The second paper's verification (Weitzner et al., arXiv 2410.14730): its checkers (checks) and
`specbias report --preset spiked` (report, with its computations in data and its figures in figures)."""
