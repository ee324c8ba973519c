"""A time budget for each rule on each file, enforced in the process that runs the rule.

CPython runs signal handlers in the main thread, between bytecodes: a one-shot interval timer
(`setitimer(ITIMER_REAL)`) whose handler raises stops a rule stuck in a Python loop, and the run
goes on with the next rule. Worker processes of `--jobs` run rules in their own main thread, so
they are covered too. Where no timer can be armed (a thread other than the main one, a platform
without `setitimer` such as Windows) a rule runs to its end and is only measured. A rule stuck
inside a single C call (one huge regex match) is interrupted only when that call returns, which
is why the engine's own matching is linear.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

DEFAULT_RULE_TIMEOUT = 10.0  # seconds; 0 means no limit


class RuleTimeout(BaseException):
    """Raised inside a rule that ran out of time. A BaseException, so that a rule's own
    `except Exception` cannot swallow it."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise RuleTimeout


class Budget:
    """`with Budget(seconds) as budget:` around a file's rules, `with budget.limit():` around
    each rule; `budget.exceeded(started)` tells a measured-only run that went over."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.interrupts = False
        self._previous: object = None

    def __enter__(self) -> Budget:
        if (self.seconds > 0 and hasattr(signal, "setitimer")
                and threading.current_thread() is threading.main_thread()):
            try:
                self._previous = signal.signal(signal.SIGALRM, _stop)
                self.interrupts = True
            except (ValueError, OSError):  # signals refused here: measure only
                self.interrupts = False
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.interrupts:
            signal.setitimer(signal.ITIMER_REAL, 0)
            previous = self._previous if self._previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGALRM, previous)  # type: ignore[arg-type]  # what signal() returned
            self.interrupts = False

    @contextmanager
    def limit(self) -> Iterator[None]:
        """Arms the timer for one rule; it is one-shot, so once fired it cannot fire again."""
        if not self.interrupts:
            yield
            return
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def exceeded(self, started: float) -> bool:
        return self.seconds > 0 and time.monotonic() - started > self.seconds
