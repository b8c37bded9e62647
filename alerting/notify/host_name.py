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
        # What aiohttp will build the request from: yarl maps the name first (UTS 46), and
        # the mapping itself may empty a label: "\u2488.example" (a digit with a full stop,
        # one character) becomes "1..example".
        built = URL.build(scheme="http", host=host).raw_host or ""
    except ValueError:
        return "has a host that is not a valid DNS name"
    for name in (host, built):
        try:
            encoded = name.encode("idna")
        except UnicodeError:
            return "has a host that is not a valid DNS name (empty or over-long label)"
        # CPython's codec maps before it splits, so it may itself return an empty label.
        if any(not label or len(label) > 63
               for label in encoded.removesuffix(b".").split(b".")):
            return "has a host that is not a valid DNS name (empty or over-long label)"
    return None
