"""A wall-clock limit for sympy calls that can run for minutes (dsolve, integrate): SIGALRM in the main
thread; elsewhere the call runs without a limit (said in the returned note).

The alarm REPEATS every REPEAT_S seconds after the limit until the block ends: a TimedOut raised where it
is swallowed — inside a gc callback (Hypothesis installs one; Python then prints "Exception ignored") or a
library's broad `except Exception` — must not cancel the limit. A one-shot alarm lost that way let
dsolve run unbounded in a long pytest session (the slow suite hung on importing the deep3 example)."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


REPEAT_S = 0.25  # seconds between repeated alarms once the limit has passed


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
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT_S)
    try:
        yield
    finally:
        while True:  # an alarm landing in the clean-up raises here: retry until disarmed and restored
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
                break
            except TimedOut:
                continue


def attempt(fn, seconds: float):
    """(result, None) or (None, reason) for fn() under a time limit; sympy's own refusals are reasons."""
    try:
        with time_limit(seconds):
            return fn(), None
    except TimedOut:
        return None, f"no result within {seconds:g} s"
    except (NotImplementedError, ValueError, TypeError, AttributeError) as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
