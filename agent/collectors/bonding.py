"""Bonded interfaces (Linux bonding driver) and the state of their slaves, from sysfs.

/sys/class/net/bonding_masters lists the bonds; /sys/class/net/<bond>/bonding/slaves their
slaves; /sys/class/net/<slave>/bonding_slave/mii_status is "up" or "down" (node_exporter's
`bonding` collector reads the same files). A bond with a slave down still carries traffic but
has lost its redundancy. Without the bonding driver the files do not exist: empty families.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric


class BondingCollector:
    name = "bonding"

    def __init__(self, sysfs: Path = Path("/sys")) -> None:
        self._net = sysfs / "class/net"

    def collect(self) -> Iterable[Metric]:
        slaves = GaugeMetricFamily("regie_bonding_slaves", "Slaves of the bond.",
                                   labels=["master"])
        active = GaugeMetricFamily("regie_bonding_slaves_active",
                                   "Slaves of the bond whose MII status is up.",
                                   labels=["master"])
        slave_up = GaugeMetricFamily("regie_bonding_slave_up",
                                     "1 when the slave's MII status is up, 0 when down.",
                                     labels=["master", "slave"])
        try:
            masters = (self._net / "bonding_masters").read_text().split()
        except FileNotFoundError:
            masters = []  # no bonding driver
        for master in sorted(masters):
            names = (self._net / master / "bonding/slaves").read_text().split()
            up = 0
            for slave in names:
                status = (self._net / slave / "bonding_slave/mii_status").read_text().strip()
                slave_up.add_metric([master, slave], 1 if status == "up" else 0)
                up += status == "up"
            slaves.add_metric([master], len(names))
            active.add_metric([master], up)
        yield from (slaves, active, slave_up)
