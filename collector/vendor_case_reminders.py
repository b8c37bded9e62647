"""The follow-up reminder loop: vendor cases left without an update past their follow-up date
remind their owner through the on-call notification channels.

Each round (`[vendor_cases] sweep_interval_seconds`, 60 s by default) claims the due cases
(collector/store/vendor_cases.py `sweep`), queues one notification per channel to each case's
owner on the durable delivery queue, writes a timeline row on the case and moves its follow-up
date an interval ahead, all in one transaction; the delivery loop (collector/notifier.py) then
sends them and records each outcome on the case's timeline. Since the due date lives in the
database and moves in the transaction that queues the reminder, a restart or a second
collector on the same PostgreSQL database never reminds twice for one interval.

It runs where on-call runs (it needs the channels and the notifier); without on-call
configured, overdue cases show in /metrics (`regie_vendor_cases_overdue`) and in
`regie vendor-case list`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from collector.rounds import Rounds
from collector.store.vendor_cases import SWEEP_LIMIT, SweepOutcome, VendorCaseStore

log = logging.getLogger("regie.collector.vendor_cases")


class Reminders:
    def __init__(self, store: VendorCaseStore, *, channels: Sequence[str],
                 clock: Callable[[], datetime], interval_seconds: float = 60.0,
                 on_queued: Callable[[], None] | None = None) -> None:
        self.store = store
        self.channels = tuple(channels)
        self._clock = clock
        self._rounds = Rounds(interval_seconds)
        self._on_queued = on_queued

    async def run(self) -> None:
        async def round_() -> bool:
            return (await self.sweep_once()).claimed >= SWEEP_LIMIT   # a backlog: again

        await self._rounds.run(round_, what="vendor case reminder sweep", log=log)

    async def sweep_once(self) -> SweepOutcome:
        outcome = await self.store.sweep(self._clock(), channels=self.channels,
                                         payload=_payload)
        if outcome.claimed:
            log.info("vendor cases: %d overdue case(s) reminded, %d notification(s) queued",
                     outcome.claimed, outcome.queued)
        if outcome.queued and self._on_queued is not None:
            self._on_queued()    # deliver now, not at the notifier's next poll
        return outcome


def _payload(row: Any, overdue: timedelta) -> dict[str, Any]:
    """The queued notification's payload (alerting/notify/case_reminder.py reads it)."""
    last = row.last_vendor_update_at
    return {"kind": "vendor_case_reminder", "case_id": row.id, "vendor": row.vendor,
            "case_number": row.case_number, "summary": row.summary, "severity": row.severity,
            "status": row.status, "follow_up_days": row.follow_up_days,
            "overdue_seconds": overdue.total_seconds(),
            "last_vendor_update_at": last.isoformat() if last else None,
            "occurred_at": row.next_follow_up_at.isoformat()}


# The running loop's object, for tests that drive `sweep_once` with their own clock.
REMINDERS = web.AppKey("vendor_case_reminders", Reminders)


def reminders_context(settings: Any, *, clock: Callable[[], datetime],
                      run_loop: bool = True):
    """Start the reminder loop when on-call is configured (after oncall_context)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        from collector.app import ONCALL, STORES

        oncall = app.get(ONCALL)
        if oncall is None:
            yield
            return
        channels = settings.vendor_cases.channels or tuple(
            c.name for c in settings.oncall.channels)
        reminders = Reminders(VendorCaseStore(app[STORES].engine), channels=channels,
                              clock=clock,
                              interval_seconds=settings.vendor_cases.sweep_interval_seconds,
                              on_queued=oncall.notifier.wake)
        app[REMINDERS] = reminders
        if not run_loop:
            yield
            return
        import asyncio

        task = asyncio.create_task(reminders.run(), name="regie-vendor-case-reminders")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context
