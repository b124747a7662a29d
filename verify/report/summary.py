"""The default report's top: derivation failures first (when written with allow_failed), then one summary
row per architecture — derivation status, training agreement, departure verdicts, the theory's exponent."""
from __future__ import annotations

import numpy as np

from . import document as doc


def agreement_cell(r) -> str:
    """The agreement result of one architecture: pass / FAIL / skipped (with the reason), and never a bare
    "pass" when trained modes did not emerge within the training window (nothing was compared there)."""
    from .data import not_emerged

    if r.agreement is None:
        return f"skipped: {r.untrained}"
    ok = r.agreement.summary()["ok"]
    missing, total = not_emerged(r)
    if missing:
        return (f"{'FAIL; ' if not ok else ''}not emerged: {missing} of {total} trained modes by τ = "
                f"{r.run.tau.max():.3g} (weights agree {'' if ok else 'not '}where trained)")
    return "pass" if ok else "FAIL"


def window_text(results) -> str:
    """The training windows and the rule that chose them."""
    parts = [f"{r.name} τ ≤ {r.window['tau_max']:.3g} (latest τ* {r.window['latest_tau_star']:.3g}"
             + ("; capped" if r.window["capped"] else "") + ")" for r in results if r.window]
    if not parts:
        return ""
    w = next(r.window for r in results if r.window)
    return (f"Training windows, chosen from each architecture's theory: from τ = 0.001 to the later of "
            f"τ = {w['floor']:g} and {w['margin']:g} × the latest exact emergence time (geometric) of the trained "
            f"modes, at most {w['cap']:g}: " + "; ".join(parts) + ".")


def failure_blocks(derivations: dict) -> list:
    failed = [s for s in derivations.values() if not s.ok]
    if not failed:
        return []
    lines = "; ".join(f"**{s.name}** at check `{s.failed_at}`: {s.detail}" for s in failed)
    return [doc.h2("Derivation FAILED"),
            doc.p(f"The symbolic derivation does not support the claimed closed forms of: {lines}. Every number "
                  "below for these architectures comes from the claimed (unsupported) formulas; `specbias derive` "
                  "prints each check. This report was written because --allow-failed-derivation was given.")]


def summary_blocks(results, derivations: dict) -> list:
    rows = [["architecture", "derivation", "training agreement", "departure verdicts", "α geometric (inc.) [95% CI]"]]
    for r in results:
        s = derivations.get(r.name)
        verdicts = "; ".join(dict.fromkeys(f.classification for f in r.flags)) or "–"  # "; ": a verdict has commas
        fit = r.fits["geometric"]["increasing"]
        alpha = "–" if fit.n < 2 or not np.isfinite(fit.alpha) else \
            f"{fit.alpha:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]" if np.all(np.isfinite(fit.ci)) else f"{fit.alpha:.3f}"
        rows.append([r.name, "–" if s is None else ("pass" if s.ok else f"FAIL at {s.failed_at}"),
                     agreement_cell(r), verdicts, alpha])
    return [doc.h2("Summary"),
            doc.p("One row per architecture: its derivation (`specbias derive`: loss → ODE → solution → sampling "
                  "formula, every check), agreement of the closed forms with the trained torch model (details "
                  "under Agreement), the departure classification on each data set, and the exponent of the "
                  "theory on the report's spectrum."),
            doc.table(rows)]


def intro_claim(derivations: dict | None) -> str:
    """The intro's phrase about the closed forms: 'derived and checked' only when every derivation passed."""
    if derivations is None or all(s.ok for s in derivations.values()):
        return "closed forms (derived and checked in sympy)"
    bad = ", ".join(s.name for s in derivations.values() if not s.ok)
    return f"closed forms (derived in sympy; the derivation FAILED for {bad}, see the top)"
