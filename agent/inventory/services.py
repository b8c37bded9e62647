"""Listening sockets: TCP in LISTEN and UDP sockets bound without a peer.

psutil.net_connections() reads /proc/net/{tcp,udp}[6] and maps sockets to processes through
/proc/<pid>/fd; as a non-root user that mapping covers only the user's own processes, so the
process name is given where it is known and null elsewhere (never an error).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from agent.inventory.reading import Context, Reading


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    protocol: str  # tcp | udp
    address: str
    port: int
    process: str | None


def listening(connections: Iterable[Any],
              process_name: Callable[[int], str | None]) -> list[Listener]:
    """psutil `sconn` tuples -> listeners, one per (protocol, address, port, process).

    The pid is left out on purpose: it changes on every restart and would make the inventory
    look changed when nothing that matters did.
    """
    found: set[Listener] = set()
    for conn in connections:
        if conn.type == socket.SOCK_STREAM and conn.status == psutil.CONN_LISTEN:
            protocol = "tcp"
        elif conn.type == socket.SOCK_DGRAM and not conn.raddr:
            protocol = "udp"
        else:
            continue
        if not conn.laddr:
            continue
        name = process_name(conn.pid) if conn.pid else None
        found.add(Listener(protocol=protocol, address=conn.laddr[0], port=conn.laddr[1],
                           process=name))
    return sorted(found, key=lambda s: (s.protocol, s.port, s.address, s.process or ""))


def _process_names() -> Callable[[int], str | None]:
    cache: dict[int, str | None] = {}

    def name(pid: int) -> str | None:
        if pid not in cache:
            try:
                cache[pid] = psutil.Process(pid).name()
            except (psutil.Error, OSError):  # exited, or not ours to read
                cache[pid] = None
        return cache[pid]

    return name


def read_services(ctx: Context) -> Reading:
    connections = psutil.net_connections(kind="inet")
    return Reading([asdict(s) for s in listening(connections, _process_names())])
