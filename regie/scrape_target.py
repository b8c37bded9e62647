"""Where Prometheus scrapes an agent, as the agent announces it in its inventory push.

The agent sends ``document.scrape = {"address": "HOST:PORT", "scheme": "http"|"https",
"labels": {...}}``; the collector checks it with these same rules (collector/payloads/
inventory.py) and turns the fleet's into Prometheus targets (collector/prometheus_sd.py).
One definition for both sides: an agent whose settings pass here is never refused there.

Standard library only: the agent imports this.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping

# A DNS name or IPv4 address, or an IPv6 address in brackets, then a port from 1 to 65535.
# Written for both Python's `re.fullmatch` and JSON Schema (ECMA-262), which the OpenAPI
# document states it in (collector/openapi_schemas.py): no classes beyond ASCII ranges.
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = f"{_LABEL}(\\.{_LABEL})*"
_H16 = "[0-9A-Fa-f]{1,4}"
_IPV6 = ("(" + "|".join((
    f"({_H16}:){{7}}{_H16}",
    f"({_H16}:){{1,7}}:",
    f"({_H16}:){{1,6}}:{_H16}",
    f"({_H16}:){{1,5}}(:{_H16}){{1,2}}",
    f"({_H16}:){{1,4}}(:{_H16}){{1,3}}",
    f"({_H16}:){{1,3}}(:{_H16}){{1,4}}",
    f"({_H16}:){{1,2}}(:{_H16}){{1,5}}",
    f"{_H16}:(:{_H16}){{1,6}}",
    f":((:{_H16}){{1,7}}|:)",
)) + ")")
_PORT = "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
ADDRESS_PATTERN = f"^({_NAME}|\\[{_IPV6}\\]):{_PORT}$"
ADDRESS_MAX_LENGTH = 261        # a 255-character name, ':' and five digits
ADDRESS_RULE = ("HOST:PORT: a DNS name, an IPv4 address or an [IPv6] address, and a port "
                "from 1 to 65535")
SCHEMES = ("http", "https")

# Prometheus's label names (data model: [a-zA-Z_][a-zA-Z0-9_]*), bounded here.
LABEL_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,99}$"
# Names the collector sets itself (host: the agent's host name; criticality: from its
# [criticality] settings) or Prometheus does (job, instance); "__" names are Prometheus's own.
RESERVED_LABELS = ("host", "criticality", "job", "instance")
RESERVED_PREFIX = "__"
MAX_LABELS = 32
LABEL_VALUE_MAX_LENGTH = 256
LABELS_RULE = (f"at most {MAX_LABELS} labels; names as Prometheus's ([A-Za-z_][A-Za-z0-9_]*, "
               f"up to 100 characters), not starting with '__' and none of "
               f"{', '.join(RESERVED_LABELS)}; values 1 to {LABEL_VALUE_MAX_LENGTH} "
               f"characters without NUL")

_ADDRESS = re.compile(ADDRESS_PATTERN)
_LABEL_NAME = re.compile(LABEL_NAME_PATTERN)
# What the agent may listen on that no one else can reach it at.
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (compared, never bound)


def address_problem(value: object) -> str | None:
    """Why `value` is not a scrape address, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > ADDRESS_MAX_LENGTH or not _ADDRESS.fullmatch(value):
        return f"must be {ADDRESS_RULE}, not {value[:80]!r}"
    return None


def advertise_problem(value: object) -> str | None:
    """Why `value` cannot be announced as this agent's address (a wildcard reaches nobody)."""
    problem = address_problem(value)
    if problem is None and str(value).rpartition(":")[0] in ("0.0.0.0", "[::]"):  # noqa: S104
        return f"must be an address others reach this host at, not the wildcard {value!r}"
    return problem


def label_problem(name: object, value: object) -> str | None:
    """Why `name = value` cannot be a target label, or None."""
    if not isinstance(name, str) or not _LABEL_NAME.fullmatch(name):
        return f"{str(name)[:80]!r} is not a label name ([A-Za-z_][A-Za-z0-9_]*, up to 100)"
    if name.startswith(RESERVED_PREFIX) or name in RESERVED_LABELS:
        return f"{name!r} is set by Regie or Prometheus, not by the agent"
    if not isinstance(value, str):
        return f"{name}: must be a string"
    if not 0 < len(value) <= LABEL_VALUE_MAX_LENGTH or "\x00" in value:
        return f"{name}: must be 1 to {LABEL_VALUE_MAX_LENGTH} characters without NUL"
    return None


def labels_problem(labels: Mapping[str, object]) -> str | None:
    """Why `labels` cannot be a target's labels, or None."""
    if len(labels) > MAX_LABELS:
        return f"more than {MAX_LABELS} labels"
    for name, value in labels.items():
        problem = label_problem(name, value)
        if problem:
            return problem
    return None


def advertised_address(listen_host: str, port: int, *, fqdn: str | None = None,
                       hostname: str | None = None) -> str:
    """The address to announce for an agent listening on `listen_host`:`port`.

    A specific address is announced as it is; a wildcard (0.0.0.0, ::) names no reachable
    address, so the host's FQDN is announced instead (its short host name when the FQDN is
    not one: `localhost`, or no domain)."""
    if listen_host not in _WILDCARDS:
        host = f"[{listen_host}]" if ":" in listen_host else listen_host
        return f"{host}:{port}"
    fqdn = socket.getfqdn() if fqdn is None else fqdn
    if "." not in fqdn or fqdn.startswith("localhost"):
        fqdn = socket.gethostname() if hostname is None else hostname
    return f"{fqdn}:{port}"
