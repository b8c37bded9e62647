"""Memory and swap."""

from __future__ import annotations

from collections.abc import Iterable

import psutil
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

# (psutil field, metric suffix, help) for virtual memory.
_MEMORY = (
    ("total", "total", "Physical memory (MemTotal)."),
    ("available", "available", "Memory available for new work without swapping (MemAvailable)."),
    ("used", "used", "Memory in use: total minus free, buffers and cache."),
    ("free", "free", "Memory not used at all (MemFree)."),
    ("buffers", "buffers", "Memory in kernel buffers."),
    ("cached", "cached", "Memory in the page cache, including reclaimable slab."),
    ("shared", "shared", "Memory shared between processes (Shmem)."),
)


class MemoryCollector:
    name = "memory"

    def collect(self) -> Iterable[Metric]:
        vm = psutil.virtual_memory()
        for attr, suffix, help_ in _MEMORY:
            value = getattr(vm, attr, None)
            if value is not None:
                yield GaugeMetricFamily(f"regie_memory_{suffix}_bytes", help_, value=value)
        yield GaugeMetricFamily(
            "regie_memory_used_ratio", "Share of memory not available (1 - available/total).",
            value=1 - vm.available / vm.total if vm.total else 0.0,
        )
        sw = psutil.swap_memory()
        yield GaugeMetricFamily("regie_swap_total_bytes", "Swap space.", value=sw.total)
        yield GaugeMetricFamily("regie_swap_used_bytes", "Swap space in use.", value=sw.used)
        yield GaugeMetricFamily("regie_swap_free_bytes", "Swap space free.", value=sw.free)
        yield CounterMetricFamily("regie_swap_in_bytes", "Bytes swapped in from disk.",
                                  value=sw.sin)
        yield CounterMetricFamily("regie_swap_out_bytes", "Bytes swapped out to disk.",
                                  value=sw.sout)
