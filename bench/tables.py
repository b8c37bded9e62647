"""The report's tables: the percentiles they show and the rule under each head."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The value at rank `q` (0.5 the median, 1.0 the maximum) of `values`; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def print_head(head: str) -> None:
    """A table's column heads, ruled off."""
    print(head)
    print("-" * len(head))
