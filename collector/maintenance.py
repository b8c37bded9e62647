"""The maintenance windows inside the collector: held in memory, asked for every alert that
opens a ticket, refreshed from the store.

The windows are the stored ones (collector/store/maintenance.py) and the planned windows of
approved or in-progress changes (`collector.store.changes.change_windows`). Their occurrences
over the next day are computed at each refresh, so the intake's question "is this alert in a
window?" costs a loop over the occurrences running now (usually none) and no I/O: the intake is
the collector's hot path. This process's own additions and ends are seen at once (`reload`),
another collector's within `refresh_seconds`.

A window that stops before its occurrence's end (ended by hand in another process, or its
change completed early) releases the escalations it held (store `release`) when a refresh
notices it is gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.maintenance import Occurrence, Scope, Window, covering
from collector.failure_streak import FailureStreak
from collector.store.changes import change_windows
from collector.store.maintenance import MaintenanceStore

log = logging.getLogger("regie.collector.maintenance")

# Occurrences are computed this far ahead at each refresh (again when the clock passes it).
HORIZON = timedelta(days=1)


def change_window(change) -> Window | None:
    """An approved (or in-progress) change's planned window: its hosts when it names any,
    else its services (a change on a host may upset anything on it)."""
    hosts, services = tuple(change.hosts), tuple(change.services)
    scope = Scope(hosts=hosts) if hosts else Scope(services=services)
    if not scope:
        return None
    return Window(key=f"change-{change.id}", name=f"change {change.id}: {change.summary}",
                  starts_at=change.planned_start,
                  duration=change.planned_end - change.planned_start, scope=scope,
                  source="change")


class Maintenance:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime],
                 refresh_seconds: float = 10.0, changes: bool = True) -> None:
        self.store = MaintenanceStore(engine)
        self._engine = engine
        self._clock = clock
        self._refresh = refresh_seconds
        self._changes = changes
        self.windows: tuple[Window, ...] = ()
        self._spans: tuple[Occurrence, ...] = ()
        self._span_from = self._span_to = None
        # Called after each reload (the silence mirror compares at once).
        self.on_reload: Callable[[], None] | None = None
        self.mirror = None     # collector.silences.SilenceMirror, when configured
        self.gauges = MaintenanceGauges(self)

    # -- the intake's question ------------------------------------------------------------

    def covering(self, host: str | None, service: str | None, labels: Mapping[str, str],
                 at: datetime) -> Occurrence | None:
        if not self.windows:
            return None
        if self._span_from is None or not self._span_from <= at < self._span_to:
            self._compute(at)
        if not self._spans:
            return None
        return covering(self._spans, host, service, labels, at)

    def active(self, at: datetime) -> list[Occurrence]:
        """The occurrences running at `at` (one per window)."""
        out = []
        for window in self.windows:
            occurrence = window.occurrence_at(at)
            if occurrence is not None:
                out.append(occurrence)
        return out

    def _compute(self, at: datetime) -> None:
        self._span_from, self._span_to = at, at + HORIZON
        spans = []
        for window in self.windows:
            spans.extend(window.occurrences(at, at + HORIZON))
        self._spans = tuple(spans)

    # -- loading --------------------------------------------------------------------------

    async def reload(self) -> None:
        now = self._clock()
        windows = list(await self.store.current(now))
        if self._changes:
            windows += await self._change_windows(now)
        before = {o.window.key for o in self.active(now)}
        self.windows = tuple(windows)
        self._compute(now)
        gone = before - {o.window.key for o in self.active(now)}
        if gone:
            # Stopped early (ended elsewhere, or a change completed): what they held pages now.
            released = await self.store.release(sorted(gone), now=now,
                                                why="maintenance ended early")
            if released:
                log.info("maintenance %s ended early: %d escalation(s) released",
                         ", ".join(sorted(gone)), released)
        if self.on_reload is not None:
            self.on_reload()

    async def _change_windows(self, now: datetime) -> list[Window]:
        out = []
        for change in await change_windows(self._engine, now - HORIZON, now + 2 * HORIZON):
            window = change_window(change)
            if window is not None:
                out.append(window)
        return out

    async def run(self) -> None:
        failures = FailureStreak("maintenance refresh", log)
        while True:
            await asyncio.sleep(self._refresh)
            try:
                await self.reload()
            except Exception as exc:  # a database hiccup must not end the refresh for good
                failures.failed(exc)
            else:
                failures.succeeded()


# Held alerts are counted from the store at most this often (by the collector's clock).
_GAUGE_CACHE = timedelta(seconds=5)


class MaintenanceGauges:
    """regie_maintenance_windows_active{source} (in memory) and regie_maintenance_alerts_held
    (active tickets whose maintenance occurrence still runs, read from the store: the truth
    across collectors), for /metrics."""

    def __init__(self, maintenance: Maintenance) -> None:
        self._maintenance = maintenance
        self._held = 0
        self._at: datetime | None = None

    async def refresh(self) -> None:
        now = self._maintenance._clock()
        if self._at is not None and self._at <= now < self._at + _GAUGE_CACHE:
            return
        self._held = await self._maintenance.store.held_count(now)
        self._at = now

    def collect(self) -> Iterable[Metric]:
        now = self._maintenance._clock()
        active = GaugeMetricFamily("regie_maintenance_windows_active",
                                   "Maintenance windows running now: stored windows (window) "
                                   "and approved changes' planned windows (change).",
                                   labels=["source"])
        counts = {"window": 0, "change": 0}
        for occurrence in self._maintenance.active(now):
            counts[occurrence.window.source] = counts.get(occurrence.window.source, 0) + 1
        for source, count in sorted(counts.items()):
            active.add_metric([source], count)
        yield active
        yield GaugeMetricFamily("regie_maintenance_alerts_held",
                                "Active tickets opened or held in a maintenance window that "
                                "still runs: recorded, their escalation waiting for its end.",
                                value=self._held)
