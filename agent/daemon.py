"""`regie agent run`: wires settings into the metrics server, the SNMP poller and the push loop.

Everything optional is imported only when configured: pysnmp when SNMP targets exist, the push
client when a collector URL is set. That keeps a plain agent small (bench/agent.py measures RSS).
"""

from __future__ import annotations

import logging
import resource
import signal
import ssl
import threading
from collections.abc import Callable

from agent.collectors import build_collectors
from agent.config import AgentSettings
from agent.exposition import HealthMetrics, build_registry
from agent.http import MetricsServer, ServerLimits
from agent.http_stats import HttpStats
from regie.configfile import ConfigError, parse_listen

log = logging.getLogger("regie.agent")


# How often the main thread looks for a signal the handler recorded.
SIGNAL_POLL_SECONDS = 0.2


def run(settings: AgentSettings, *, stop: threading.Event | None = None,
        on_ready: Callable[[MetricsServer], None] | None = None) -> int:
    """Serve until SIGTERM/SIGINT (or `stop` is set). Returns the process exit code."""
    stop = stop or threading.Event()
    health = HealthMetrics(build_collectors(settings.health))
    extra = []
    snmp = None
    if settings.snmp.targets:
        from agent.snmp.service import SnmpService

        snmp = SnmpService(settings.snmp)
        extra.append(snmp.collector())
    push = None
    if settings.push.collector:
        from agent.inventory import collect_inventory
        from agent.push import PushService, redact_url, scrape_section

        def inventory() -> dict:
            return collect_inventory(extra_observations=snmp.observations() if snmp else ())

        from agent.spool import SpoolError

        try:
            push = PushService(settings.push, token=settings.token, inventory=inventory,
                               scrape=scrape_section(settings))
        except (OSError, SpoolError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(settings.source, "push.spool_dir",
                              f"cannot use {str(settings.push.spool_dir)!r}: {reason}") from None
        extra.append(push.collector())
    stats = HttpStats()
    registry = build_registry(health, extra, http=stats)

    host, port = parse_listen(settings.http.listen)
    http = settings.http
    limits = ServerLimits(header_timeout=http.header_timeout_seconds,
                          idle_timeout=http.idle_timeout_seconds,
                          write_timeout=http.write_timeout_seconds,
                          handshake_timeout=http.header_timeout_seconds,
                          max_connections=_connection_cap(http.max_connections),
                          max_waiting_scrapes=http.max_requests)
    try:
        server = MetricsServer(registry, host, port, tls_cert_file=http.tls_cert_file,
                               tls_key_file=http.tls_key_file, limits=limits, stats=stats)
    except ssl.SSLError as exc:
        raise ConfigError(settings.source, "http.tls_cert_file",
                          f"certificate and key do not load: {exc.reason or exc}") from None
    except OSError as exc:
        log.error("cannot listen on %s: %s", settings.http.listen, exc.strerror or exc)
        return 1
    # The handler only records the signal: one that called stop.set() could interrupt the main
    # thread inside stop.wait() while it holds the Event's lock, and wait for that lock forever
    # (a SIGTERM right after start-up did: the agent never stopped).
    received: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        if threading.current_thread() is threading.main_thread():
            signal.signal(signum, lambda signum, _frame: received.append(signum))

    server.start()
    log.info("serving %s://%s/metrics (collectors: %s)", server.scheme, settings.http.listen,
             ", ".join(health.names))
    if snmp:
        snmp.start()
        log.info("polling %d SNMP target(s) every %gs", len(settings.snmp.targets),
                 settings.snmp.interval_seconds)
    if push:
        push.start()
        log.info("pushing inventory to %s", redact_url(settings.push.collector))
    if on_ready:
        on_ready(server)
    try:
        while not received and not stop.wait(SIGNAL_POLL_SECONDS):
            pass
        stop.set()
    finally:
        log.info("stopping")
        if push:
            push.close()
        if snmp:
            snmp.close()
        server.close()
    return 0


# Descriptors kept free for everything else the agent opens (/proc files, the spool, SNMP).
_RESERVED_FDS = 64


def _connection_cap(configured: int) -> int:
    """`http.max_connections`, lowered to what the open-files limit allows: beyond it accept()
    fails with EMFILE and asyncio stops accepting anyone for a while, the good scrape too."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft - _RESERVED_FDS >= configured:
        return configured
    allowed = max(1, soft - _RESERVED_FDS)
    log.warning("http.max_connections %d lowered to %d: the open-files limit is %d",
                configured, allowed, soft)
    return allowed
