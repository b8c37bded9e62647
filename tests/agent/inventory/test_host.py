"""Host identity: machine id from a fixture tree, hostname and FQDN from the real resolver."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agent.inventory.host import canonical_name, read_fqdn, read_host
from agent.inventory.reading import Context, run_command


def test_machine_id_and_dbus_fallback(tmp_path: Path) -> None:
    """Fixture trees for /etc/machine-id and D-Bus's copy; the hostname is the real one."""
    (tmp_path / "var/lib/dbus").mkdir(parents=True)
    (tmp_path / "var/lib/dbus/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    value = read_host(Context(root=tmp_path, run=run_command)).value
    assert value == {"hostname": socket.gethostname(), "fqdn": None,
                     "machine_id": "0123456789abcdef0123456789abcdef"}
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/machine-id").write_text("fedcba9876543210fedcba9876543210\n")
    assert read_host(Context(root=tmp_path, run=run_command)).value["machine_id"] == \
        "fedcba9876543210fedcba9876543210"


def test_no_machine_id(tmp_path: Path) -> None:
    """An empty fixture root (a container without machine-id): null, not an error."""
    assert read_host(Context(root=tmp_path, run=run_command)).value["machine_id"] is None


def test_this_host() -> None:
    """The real /etc/machine-id and resolver of the build host."""
    ctx = Context(root=Path("/"), run=run_command)
    assert read_host(ctx).value["machine_id"] == Path("/etc/machine-id").read_text().strip()
    assert read_fqdn(ctx).value.split(".")[0] == socket.gethostname().split(".")[0]


def test_unresolvable_name_raises() -> None:
    """The real resolver on a reserved, never-resolving name (RFC 6761 .invalid)."""
    with pytest.raises(OSError):
        canonical_name("regie-test.invalid", timeout=10)
