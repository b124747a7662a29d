"""The nonlinear study's verification: emergence, exponents and the comparison with the linear theory
(analysis), and `specbias report --preset nonlinear` (report, figures)."""
