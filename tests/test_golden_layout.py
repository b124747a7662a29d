"""Golden outputs of the `specbias` command, recorded before the issue-17 restructuring (one front door
`verify/cli/`, the `spiked/` and `nets/` wings): the move must not change a byte of any subcommand's
output, nor of the quick report's files.

Each case runs `main(argv)` of the front door in-process and compares stdout and the exit status with
`tests/golden/cli/<case>.txt` byte for byte. The quick report (`report --quick`) is compared through
report.md, report.json and a SHA-256 per array of data.npz (`tests/golden/report_quick/`); it trains,
so it is marked slow.

Regenerating (only when a later change alters an output ON PURPOSE; say so in the commit message):

    PYTHONPATH=$PWD python tests/test_golden_layout.py            # the CLI cases
    PYTHONPATH=$PWD python tests/test_golden_layout.py --report   # and the quick report

then review `git diff tests/golden` line by line before committing.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "golden"

#: case name → argv; fast (< 5 s each), deterministic (no timings) subcommands on simple inputs
CASES = {
    "theory": ["theory", "linear", "--lam", "1", "--tau", "1"],
    "theory_json": ["theory", "linear", "--lam", "1", "--tau", "1", "--json"],
    "theory_default": ["theory"],
    "theory_circulant": ["theory", "circulant", "--tau", "0", "1", "100"],
    "theory_flow_matching": ["theory", "flow_matching", "--lam", "1", "--tau", "1"],  # its source line
    "emergence": ["emergence", "linear", "--lam", "0.1", "1", "10"],
    "emergence_json": ["emergence", "linear", "--lam", "0.1", "1", "10", "--json"],
    "emergence_default": ["emergence"],
    "derive": ["derive", "linear"],
    "spiked_threshold": ["spiked", "threshold", "--d", "100", "--n", "400"],
    "spiked_threshold_json": ["spiked", "threshold", "--d", "100", "--n", "400", "--json"],
    "spiked_overlap": ["spiked", "overlap", "--d", "100", "--n", "400"],
    "spiked_overlap_json": ["spiked", "overlap", "--d", "100", "--n", "400", "--json"],
    "spiked_chains": ["spiked", "chains"],
    "spiked_chains_json": ["spiked", "chains", "--json"],
    "spiked_fixation": ["spiked", "fixation"],
    "spiked_fixation_json": ["spiked", "fixation", "--json"],
    "spiked_kl": ["spiked", "kl", "--d", "10", "--n", "50"],
    "spiked_kl_json": ["spiked", "kl", "--d", "10", "--n", "50", "--json"],
    "spiked_simulate": ["spiked", "simulate", "--draws", "2", "--d", "200", "--n", "400"],
    "verify_only": ["verify", "linear", "--only", "derivation", "finite-in-range"],
    "verify_only_json": ["verify", "linear", "--only", "derivation", "--json"],
    "sweep_print_example": ["sweep", "--print-example"],
    "train": ["train", "linear", "--d", "4", "--levels", "3", "--checkpoints", "3", "--no-progress"],
    "train_json": ["train", "linear", "--d", "4", "--levels", "3", "--checkpoints", "3", "--json"],
}
#: lines allowed to differ (issue 17 item 2: train's agreement verdict, one line before the move, three
#: after), and run-dependent numbers
VOLATILE = {
    "train": [r"^(?:(?:within|OUTSIDE|agreement).*\n)*(?:within|OUTSIDE|agreement).*$", r"wall \d+\.\d+ s"],
    "train_json": [r'"(wall|loop)_s": [0-9.e+-]+', r'"theory": \{.*?\}(?=, "out")', r'"threads": \d+'],
}


def run_cli(argv) -> str:
    from verify.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(list(argv))
    return f"{out.getvalue()}[exit {rc}]\n"


def normalise(case: str, text: str) -> str:
    for pattern in VOLATILE.get(case, []):
        text = re.sub(pattern, "<volatile>", text, flags=re.MULTILINE)
    return text


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_output_unchanged(case):
    expected = (GOLDEN / "cli" / f"{case}.txt").read_text()
    assert normalise(case, run_cli(CASES[case])) == expected


def report_digest(folder: Path) -> dict:
    """report.md, report.json and one SHA-256 per array of data.npz."""
    with np.load(folder / "data.npz") as z:
        arrays = {k: hashlib.sha256(np.ascontiguousarray(z[k]).tobytes()).hexdigest() + f" {z[k].dtype} "
                  f"{z[k].shape}" for k in sorted(z.files)}
    return {"report.md": (folder / "report.md").read_text(), "report.json": (folder / "report.json").read_text(),
            "data.npz": json.dumps(arrays, indent=1) + "\n"}


def _quick_report(tmp: Path) -> dict:
    assert run_cli(["report", "--quick", "--no-progress", "--out", str(tmp)]).endswith("[exit 0]\n")
    return report_digest(tmp / "quick")


@pytest.mark.slow
def test_quick_report_unchanged(tmp_path):
    got = _quick_report(tmp_path)
    for name, text in got.items():
        assert text == (GOLDEN / "report_quick" / (name + ".golden")).read_text(), name


def _regenerate(report: bool) -> None:
    (GOLDEN / "cli").mkdir(parents=True, exist_ok=True)
    for case, argv in CASES.items():
        (GOLDEN / "cli" / f"{case}.txt").write_text(normalise(case, run_cli(argv)))
    if report:
        import tempfile

        (GOLDEN / "report_quick").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            for name, text in _quick_report(Path(tmp)).items():
                (GOLDEN / "report_quick" / (name + ".golden")).write_text(text)


if __name__ == "__main__":
    _regenerate("--report" in sys.argv)
