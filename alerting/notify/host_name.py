"""Whether a host name from the settings can ever be looked up: checked at start-up.

The resolver (getaddrinfo, through CPython's IDNA codec) raises `UnicodeError`, not `OSError`,
for a name with an empty label (``127.0.0.1..``, ``mail..example``) or a label over 63
octets. Raised at send time, that error escaped every channel's error handling; refused at
start-up, the operator hears of it at once, with the channel's key.
"""

from __future__ import annotations

import ipaddress

from yarl import URL


def host_name_problem(host: str) -> str | None:
    """Why `host` (a name or an IP literal, without brackets) cannot be connected to, or None.
    The reason never repeats the host: in a Slack URL everything may be part of a secret."""
    if not host:
        return "has no host"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    if any(c.isspace() or not c.isprintable() for c in host):
        return "has a host with spaces or control characters"
    try:
        host.encode("idna")
    except UnicodeError:
        return "has a host that is not a valid DNS name (empty or over-long label)"
    try:
        URL.build(scheme="http", host=host)     # what aiohttp will build the request from
    except ValueError:
        return "has a host that is not a valid DNS name"
    return None
