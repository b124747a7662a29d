"""The nonlinear study's verification: emergence, exponents and the comparison with the linear theory
(analysis), the authors' emergence conventions and the ladder between theirs and specbias's (conventions),
the verdict over seeds on the paper's protocol (seeds), the knob ablation of the reduced protocol (knobs),
and `specbias report --preset nonlinear|nonlinear-paper|nonlinear-quick|nonlinear-knobs` (report, figures)."""
