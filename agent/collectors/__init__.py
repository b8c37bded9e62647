"""Host-health collectors, registered in one table.

Each collector is a small object with a `name` and a `collect()` that builds fresh metric
families on every scrape (the prometheus_client custom-collector pattern). Inputs (settings,
/proc root) come through the constructor. A factory returns None when the collector does not
apply to this host (no systemd, say); that is not a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from prometheus_client.metrics_core import Metric

from agent.collectors.bonding import BondingCollector
from agent.collectors.certificates import CertificateCollector
from agent.collectors.conntrack import ConntrackCollector
from agent.collectors.cpu import CpuCollector
from agent.collectors.disks import DiskCollector
from agent.collectors.filesystems import FilesystemCollector
from agent.collectors.link import LinkCollector
from agent.collectors.mdstat import MdstatCollector
from agent.collectors.memory import MemoryCollector
from agent.collectors.network import NetworkCollector
from agent.collectors.pressure import PressureCollector
from agent.collectors.processes import ProcessCollector
from agent.collectors.reboot import RebootCollector
from agent.collectors.sensors import TemperatureCollector
from agent.collectors.system import SystemCollector
from agent.collectors.systemd import SystemdCollector
from agent.collectors.timex import TimexCollector
from agent.collectors.updates import UpdatesCollector
from agent.collectors.vmstat import VmstatCollector
from agent.config import HealthSettings


class HealthCollector(Protocol):
    name: str

    def collect(self) -> Iterable[Metric]: ...


Factory = Callable[[HealthSettings], HealthCollector | None]

# name -> factory. The only place a collector is registered; `health.disable` takes these names.
COLLECTORS: dict[str, Factory] = {
    "cpu": lambda s: CpuCollector(),
    "memory": lambda s: MemoryCollector(),
    "filesystem": lambda s: FilesystemCollector(
        exclude_fstypes=s.exclude_fstypes,
        exclude_mountpoints=s.exclude_mountpoints,
        timeout_seconds=s.filesystem_timeout_seconds,
    ),
    "disk": lambda s: DiskCollector(exclude=s.exclude_disks),
    "network": lambda s: NetworkCollector(exclude=s.exclude_interfaces),
    "system": lambda s: SystemCollector(),
    "processes": lambda s: ProcessCollector(),
    "temperature": lambda s: TemperatureCollector.if_available(),
    "systemd": lambda s: SystemdCollector.if_available(cache_seconds=s.systemd_cache_seconds),
    # Sources a host may lack (no PSI, no md, no bonding, no conntrack) give empty families,
    # not a missing collector: the series appear when the source does, without a restart.
    "timex": lambda s: TimexCollector(),
    "vmstat": lambda s: VmstatCollector(),
    "pressure": lambda s: PressureCollector(),
    "conntrack": lambda s: ConntrackCollector(),
    "mdstat": lambda s: MdstatCollector(),
    "link": lambda s: LinkCollector(exclude=s.exclude_interfaces),
    "bonding": lambda s: BondingCollector(),
    "reboot": lambda s: RebootCollector(),
    "updates": lambda s: UpdatesCollector(interval_seconds=s.updates_interval_seconds,
                                          state_file=s.updates_state_file),
    "certificates": lambda s: CertificateCollector(s.certificate_files),
}


def build_collectors(settings: HealthSettings) -> list[HealthCollector]:
    unknown = sorted(set(settings.disable) - set(COLLECTORS))
    if unknown:
        raise ValueError(
            f"unknown collector(s) {', '.join(unknown)}; known: {', '.join(COLLECTORS)}"
        )
    built = (factory(settings) for name, factory in COLLECTORS.items()
             if name not in settings.disable)
    return [c for c in built if c is not None]
