"""What the agent's HTTP server did: connections and scrapes, exposed at /metrics.

Written by the server's event-loop thread only and read at scrape time from the scrape worker;
plain integer updates, so a scrape may see a count one step behind, never a torn value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

# Label values, listed so the series exist (at 0) before the first event.
SCRAPE_RESULTS = ("collected", "shared", "busy")
DROP_REASONS = ("tls_handshake", "header_timeout", "idle_timeout", "write_timeout", "evicted",
                "over_limit", "bad_request", "slow_reader")


@dataclass(slots=True, eq=False)   # registered in a registry: hashed by identity
class HttpStats:
    collections: int = 0
    open_connections: int = 0
    scrapes: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)

    def collect(self) -> Iterable[Metric]:
        collections = CounterMetricFamily(
            "regie_agent_scrape_collections",
            "Collections run for /metrics requests; concurrent requests share one.")
        collections.add_metric([], self.collections)
        yield collections
        scrapes = CounterMetricFamily(
            "regie_agent_scrape_requests",
            "/metrics requests by result: collected (ran a collection), shared (served by a "
            "collection already running), busy (refused with 503: too many waiting).",
            labels=["result"])
        for result in SCRAPE_RESULTS:
            scrapes.add_metric([result], self.scrapes[result])
        yield scrapes
        connections = GaugeMetricFamily("regie_agent_http_connections",
                                        "Open HTTP connections to the agent.")
        connections.add_metric([], self.open_connections)
        yield connections
        dropped = CounterMetricFamily(
            "regie_agent_http_connections_dropped",
            "Connections the agent closed on its own, by reason.", labels=["reason"])
        for reason in DROP_REASONS:
            dropped.add_metric([reason], self.dropped[reason])
        yield dropped
