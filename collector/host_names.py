"""The collector's current `alerting.host_identity.HostNames`: this machine's name, the
embedded evaluator's targets, and the names agents report in their inventory pushes.

Every path into the ticket queue that knows a host only by an address asks it here: the
evaluator's targets without a `host` (`canonical`), and the Alertmanager webhook's `host`/
`instance` labels (`known`, collector/payloads/alertmanager.py). Each evaluator target's address
is an alias of its host, so Prometheus scraping the same agent at the same address names the
same host. A push teaches this process at once (`learn`); what other collectors sharing the
database were taught is read again at most every `refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterable

from alerting.host_identity import HostNames, agent_aliases

log = logging.getLogger("regie.collector.host_names")

# How stale another collector's knowledge of a new agent may be here.
REFRESH_SECONDS = 60.0
# Bound on one read of the agents' names (a request may be waiting for it).
READ_TIMEOUT_SECONDS = 5.0


class KnownHosts:
    def __init__(self, *,
                 read_agents: Callable[[], Awaitable[Iterable[tuple[str, str | None]]]]
                 | None = None,
                 local: str | None = None, refresh_seconds: float = REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._base = HostNames(local or socket.gethostname())
        # The evaluator's targets are the operator's word: they win over what agents report.
        self._targets: list[tuple[str | None, str]] = []
        self._read_agents = read_agents
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._read_at = float("-inf")
        self._agents: list[tuple[str | None, str]] = []
        self.names = self._build()

    def _build(self) -> HostNames:
        return self._base.with_aliases([*self._agents, *self._targets])

    def canonical(self, name: str) -> str:
        return self.names.canonical(name)

    def known(self, name: str) -> str | None:
        return self.names.known(name)

    def add_targets(self, targets: Iterable[tuple[str, str]]) -> None:
        """The evaluator's targets, (address, host name): their addresses name their hosts."""
        self._targets += list(targets)
        self.names = self._build()

    def learn(self, hostname: str, fqdn: str | None) -> None:
        """An inventory push this process accepted."""
        self._agents += agent_aliases(hostname, fqdn)
        self.names = self._build()

    async def refresh(self) -> HostNames:
        """Re-read the agents' names when they are older than `refresh_seconds`; a failed
        read keeps the names known so far (logged), never fails the caller."""
        if self._read_agents is None or self._clock() - self._read_at < self._refresh_seconds:
            return self.names
        self._read_at = self._clock()
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                rows = await self._read_agents()
        except Exception as exc:
            log.warning("could not read the agents' names: %s", exc)
            return self.names
        self._agents = [alias for host, fqdn in rows for alias in agent_aliases(host, fqdn)]
        self.names = self._build()
        return self.names
