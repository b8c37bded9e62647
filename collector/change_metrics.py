"""The changes on the collector's /metrics, read from the database at scrape time (the truth
across restarts and several collectors), cached briefly as the open-ticket gauge is.

- regie_changes_completed{type,outcome}: changes completed (reviewed ones too), by type
  (standard, normal, emergency) and outcome (successful, failed, rolled_back);
- regie_changes_review_due: emergency changes completed and not yet reviewed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from alerting.changes import ChangeType, Outcome


class ChangeGauges:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = 5.0) -> None:
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._at = float("-inf")
        self._outcomes: dict[tuple[ChangeType, Outcome], int] = {}
        self._review_due = 0

    def stale(self) -> bool:
        return self._clock() - self._at >= self._cache_seconds

    def update(self, outcomes: dict[tuple[ChangeType, Outcome], int], review_due: int) -> None:
        self._outcomes = dict(outcomes)
        self._review_due = review_due
        self._at = self._clock()

    def collect(self) -> Iterable[Metric]:
        completed = GaugeMetricFamily(
            "regie_changes_completed", "Changes completed, by type and outcome (from the "
            "database).", labels=["type", "outcome"])
        for change_type in ChangeType:
            for outcome in Outcome:
                completed.add_metric([change_type.value, outcome.value],
                                     self._outcomes.get((change_type, outcome), 0))
        yield completed
        due = GaugeMetricFamily("regie_changes_review_due",
                                "Emergency changes completed and not yet reviewed.")
        due.add_metric([], self._review_due)
        yield due
