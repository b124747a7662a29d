"""A wall-clock limit for sympy calls that can run for minutes (dsolve, integrate): SIGALRM in the main
thread; elsewhere the call runs without a limit (said in the returned note)."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class TimedOut(Exception):
    """The sympy call did not finish within its limit."""


@contextmanager
def time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def _raise(signum, frame):
        raise TimedOut

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def attempt(fn, seconds: float):
    """(result, None) or (None, reason) for fn() under a time limit; sympy's own refusals are reasons."""
    try:
        with time_limit(seconds):
            return fn(), None
    except TimedOut:
        return None, f"no result within {seconds:g} s"
    except (NotImplementedError, ValueError, TypeError, AttributeError) as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
