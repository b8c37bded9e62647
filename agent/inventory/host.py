"""Who the host is: hostname, fully qualified name and the systemd machine id.

The FQDN comes from a resolver lookup, which can hang for the resolver's whole timeout on a
host with broken DNS; it is a reader of its own, bounded, so that costs only the `fqdn` key.
"""

from __future__ import annotations

import socket
import threading

from agent.inventory.reading import Context, Reading

FQDN_TIMEOUT_SECONDS = 2.0
# machine-id(5); D-Bus's copy on hosts without systemd.
MACHINE_ID_PATHS = ("/etc/machine-id", "/var/lib/dbus/machine-id")


def read_host(ctx: Context) -> Reading:
    machine_id = None
    for name in MACHINE_ID_PATHS:
        try:
            machine_id = ctx.path(name).read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            continue
        if machine_id:
            break
    return Reading({"hostname": socket.gethostname(), "fqdn": None,
                    "machine_id": machine_id or None})


def canonical_name(hostname: str, *, timeout: float = FQDN_TIMEOUT_SECONDS) -> str:
    """What `hostname -f` prints: the canonical name from getaddrinfo(AI_CANONNAME)."""
    result: dict[str, object] = {}

    def lookup() -> None:
        try:
            result["infos"] = socket.getaddrinfo(hostname, None, flags=socket.AI_CANONNAME)
        except OSError as exc:
            result["error"] = exc

    # getaddrinfo has no timeout of its own; a daemon thread is abandoned if it overruns.
    thread = threading.Thread(target=lookup, name="fqdn-lookup", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"resolving {hostname!r} took longer than {timeout:g}s")
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    for info in result["infos"]:  # type: ignore[attr-defined]
        if info[3]:
            return info[3]
    return hostname


def read_fqdn(ctx: Context) -> Reading:
    return Reading(canonical_name(socket.gethostname()))
