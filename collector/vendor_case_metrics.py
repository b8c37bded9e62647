"""Vendor case gauges for the collector's /metrics, read from the store at scrape time (set by
the /metrics handler, refreshed at most every `cache_seconds`): the same on every collector
sharing the database, and right after a restart.

- regie_vendor_cases_open{vendor,status}: cases still waiting on someone (open,
  waiting_on_vendor, waiting_on_us);
- regie_vendor_case_oldest_opened_timestamp_seconds{vendor}: when the vendor's oldest such
  case was opened, Unix time (its age is `time() - ...`, a dashboard's arithmetic);
- regie_vendor_cases_overdue{vendor}: such cases past their follow-up date.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric


class VendorCaseGauges:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = 15.0) -> None:
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._at = float("-inf")
        self.counts: list = []           # collector.store.vendor_cases.OpenCaseCount

    def stale(self) -> bool:
        return self._clock() - self._at >= self._cache_seconds

    def update(self, counts: list) -> None:
        self.counts = list(counts)
        self._at = self._clock()

    def collect(self) -> Iterable[Metric]:
        open_ = GaugeMetricFamily("regie_vendor_cases_open",
                                  "Vendor cases still waiting on someone (open, "
                                  "waiting_on_vendor, waiting_on_us), by vendor and status.",
                                  labels=["vendor", "status"])
        oldest = GaugeMetricFamily("regie_vendor_case_oldest_opened_timestamp_seconds",
                                   "When the vendor's oldest case still waiting on someone "
                                   "was opened, Unix time.", labels=["vendor"])
        overdue = GaugeMetricFamily("regie_vendor_cases_overdue",
                                    "Vendor cases still waiting on someone and past their "
                                    "follow-up date, by vendor.", labels=["vendor"])
        first: dict[str, float] = {}
        late: dict[str, int] = {}
        for row in sorted(self.counts, key=lambda r: (r.vendor, r.status)):
            open_.add_metric([row.vendor, row.status], row.count)
            opened = row.oldest_opened_at.timestamp()
            first[row.vendor] = min(first.get(row.vendor, opened), opened)
            late[row.vendor] = late.get(row.vendor, 0) + row.overdue
        for vendor in sorted(first):
            oldest.add_metric([vendor], first[vendor])
            overdue.add_metric([vendor], late[vendor])
        yield from (open_, oldest, overdue)
