"""Per-interface network counters."""

from __future__ import annotations

import re
from collections.abc import Iterable

import psutil
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

_FIELDS = (
    ("bytes_recv", "regie_network_receive_bytes", "Bytes received."),
    ("bytes_sent", "regie_network_transmit_bytes", "Bytes sent."),
    ("packets_recv", "regie_network_receive_packets", "Packets received."),
    ("packets_sent", "regie_network_transmit_packets", "Packets sent."),
    ("errin", "regie_network_receive_errors", "Receive errors."),
    ("errout", "regie_network_transmit_errors", "Transmit errors."),
    ("dropin", "regie_network_receive_drop", "Received packets dropped."),
    ("dropout", "regie_network_transmit_drop", "Packets dropped on send."),
)


class NetworkCollector:
    name = "network"

    def __init__(self, *, exclude: str) -> None:
        self._exclude = re.compile(exclude)

    def collect(self) -> Iterable[Metric]:
        families = [CounterMetricFamily(name, help_, labels=["device"])
                    for _, name, help_ in _FIELDS]
        up = GaugeMetricFamily("regie_network_up", "1 when the interface is up.",
                               labels=["device"])
        counters = psutil.net_io_counters(pernic=True, nowrap=True)
        stats = psutil.net_if_stats()
        for device, io in sorted(counters.items()):
            if self._exclude.search(device):
                continue
            for family, (attr, _, _) in zip(families, _FIELDS, strict=True):
                family.add_metric([device], getattr(io, attr))
            if device in stats:
                up.add_metric([device], 1 if stats[device].isup else 0)
        yield from families
        yield up
