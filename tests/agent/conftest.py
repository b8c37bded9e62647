"""Agent fixtures: the real `regie agent run` process, and a real net-snmp `snmpd`."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.config import SnmpTarget
from regie.configfile import Secret
from tests.conftest import Service
from tests.services import free_port, http_ok, require_binary, running


@contextlib.contextmanager
def agent_process(tmp_path: Path, config: str = "", *, scheme: str = "http",
                  extra_args: tuple[str, ...] = ()) -> Iterator[Service]:
    """Run `regie agent run` as its own process (the CLI end to end), yield its base URL."""
    port = free_port()
    conf = tmp_path / "agent.toml"
    conf.write_text(config)
    argv = [sys.executable, "-m", "regie", "agent", "run", "--config", str(conf),
            "--listen", f"127.0.0.1:{port}", *extra_args]
    url = f"{scheme}://127.0.0.1:{port}"

    def ready() -> bool:
        if scheme == "https":
            import socket
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False
        return http_ok(f"{url}/healthz")

    with running(argv, log=tmp_path / "agent.log", ready=ready, what="regie agent"):
        yield Service(url=url, port=port)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Service]:
    with agent_process(tmp_path) as service:
        yield service


@dataclass(frozen=True)
class Snmpd:
    port: int
    community: str
    username: str
    auth_password: str
    priv_password: str
    sys_name: str
    sys_descr: str

    def v2c(self, name: str = "v2c", **overrides: Any) -> SnmpTarget:
        fields: dict[str, Any] = {"address": "127.0.0.1", "port": self.port, "version": "2c",
                                  "community": Secret(self.community)}
        return SnmpTarget(name=name, **(fields | overrides))

    def v3(self, name: str = "v3", **overrides: Any) -> SnmpTarget:
        # SHA-256 / AES-128 are SnmpTarget's defaults: not naming them tests the defaults.
        fields: dict[str, Any] = {"address": "127.0.0.1", "port": self.port,
                                  "username": self.username,
                                  "auth_password": Secret(self.auth_password),
                                  "priv_password": Secret(self.priv_password)}
        return SnmpTarget(name=name, **(fields | overrides))

    @property
    def credentials(self) -> tuple[str, ...]:
        return (self.community, self.username, self.auth_password, self.priv_password)


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    """A real snmpd (net-snmp) with a v2c community and a v3 SHA-256/AES-128 authPriv user."""
    binary = require_binary("snmpd")
    snmpget = require_binary("snmpget")
    workdir = tmp_path_factory.mktemp("snmpd")
    # Random, distinctive credentials: a leak check that searches for them cannot pass by luck.
    agent = Snmpd(
        port=free_port(socket.SOCK_DGRAM),
        community=f"comm-{secrets.token_hex(6)}",
        username=f"user-{secrets.token_hex(4)}",
        auth_password=f"authpass-{secrets.token_hex(6)}",
        priv_password=f"privpass-{secrets.token_hex(6)}",
        sys_name="regie-snmp-test",
        sys_descr="Regie test agent",
    )
    conf = workdir / "snmpd.conf"
    conf.write_text(
        f"rocommunity {agent.community} 127.0.0.1\n"
        f'createUser {agent.username} SHA-256 "{agent.auth_password}" '
        f'AES "{agent.priv_password}"\n'
        f"rouser {agent.username} priv\n"
        f"sysName {agent.sys_name}\n"
        f"sysDescr {agent.sys_descr}\n"
    )
    persist = workdir / "persist"
    persist.mkdir()
    # snmpget keeps state too; without its own directory it writes under /var/lib/snmp.
    env = os.environ | {"SNMP_PERSISTENT_DIR": str(persist)}
    client_env = os.environ | {"SNMP_PERSISTENT_DIR": str(workdir / "client")}

    def ready() -> bool:
        probe = subprocess.run(
            [snmpget, "-m", "", "-v2c", "-c", agent.community, "-r", "0", "-t", "1",
             f"127.0.0.1:{agent.port}", "1.3.6.1.2.1.1.5.0"],
            env=client_env, capture_output=True, timeout=10, check=False,
        )
        return probe.returncode == 0

    argv = [binary, "-f", "-Lo", "-C", "-c", str(conf), "-m", "", f"udp:127.0.0.1:{agent.port}"]
    with running(argv, log=workdir / "snmpd.log", ready=ready, env=env):
        yield agent
