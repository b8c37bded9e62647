"""Draw docs/img/dashboards/*.png from the live test world (tests/dashboards/world.py):

    .venv/bin/python -m tests.dashboards.make_previews docs/img/dashboards --minutes 4

It starts the same real agents, snmpd, collector and Prometheus as the live test, lets them
run for --minutes (a new wave of tickets every 15 s) and draws each dashboard over that span
with `regie dashboards preview`, the command users run against their own Prometheus.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.agent.conftest import Snmpd
from tests.dashboards.world import SCRAPE_SECONDS, world
from tests.services import free_port, require_binary, running


@contextlib.contextmanager
def snmpd(tmp: Path) -> Iterator[Snmpd]:
    """A real snmpd with a v2c community (the agent tests' fixture, outside pytest)."""
    agent = Snmpd(port=free_port(socket.SOCK_DGRAM), community=f"c-{secrets.token_hex(6)}",
                  username="unused", auth_password="unused-auth", priv_password="unused-priv",
                  sys_name="core-sw-01", sys_descr="Regie preview switch")
    conf = tmp / "snmpd.conf"
    conf.write_text(f"rocommunity {agent.community} 127.0.0.1\nsysName {agent.sys_name}\n")
    (tmp / "snmp-persist").mkdir()
    env = os.environ | {"SNMP_PERSISTENT_DIR": str(tmp / "snmp-persist")}

    def ready() -> bool:
        probe = subprocess.run(
            [require_binary("snmpget"), "-m", "", "-v2c", "-c", agent.community, "-r", "0",
             "-t", "1", f"127.0.0.1:{agent.port}", "1.3.6.1.2.1.1.5.0"],
            env=env | {"SNMP_PERSISTENT_DIR": str(tmp / "snmp-client")}, capture_output=True,
            timeout=10, check=False)
        return probe.returncode == 0

    with running([require_binary("snmpd"), "-f", "-Lo", "-C", "-c", str(conf), "-m", "",
                  f"udp:127.0.0.1:{agent.port}"], log=tmp / "snmpd.log", env=env, ready=ready):
        yield agent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--minutes", type=float, default=4.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="regie-previews-") as name:
        tmp = Path(name)
        with snmpd(tmp) as device, world(tmp / "world", device,
                                          settle_seconds=args.minutes * 60) as here:
            span = int(time.time() - here.started)
            subprocess.run([Path(sys.executable).parent / "regie", "dashboards", "preview",
                            "--prometheus", here.prometheus, "--out", str(args.out),
                            "--range", f"{span}s", "--scrape-interval",
                            f"{SCRAPE_SECONDS:g}s"], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
