"""Outbound URL checks for webhook and chat channels: no requests into our own networks.

A webhook URL comes from configuration someone typed, or one day from an API; either way the
collector must not become a way to reach its own metadata service, database or admin ports
(server-side request forgery, https://owasp.org/www-community/attacks/Server_Side_Request_Forgery).
`check_url` resolves the host once and refuses the URL when ANY address it resolves to is
loopback, link-local, private, shared (CGNAT), unspecified, multicast, reserved or otherwise
not globally routable, including such IPv4 addresses inside IPv6 (mapped ::ffff:a.b.c.d,
6to4 2002::/16, NAT64 64:ff9b::/96), unless an operator allowed its network
(``allow_networks = ["10.1.2.0/24"]``).

The checked addresses are then pinned: `PinnedResolver` is the aiohttp resolver of the
connection and answers only those addresses, so a DNS answer that changes between the check
and the connect (DNS rebinding) is never used. TLS verification and the Host header still
use the host name of the URL. Redirects are never followed by the channels.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses it resolves to, as text. Injected by tests; the default asks
# the event loop's resolver (getaddrinfo in the default executor: off the loop).
Resolve = Callable[[str, int], Awaitable[Sequence[str]]]

SCHEMES = frozenset({"http", "https"})
CGNAT = ipaddress.IPv4Network("100.64.0.0/10")     # RFC 6598 shared address space
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")      # RFC 6052 well-known prefix
# RFC 6890 IETF protocol assignments; Python before 3.13 counts most of it as global.
IETF_PROTOCOL = ipaddress.IPv4Network("192.0.0.0/24")

# Checked in order; the first that matches names the refusal. Reserved before private so the
# broadcast address reads "reserved"; the last rule catches the rest of the IANA
# special-purpose registry (documentation, benchmarking, ...).
_RULES: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda ip: ip.is_unspecified),
    ("loopback", lambda ip: ip.is_loopback),
    ("link-local", lambda ip: ip.is_link_local),
    ("multicast", lambda ip: ip.is_multicast),
    ("shared address space (CGNAT)", lambda ip: ip in CGNAT),
    ("reserved", lambda ip: ip.is_reserved),
    ("private", lambda ip: ip.is_private),
    ("site-local", lambda ip: isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
    ("an IETF protocol assignment", lambda ip: ip in IETF_PROTOCOL),
    ("not globally routable", lambda ip: not ip.is_global),
)


class UnsafeUrl(Exception):
    """The URL may not be called; `reason` says why and how to allow it, if it can be."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    url: URL
    host: str                       # as the connection will ask the resolver for it
    port: int
    addresses: tuple[str, ...]      # every address the host resolved to, all checked


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["127.0.0.1/32", "fd00::/8"]`` -> networks; ValueError naming the bad one."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value, strict=True))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a network: {exc}") from None
    return tuple(out)


def networks_check(values: tuple[str, ...]) -> str | None:
    """Config field check for allow_networks."""
    try:
        parse_networks(values)
    except ValueError as exc:
        return str(exc)
    return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to, for the forms that route to one."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _category(ip: IPAddress) -> str | None:
    for name, applies in _RULES:
        if applies(ip):
            return name
    return None


def address_problem(address: str | IPAddress, allow: Sequence[Network] = ()) -> str | None:
    """Why `address` may not be connected to, or None. Pure: plain data in, text out."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).partition("%")[0])
    inner = _embedded_ipv4(ip)
    if any(ip in net for net in allow) or (inner is not None and any(inner in n for n in allow)):
        return None
    if inner is not None:
        # The IPv6 form itself is "reserved"/"private" to Python; what matters is where it goes.
        category = _category(inner)
        if category is None:
            return None
        # Mapped addresses are shown as ::ffff:a.b.c.d whatever this Python prints.
        mapped = isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None
        shown = f"::ffff:{inner}" if mapped else str(ip)
        return (f"address {shown} is {category} (it carries IPv4 {inner}); "
                "allow it with allow_networks")
    category = _category(ip)
    if category is None:
        return None
    return f"address {ip} is {category}; allow it with allow_networks"


async def system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def check_url(url: str | URL, allow: Sequence[Network] = (), *,
                    resolve: Resolve | None = None) -> CheckedUrl:
    """Resolve and check; UnsafeUrl when refused. DNS failures propagate as OSError
    (socket.gaierror): they may pass, so the caller treats them as worth a retry."""
    target = url if isinstance(url, URL) else URL(url)
    if target.scheme not in SCHEMES:
        raise UnsafeUrl(f"scheme {target.scheme!r} is not allowed; use http or https")
    host = target.raw_host
    if not host:
        raise UnsafeUrl("the URL has no host")
    port = target.port
    if port is None:
        raise UnsafeUrl("the URL has no port")
    literal = _literal(host)
    if literal is not None:
        addresses: list[str] = [str(literal)]
    else:
        addresses = list(dict.fromkeys(await (resolve or system_resolve)(host, port)))
        if not addresses:
            raise OSError(f"{host} resolved to no address")
    for address in addresses:
        problem = address_problem(address, allow)
        if problem:
            shown = "" if literal is not None else f"{host}: "
            raise UnsafeUrl(shown + problem)
    return CheckedUrl(url=target, host=host, port=port, addresses=tuple(addresses))


class PinnedResolver(AbstractResolver):
    """An aiohttp resolver that answers the checked host with the checked addresses only.

    Any other name (there should be none: no redirects, no proxies) fails, so a connection
    can only go where `check_url` looked.
    """

    def __init__(self, checked: CheckedUrl) -> None:
        self._checked = checked

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host != self._checked.host:
            raise OSError(f"{host} was not checked; refusing to resolve it")
        out: list[ResolveResult] = []
        for address in self._checked.addresses:
            ip = ipaddress.ip_address(address)
            fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            if family not in (socket.AF_UNSPEC, fam):
                continue
            out.append(ResolveResult(hostname=host, host=address, port=port, family=fam,
                                     proto=socket.IPPROTO_TCP,
                                     flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV))
        if not out:
            raise OSError(f"{host} has no checked address of family {family!r}")
        return out

    async def close(self) -> None:
        return None
