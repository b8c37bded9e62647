"""One host identity for every alerting path: the agent's host name.

Prometheus knows an agent by its scrape address (``127.0.0.1:9847``,
``web-01.example.net:9847``), the embedded evaluator by its configured target, inventory by the
host name the agent reports (``web-01``). Criticality globs, end-of-support impact, correlation
and inhibition all key on the host, so a ticket's host must not depend on the path that
raised it. `HostNames` decides it, from what the collector knows:

- `known(name)`: the agent's host name for a known alias, the exact address first (an
  evaluator target ``10.0.0.5:9847``, named by its `host` setting or as below), then the
  name without its port (an agent's FQDN or host name, from its inventory pushes); else None.
  The Alertmanager webhook asks this for each of an alert's host and address labels, and keeps
  the label as it came when none is known.
- `canonical(name)`, for the embedded evaluator's own targets: a known alias as above; a
  loopback address means this machine (the collector scrapes it), so this machine's host
  name; anything else, the address without its port. A loopback address in an alert from
  Prometheus means Prometheus's machine, which is why the webhook does not use this rule.

Pure: the aliases (from evaluator targets and inventory pushes) and the local host name are
arguments (collector/host_names.py keeps them current).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "localhost.localdomain", "ip6-localhost"})


def without_port(address: str) -> str:
    """``web-01:9847`` -> ``web-01``, ``[::1]:9847`` -> ``::1``; a bare name or IPv6 address
    as it is."""
    address = address.strip()
    if address.startswith("["):
        inner, closed, _ = address[1:].partition("]")
        return inner if closed else address
    name, colon, port = address.rpartition(":")
    if colon and name and port.isdigit() and ":" not in name:
        return name
    return address


@dataclass(frozen=True, slots=True)
class HostNames:
    """Aliases (an address or name, lower case) -> host name, and this machine's name."""

    local: str
    aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "aliases", MappingProxyType(
            {alias.strip().lower(): host for alias, host in self.aliases.items()
             if alias.strip() and host}))

    def known(self, name: str) -> str | None:
        """The host name of a known agent address or name, or None."""
        exact = name.strip().lower()
        if exact in self.aliases:
            return self.aliases[exact]
        return self.aliases.get(without_port(name).lower())

    def canonical(self, name: str) -> str:
        """The host name for an address this collector scrapes (module docstring)."""
        known = self.known(name)
        if known is not None:
            return known
        bare = without_port(name)
        return self.local if bare.lower() in LOOPBACK else bare

    def with_aliases(self, pairs: Iterable[tuple[str | None, str]]) -> HostNames:
        """A copy that also knows `pairs` of (alias, host name); later pairs win."""
        merged = dict(self.aliases)
        merged.update((alias.strip().lower(), host) for alias, host in pairs
                      if alias and alias.strip() and host)
        return HostNames(self.local, merged)


def agent_aliases(hostname: str, fqdn: str | None) -> list[tuple[str | None, str]]:
    """The aliases an inventory push teaches: the host name itself and its FQDN."""
    return [(hostname, hostname), (fqdn, hostname)]
