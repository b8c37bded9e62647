"""`SnmpMetrics`: the latest sample of every SNMP target as Prometheus metric families.

A custom collector: `collect()` builds fresh families from the cached samples on each scrape
and never talks to a device (polling runs in the background, see service.py). Every series
carries `target`, the target's configured name; communities, user names and passwords never
become labels. A target whose last poll failed exports only `regie_snmp_up 0`; a target not
yet polled exports nothing (an agent that just started is not a device that went down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)

from agent.snmp.sample import Interface, Sample

# (metric name without _total, help, Interface attribute): one line per interface counter.
_INTERFACE_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("regie_snmp_if_in_octets", "Octets received on the interface (ifHCInOctets, "
     "else ifInOctets).", "in_octets"),
    ("regie_snmp_if_out_octets", "Octets sent on the interface (ifHCOutOctets, "
     "else ifOutOctets).", "out_octets"),
    ("regie_snmp_if_in_errors", "Inbound packets with errors (ifInErrors).", "in_errors"),
    ("regie_snmp_if_out_errors", "Outbound packets not sent because of errors (ifOutErrors).",
     "out_errors"),
    ("regie_snmp_if_in_discards", "Inbound packets discarded without error (ifInDiscards).",
     "in_discards"),
    ("regie_snmp_if_out_discards", "Outbound packets discarded without error (ifOutDiscards).",
     "out_discards"),
)
_INTERFACE_LABELS = ["target", "ifindex", "ifname"]


class SnmpMetrics:
    def __init__(self, samples: Callable[[], Sequence[Sample]]) -> None:
        # Returns the latest sample per polled target; the service owns the cache.
        self._samples = samples

    def collect(self) -> Iterable[Metric]:
        samples = list(self._samples())
        up = GaugeMetricFamily("regie_snmp_up",
                               "1 when the last poll of the SNMP target succeeded, else 0.",
                               labels=["target"])
        duration = GaugeMetricFamily("regie_snmp_poll_duration_seconds",
                                     "Time the last successful poll of the target took.",
                                     labels=["target"])
        uptime = GaugeMetricFamily("regie_snmp_sys_uptime_seconds",
                                   "Time since the SNMP agent (re)started (sysUpTime).",
                                   labels=["target"])
        info = InfoMetricFamily("regie_snmp_system",
                                "The target's sysName and sysObjectID (always 1).",
                                labels=["target"])
        oper = GaugeMetricFamily("regie_snmp_if_oper_status",
                                 "IF-MIB ifOperStatus: 1 up, 2 down, 3 testing, 4 unknown, "
                                 "5 dormant, 6 notPresent, 7 lowerLayerDown.",
                                 labels=_INTERFACE_LABELS)
        counters = [(CounterMetricFamily(name, doc, labels=_INTERFACE_LABELS), attr)
                    for name, doc, attr in _INTERFACE_COUNTERS]
        size = GaugeMetricFamily("regie_snmp_storage_size_bytes",
                                 "Size of the storage area (hrStorageSize x allocation units).",
                                 labels=["target", "index", "descr"])
        used = GaugeMetricFamily("regie_snmp_storage_used_bytes",
                                 "Space used in the storage area (hrStorageUsed x allocation "
                                 "units).", labels=["target", "index", "descr"])
        load = GaugeMetricFamily("regie_snmp_processor_load_ratio",
                                 "Processor busy share over the last minute (hrProcessorLoad "
                                 "/ 100).", labels=["target", "index"])

        for sample in samples:
            name = sample.target
            up.add_metric([name], 1 if sample.up else 0)
            if not sample.up:
                continue
            duration.add_metric([name], sample.duration_seconds)
            if sample.system is not None:
                if sample.system.uptime_seconds is not None:
                    uptime.add_metric([name], sample.system.uptime_seconds)
                info.add_metric([name], {"sys_name": sample.system.name,
                                         "sys_object_id": sample.system.object_id})
            for interface in sample.interfaces:
                labels = [name, interface.index, interface.name]
                if interface.oper_status is not None:
                    oper.add_metric(labels, interface.oper_status)
                for family, attr in counters:
                    _add_counter(family, labels, interface, attr)
            for storage in sample.storage:
                labels = [name, storage.index, storage.descr]
                size.add_metric(labels, storage.size_bytes)
                used.add_metric(labels, storage.used_bytes)
            for processor in sample.processors:
                load.add_metric([name, processor.index], processor.load_ratio)

        families = [up, duration, uptime, info, oper,
                    *(family for family, _attr in counters), size, used, load]
        # A family without samples is only HELP/TYPE noise in the scrape.
        yield from (family for family in families if family.samples)


def _add_counter(family: CounterMetricFamily, labels: list[str], interface: Interface,
                 attr: str) -> None:
    value = getattr(interface, attr)
    if value is not None:
        family.add_metric(labels, value)
