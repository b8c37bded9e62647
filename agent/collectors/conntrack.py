"""Connection tracking table use, where netfilter's conntrack is loaded.

A full table drops new connections ("nf_conntrack: table full, dropping packet"). The files
exist only while the nf_conntrack module is loaded; without them the families are empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric


class ConntrackCollector:
    name = "conntrack"

    def __init__(self, procfs: Path = Path("/proc")) -> None:
        self._dir = procfs / "sys/net/netfilter"

    def collect(self) -> Iterable[Metric]:
        entries = GaugeMetricFamily("regie_conntrack_entries",
                                    "Connections in the conntrack table.")
        limit = GaugeMetricFamily("regie_conntrack_entries_limit",
                                  "Size of the conntrack table (nf_conntrack_max).")
        ratio = GaugeMetricFamily("regie_conntrack_used_ratio",
                                  "Share of the conntrack table in use (entries / limit).")
        try:
            count = int((self._dir / "nf_conntrack_count").read_text())
            maximum = int((self._dir / "nf_conntrack_max").read_text())
        except FileNotFoundError:
            pass  # conntrack not loaded
        else:
            entries.add_metric([], count)
            limit.add_metric([], maximum)
            ratio.add_metric([], count / maximum if maximum else 0.0)
        yield from (entries, limit, ratio)
