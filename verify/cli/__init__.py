"""The `specbias` console command, the one front door: one module per subcommand in this package
(theory, emergence, derive, train, verify, report, bench, sweep, spiked), their shared argument types
in argtypes.

Errors: a bad input (theory.SpecbiasError, or an option argparse refuses) prints ONE line
`specbias: error: ...` and exits 2; Ctrl-C prints `specbias: interrupted` and exits 130, SIGTERM the
same with `terminated` and 143 (both unwind, so half-written reports are removed and an interrupted
training run keeps its completed checkpoints); anything
else is a bug or an environment failure (out of memory, a full disk): one line
`specbias: internal error: ...` and exit 1, with the traceback only when SPECBIAS_DEBUG=1.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys

from theory.errors import SpecbiasError


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `specbias: error: ...` (subcommand parsers inherit it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `--Q -1e5`, `--tau -.5e-3`, `--beta -inf`: a value, not an option (argparse's own pattern
        # misses exponents and inf/nan, then says "expected one argument" instead of naming the range)
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|nan)$",
                                                   re.IGNORECASE)

    def error(self, message):
        raise SpecbiasError(" ".join(str(message).split()))


def build_parser() -> argparse.ArgumentParser:
    from verify.cli import (
        bench,
        derive,
        emergence,
        report,
        spiked,
        sweep,
        theory,
        train,
        verify,
    )

    parser = Parser(prog="specbias", description="Verify the analytical theory of "
                    "spectral bias in the learning dynamics of diffusion models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for module in (theory, emergence, derive, train, verify, report, bench, sweep, spiked):
        module.add_parsers(sub)
    return parser


def _fail(kind: str, text: str, code: int) -> int:
    print(f"specbias: {kind}{' '.join(text.split())}", file=sys.stderr)
    return code


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so that it unwinds like Ctrl-C."""


def _terminate(signum, frame):
    raise Terminated


def _out_of_memory(exc: BaseException) -> bool:
    """A failed allocation: MemoryError, or torch's RuntimeError ("can't allocate memory", CUDA out of
    memory)."""
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text))


def _internal(exc: Exception) -> int:
    if os.environ.get("SPECBIAS_DEBUG"):
        raise exc
    return _fail("internal error: ", f"{type(exc).__name__}: {exc} "
                 "(a bug in specbias: rerun with SPECBIAS_DEBUG=1 for the traceback and report it)", 1)


def main(argv=None) -> int:
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except SpecbiasError as exc:
        return _fail("error: ", str(exc), 2)
    except Terminated:
        return _fail("", "terminated", 143)
    except KeyboardInterrupt:
        return _fail("", "interrupted", 130)
    except BrokenPipeError:  # e.g. `specbias theory ... | head`
        sys.stderr.close()
        return 141
    except Exception as exc:  # torch reports a failed allocation as a RuntimeError (OutOfMemoryError on cuda)
        if not _out_of_memory(exc):
            return _internal(exc)
        return _fail("error: ", "out of memory: the sizes given (dimension, levels, checkpoints, samples or "
                     "an architecture parameter) are too large for this machine", 2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

