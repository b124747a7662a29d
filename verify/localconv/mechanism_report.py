"""The "mechanism across data sets" part of the report's Local convolution section (verify.localconv.mechanism):
the measured properties of every data set the mechanism is stated on, S per model, and the claims
checked on them (a failing claim is printed as such, never hidden).

    blocks, table = blocks_and_table()
"""
from __future__ import annotations

import numpy as np

from verify.departure import SIMULTANEOUS
from verify.localconv import mechanism as M
from verify.report import document as doc

TESTS = ("tests/test_localconv_data.py", "tests/test_localconv_checkers.py")


def survey() -> list:
    return [M.survey(name, load()) for name, load in M.study_sets().items()]


def _f(x) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.2f}"


def _rows(rows) -> list:
    out = [["data set", "compression c", "r₃", "r₅", "r₇", "S full width", "S P=1", "S P=3", "S P=5", "S P=7"]]
    for r in rows:
        out.append([r.dataset, _f(r.compression), *(_f(r.reach.get(P)) for P in (3, 5, 7)), _f(r.S_full),
                    *(_f(r.S.get(P)) for P in M.KERNELS)])
    return out


def _span(vals) -> str:
    return f"{min(vals):.2f}–{max(vals):.2f}"


def claim_text(rows) -> str:
    """The stated mechanism with the numbers measured on `rows` (see verify.localconv.mechanism)."""
    strong = [r for r in rows if r.compression < SIMULTANEOUS]
    weak = [r for r in rows if r.compression >= SIMULTANEOUS]
    moved = [(r, P) for r in weak for P in r.S if P > 1 and abs(r.S[P] - r.S_full) >= M.TRACKS]
    covered = [abs(r.S[P] - r.S_full) for r in rows for P in r.S if P > 1 and r.reach[P] <= M.REACH]
    bad = M.violations(rows)
    half = SIMULTANEOUS
    intro = (f"Mechanism, stated by the data ({len(rows)} data sets: digits, stationary and Haar-random 8×8 "
             "covariances, crops of photographs and textures shipped with scikit-image). Two measured "
             "properties of the data decide: the compression c = std ln uᵀΣ̄u / std ln λ_u of the PC targets "
             "by shift-averaging, and the reach r_P, the share of the shift-averaged covariance function's "
             "energy outside a P×P window.")
    sharing = (f"(1) Weight sharing alone (full-width circulant) gives near-simultaneous emergence exactly "
               f"where shift-averaging compresses the targets: S_full < {half} where c < {half}")
    if strong:
        sharing += (f" (c {_span([r.compression for r in strong])}, S_full {_span([r.S_full for r in strong])}: "
                    f"{', '.join(r.dataset for r in strong)})")
    if weak:
        sharing += (f", and not where c ≥ {half} (c {_span([r.compression for r in weak])}, S_full "
                    f"{_span([r.S_full for r in weak])})")
    sharing += (". A shift-invariant model's variance along u tends to uᵀΣ̄u, not to λ_u: compressed targets "
                "mean one common rise, crossed at nearly one time.")
    locality = (f"(2) With strong compression the kernel size changes nothing (every P ≥ 3 within {M.TRACKS} "
                f"of full width). (3) A kernel that holds most of the correlations (r_P ≤ {M.REACH}) stays "
                f"within {M.TRACKS} of full width on every data set")
    if covered:
        locality += f" (measured at most {max(covered):.2f})"
    locality += f"; locality matters only where r_P > {M.REACH} and c ≥ {half}"
    if moved:
        top = sorted(moved, key=lambda x: -abs(x[0].S[x[1]] - x[0].S_full))[:4]
        locality += ", and there it moves S either way: " + ", ".join(
            f"{r.dataset} P={P}: {r.S[P]:.2f} vs {r.S_full:.2f}" for r, P in top)
    locality += "."
    one = ("(4) P = 1 (one shared gain) is its own case: every Fourier mode gets the same gain, so the "
           "variance along every direction is one trajectory and τ* depends on λ_u only through the "
           f"threshold √(v₀λ_u): S {_span([r.S[1] for r in rows if 1 in r.S])} on every data set, "
           "stationary ones included — not the compression mechanism.")
    verdict = ("Claims checked on these rows: all hold." if not bad
               else "Claims checked on these rows: FAILED — " + "; ".join(bad) + ".")
    parts = [intro, sharing, locality, one, verdict + " Tests: " + ", ".join(TESTS) + "."]
    return " ".join(parts)


def blocks_and_table():
    rows = survey()
    return [doc.p(claim_text(rows)), doc.table(_rows(rows))], [r.as_dict() for r in rows]
