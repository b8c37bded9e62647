"""Background loops that work in rounds: a round, then a pause until the next interval or an
earlier wake-up (the escalation sweep, notification delivery).

A wake-up that arrives while a round runs is kept (the event is cleared before the round,
not after), so work queued meanwhile is picked up at once. A failed round is logged (the first
of a streak of failures, and the recovery) and the loop goes on: a database hiccup must not
end escalation or delivery for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from collector.failure_streak import FailureStreak


class Rounds:
    def __init__(self, interval_seconds: float) -> None:
        self.interval = interval_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, round_: Callable[[], Awaitable[bool]], *, what: str,
                  log: logging.Logger) -> None:
        """Run `round_` forever; it returns True when it had a full batch (go on at once)."""
        # A database outage fails every round: logged when it starts and when it ends.
        failures = FailureStreak(what, log)
        while True:
            self._wake.clear()
            try:
                busy = await round_()
            except Exception as exc:
                failures.failed(exc)
                busy = False
            else:
                failures.succeeded()
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
