"""A failure streak: log when something starts failing and when it recovers, not every failure.

During an outage every request fails the same way; a traceback each (thousands in a few
seconds of PostgreSQL restarting) buries the one that explains it. A streak logs its first
failure with the traceback, counts the rest, and logs one line when it ends, with how many
failed and for how long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class FailureStreak:
    def __init__(self, what: str, log: logging.Logger, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.failures = 0
        self._log = log
        self._clock = clock
        self._since = 0.0

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException) -> None:
        """Count a failure; the first of a streak is logged with its traceback."""
        self.failures += 1
        if self.failures == 1:
            self._since = self._clock()
            self._log.error("%s: %s (further failures are counted until it recovers)",
                            self.what, _one_line(error), exc_info=error)

    def succeeded(self) -> None:
        """End the streak, if there is one, with one line."""
        if self.failures:
            self._log.warning("%s: recovered after %d failure(s) in %.1fs", self.what,
                              self.failures, self._clock() - self._since)
            self.failures = 0


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__
