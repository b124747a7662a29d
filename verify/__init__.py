"""specbias verify: agreement between theory and numerics, departure flags, the property suite, the
reports and the `specbias` command (verify.cli, the one front door). Imports numerics and theory.

    from verify.agreement import compare, judge
    compare(run, ds).summary()                      # per-run bounds, worst errors, reasons
    judge(run, ds)["ok"]                            # the one verdict (train, verify and report)
    from verify.properties.engine import run_suite
    run_suite(["linear"], profile="ci")              # the property suite behind `specbias verify`
    from verify.report.build import build
    build("quick", "quick", out="reports")           # the agreement report

The mathematics the code cites is in docs/theory.md, the authors' protocols in docs/protocols.md.
"""
