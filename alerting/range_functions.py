"""The PromQL functions the threshold rules may use, computed as Prometheus computes them.

The embedded evaluator has no time-series database; rules that need the past (`rate`,
`increase`, `predict_linear`) get it from `History`, which keeps the samples of exactly the
series such rules read, for exactly as long as their windows need. The arithmetic is ported
from Prometheus 2.x (promql/functions.go: `extrapolatedRate`, `linearRegression`,
`funcPredictLinear`), so `promtool test rules` and the evaluator fire at the same minute on the
same samples (tests/alerting/test_coverage_rules.py checks that). A range `[w]` at time `t`
holds the samples with `t - w <= time <= t`, as in Prometheus 2.x.

Memory: a series keeps at most about `MAX_POINTS` samples per window (16 bytes each): a sample
is kept when it comes at least `window / MAX_POINTS` after the last one kept (10% slack for
scrape jitter). For a 6 h window and a 15 s interval that is every sample; for a 2-day window
one every 2 minutes, where Prometheus would use all of them: the fitted line is then computed
from fewer points than Prometheus's, the same trend within a fraction of a percent.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Hashable, Sequence

MAX_POINTS = 1440
# Prometheus's default lookback: an instant lookup (`x offset 6h`) finds a sample this old.
LOOKBACK_SECONDS = 300.0


def extrapolated_rate(times: Sequence[float], values: Sequence[float], *, start: float,
                      end: float, is_rate: bool) -> float | None:
    """`rate()` (is_rate) or `increase()` of a counter over the samples in [start, end]."""
    if len(times) < 2:
        return None
    result = values[-1] - values[0]
    last = 0.0
    for v in values:  # counter resets: the value before the reset was lost from the delta
        if v < last:
            result += last
        last = v
    to_start = times[0] - start
    to_end = end - times[-1]
    sampled = times[-1] - times[0]
    average = sampled / (len(times) - 1)
    if result > 0 and values[0] >= 0:
        to_zero = sampled * (values[0] / result)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    result *= interval / sampled
    return result / (end - start) if is_rate else result


def predict_linear(times: Sequence[float], values: Sequence[float], *, at: float,
                   ahead: float) -> float | None:
    """The least-squares line through the samples, `ahead` seconds after `at`."""
    if len(times) < 2:
        return None
    if all(v == values[0] for v in values):
        return values[0] if not math.isinf(values[0]) else math.nan
    n = float(len(times))
    xs = [t - at for t in times]
    sum_x = math.fsum(xs)
    sum_y = math.fsum(values)
    sum_xy = math.fsum(x * y for x, y in zip(xs, values, strict=True))
    sum_x2 = math.fsum(x * x for x in xs)
    cov_xy = sum_xy - sum_x * sum_y / n
    var_x = sum_x2 - sum_x * sum_x / n
    slope = cov_xy / var_x
    intercept = sum_y / n - slope * sum_x / n
    return slope * ahead + intercept


class _Series:
    __slots__ = ("head", "times", "values")

    def __init__(self) -> None:
        self.times = array("d")
        self.values = array("d")
        self.head = 0

    def add(self, at: float, value: float, spacing: float) -> None:
        if len(self.times) > self.head and at - self.times[-1] < spacing * 0.9:
            return
        self.times.append(at)
        self.values.append(value)

    def prune(self, oldest: float) -> None:
        times = self.times
        while self.head < len(times) and times[self.head] < oldest:
            self.head += 1
        if self.head > len(times) // 2:  # compact now and then, not on every step
            del self.times[:self.head]
            del self.values[:self.head]
            self.head = 0

    def window(self, start: float, end: float) -> tuple[list[float], list[float]]:
        times, values = self.times, self.values
        i = self.head
        while i < len(times) and times[i] < start:
            i += 1
        j = len(times)
        while j > i and times[j - 1] > end:
            j -= 1
        return list(times[i:j]), list(values[i:j])

    def present_at(self, at: float) -> bool:
        """Whether an instant lookup at `at` finds a sample (within the lookback)."""
        times = self.times
        return any(at - LOOKBACK_SECONDS < times[k] <= at
                   for k in range(self.head, len(times)))


class History:
    """Samples of the series windowed rules read, per (metric, spacing) and series key.

    Mutable on purpose: successive `Evaluation`s share one (the past does not change with an
    alert's state). `keep` maps (metric, spacing) to how many seconds of it are needed."""

    def __init__(self, keep: dict[tuple[str, float], float]) -> None:
        self._keep = dict(keep)
        self._series: dict[tuple[str, float], dict[Hashable, _Series]] = {k: {} for k in keep}

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset(metric for metric, _ in self._keep)

    def add(self, metric: str, key: Hashable, at: float, value: float) -> None:
        for (name, spacing), by_key in self._series.items():
            if name == metric:
                series = by_key.get(key)
                if series is None:
                    series = by_key[key] = _Series()
                series.add(at, value, spacing)

    def prune(self, now: float) -> None:
        for slot, by_key in self._series.items():
            oldest = now - self._keep[slot]
            emptied = []
            for key, series in by_key.items():
                series.prune(oldest)
                if series.head == len(series.times):
                    emptied.append(key)   # not seen for the whole window: forgotten
            for key in emptied:
                del by_key[key]

    def series(self, metric: str, spacing: float, key: Hashable) -> _Series | None:
        return self._series.get((metric, spacing), {}).get(key)

    def samples(self) -> int:
        """Samples held, all series together (for tests and the collector's own metrics)."""
        return sum(len(s.times) - s.head for by_key in self._series.values()
                   for s in by_key.values())
