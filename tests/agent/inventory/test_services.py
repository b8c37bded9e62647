"""Listening sockets: pure selection over psutil-shaped tuples, and this host's real sockets."""

from __future__ import annotations

import os
import socket
from collections import namedtuple
from pathlib import Path

import psutil

from agent.inventory.reading import Context, run_command
from agent.inventory.services import Listener, listening, read_services

# The fields of psutil's `sconn` (psutil.net_connections()).
Conn = namedtuple("Conn", "fd family type laddr raddr status pid")
Addr = namedtuple("Addr", "ip port")

CONNECTIONS = [
    Conn(3, socket.AF_INET, socket.SOCK_STREAM, Addr("0.0.0.0", 22), (), "LISTEN", 812),
    Conn(4, socket.AF_INET6, socket.SOCK_STREAM, Addr("::", 22), (), "LISTEN", 812),
    Conn(5, socket.AF_INET, socket.SOCK_STREAM, Addr("10.0.0.5", 22),
         Addr("10.0.0.9", 51514), "ESTABLISHED", 9001),
    Conn(6, socket.AF_INET, socket.SOCK_DGRAM, Addr("127.0.0.1", 323), (), "NONE", 640),
    Conn(7, socket.AF_INET, socket.SOCK_DGRAM, Addr("10.0.0.5", 40000),
         Addr("10.0.0.1", 53), "NONE", 700),
    Conn(-1, socket.AF_INET, socket.SOCK_STREAM, Addr("0.0.0.0", 5432), (), "LISTEN", None),
    # Two workers of one server on the same port (SO_REUSEPORT): one listener.
    Conn(8, socket.AF_INET, socket.SOCK_STREAM, Addr("0.0.0.0", 80), (), "LISTEN", 1001),
    Conn(8, socket.AF_INET, socket.SOCK_STREAM, Addr("0.0.0.0", 80), (), "LISTEN", 1002),
]
NAMES = {812: "sshd", 640: "chronyd", 1001: "nginx", 1002: "nginx"}


def test_listening_selection() -> None:
    """Pure: TCP LISTEN and peerless UDP only, de-duplicated, unknown processes null."""
    assert listening(CONNECTIONS, NAMES.get) == [
        Listener(protocol="tcp", address="0.0.0.0", port=22, process="sshd"),
        Listener(protocol="tcp", address="::", port=22, process="sshd"),
        Listener(protocol="tcp", address="0.0.0.0", port=80, process="nginx"),
        Listener(protocol="tcp", address="0.0.0.0", port=5432, process=None),
        Listener(protocol="udp", address="127.0.0.1", port=323, process="chronyd"),
    ]


def test_this_process_sockets_are_seen() -> None:
    """Real sockets opened by the test on loopback, found by the real reader with this
    process's name."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        ports = tcp.getsockname()[1], udp.getsockname()[1]
        services = read_services(Context(root=Path("/"), run=run_command)).value
    me = psutil.Process(os.getpid()).name()
    assert {"protocol": "tcp", "address": "127.0.0.1", "port": ports[0], "process": me} \
        in services
    assert {"protocol": "udp", "address": "127.0.0.1", "port": ports[1], "process": me} \
        in services
