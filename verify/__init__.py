"""specbias verify: agreement between theory and numerics, departure flags and reports.

    from verify.agreement import compare
    compare(run, ds).summary()                    # a numerics.train run against theory: errors, tolerances
    from verify.properties import run_suite
    run_suite(["linear"], profile="ci")           # the property suite behind `specbias verify`
    from verify import nonlinear
    nonlinear.emergence(net_run)                  # τ* and exponent CIs of a trained network
    python -m verify.cli report                   # the command line (`specbias …`)

Tolerances with their reasons: verify/tolerances.py; what is checked against: docs/theory.md.
"""
