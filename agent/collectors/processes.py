"""Process and thread counts by state, read straight from /proc/<pid>/stat.

psutil.process_iter() builds an object per process; one read of `stat` per pid is all a count
needs and keeps the cost per process in the tens of microseconds (bench/agent.py measures it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

# proc(5) state letters.
STATES = {
    "R": "running",
    "S": "sleeping",
    "D": "disk_sleep",
    "Z": "zombie",
    "T": "stopped",
    "t": "tracing_stop",
    "X": "dead",
    "I": "idle",
    "P": "parked",
    "W": "paging",
}


def count_processes(procfs: Path) -> tuple[dict[str, int], int]:
    """({state: processes}, threads). Processes that vanish mid-walk are skipped."""
    states = dict.fromkeys(STATES.values(), 0)
    threads = 0
    root = str(procfs)
    for entry in os.listdir(root):
        if not entry.isdigit():
            continue
        try:
            with open(f"{root}/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # exited between listdir and open
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        rest = stat[stat.rfind(b")") + 2:].split(b" ", 18)
        state = STATES.get(rest[0].decode(), "other")
        states[state] = states.get(state, 0) + 1
        threads += int(rest[17])  # field 20, num_threads
    return states, threads


class ProcessCollector:
    name = "processes"

    def __init__(self, procfs: Path = Path("/proc")) -> None:
        self._procfs = procfs

    def collect(self) -> Iterable[Metric]:
        states, threads = count_processes(self._procfs)
        family = GaugeMetricFamily("regie_processes", "Processes by state.", labels=["state"])
        for state, count in states.items():
            family.add_metric([state], count)
        yield family
        yield GaugeMetricFamily("regie_threads", "Threads in all processes.", value=threads)
        pid_max = int((self._procfs / "sys/kernel/pid_max").read_text())
        yield GaugeMetricFamily("regie_processes_limit",
                                "Highest process id plus one (kernel.pid_max).", value=pid_max)
