"""The running collector: what `regie collector run` starts, owned by the app's cleanup_ctx.

`stores_context` creates the engine at start (never at import), refuses to serve when the
schema is behind the code, and disposes of it at shutdown. `evaluator_context` runs the
embedded evaluator loop when targets are configured, cancelled cleanly on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.escalation_policy import Policies
from alerting.rules import RuleSet
from alerting.schedule import Schedules
from alerting.ticket import Signal
from collector.app import AUTH, HOSTS, INTAKE, MAINTENANCE, METRICS, ONCALL, REGISTRY, STORES
from collector.auth import Authenticator
from collector.config import CollectorSettings
from collector.intake import Intake, utcnow
from collector.registry import Registry
from collector.store.engine import (
    check_schema,
    create_engine,
    database_url,
    sqlite_checkpoints,
)
from collector.store.inventory import InventoryStore
from collector.store.registry import RegistryStore
from collector.store.tickets import TicketStore
from collector.store.tokens import TokenStore

log = logging.getLogger("regie.collector")

DEFAULT_POLICY_FILE = Path(__file__).parent / "data" / "default_escalation.yml"


@dataclass(frozen=True, slots=True)
class Stores:
    engine: AsyncEngine
    tickets: TicketStore
    tokens: TokenStore
    inventory: InventoryStore

    @classmethod
    def on(cls, engine: AsyncEngine) -> Stores:
        return cls(engine=engine, tickets=TicketStore(engine), tokens=TokenStore(engine),
                   inventory=InventoryStore(engine))

    async def ping(self) -> None:
        async with asyncio.timeout(5), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


def intake_writers(settings: CollectorSettings, engine: AsyncEngine) -> int:
    """Group transactions the intake may run at once: `[database] intake_writers` on
    PostgreSQL; one on SQLite, whose writers take the database lock in turn anyway."""
    return settings.database.intake_writers if engine.dialect.name == "postgresql" else 1


def stores_context(settings: CollectorSettings, *, clock: Callable[[], datetime] = utcnow):
    async def context(app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(database_url(settings.database.url),
                               sqlite_synchronous=settings.database.sqlite_synchronous)
        try:
            await check_schema(engine)
            stores = Stores.on(engine)
            app[STORES] = stores
            app[AUTH] = Authenticator(
                stores.tokens.lookup,
                on_use=lambda token_id: stores.tokens.touch(token_id, datetime.now(UTC)))
            app[INTAKE] = Intake(stores.tickets, criticality=settings.criticality,
                                 matrix=settings.priority.resolved(), metrics=app[METRICS],
                                 clock=clock, writers=intake_writers(settings, engine))
            registry = Registry(RegistryStore(engine), clock=clock,
                                refresh_seconds=settings.registry.refresh_seconds)
            await registry.load()
            app[REGISTRY] = registry
            app[INTAKE].past_end_of_support = registry.past_end_of_support
            refresh = asyncio.create_task(registry.run(), name="regie-registry")
            maintenance_tasks = await _start_maintenance(app, settings, engine, clock)
            checkpoints = None
            if engine.dialect.name == "sqlite":
                checkpoints = asyncio.create_task(sqlite_checkpoints(engine),
                                                  name="regie-sqlite-checkpoints")
            yield
            for task in (refresh, *maintenance_tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if checkpoints is not None:
                checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpoints
        finally:
            await engine.dispose()

    return context


async def _start_maintenance(app: web.Application, settings: CollectorSettings,
                             engine: AsyncEngine,
                             clock: Callable[[], datetime]) -> list[asyncio.Task]:
    """The maintenance windows in memory, asked by the intake for every ticket it opens; the
    refresh loop; the silence mirror when an Alertmanager is configured."""
    from collector.maintenance import Maintenance

    configured = settings.maintenance
    maintenance = Maintenance(engine, clock=clock, refresh_seconds=configured.refresh_seconds,
                              changes=configured.changes)
    await maintenance.reload()
    app[MAINTENANCE] = maintenance
    app[STORES].tickets.maintenance = maintenance.covering
    app[METRICS].registry.register(maintenance.gauges)
    tasks = [asyncio.create_task(maintenance.run(), name="regie-maintenance")]
    if configured.alertmanager_url:
        from collector.silences import SilenceMirror

        mirror = SilenceMirror(maintenance.active, url=configured.alertmanager_url,
                               created_by=configured.silence_created_by, clock=clock,
                               interval_seconds=configured.refresh_seconds,
                               timeout_seconds=configured.alertmanager_timeout_seconds)
        maintenance.on_reload = mirror.wake
        maintenance.mirror = mirror
        tasks.append(asyncio.create_task(mirror.run(), name="regie-silences"))
    return tasks


def evaluator_context(settings: CollectorSettings, rule_set: RuleSet):
    from collector.evaluator import Evaluator, EvaluatorMetrics, EvaluatorTarget
    from collector.host_names import KnownHosts
    from collector.leadership import AdvisoryLock, SoleLeader
    from collector.runbooks import linked
    from collector.store.agent_names import AgentNames
    from collector.store.evaluator_tickets import active_evaluator_tickets

    # A rule without a runbook link of its own links its bundled page here (collector/runbooks.py)
    rules = linked(rule_set.rules, public_url(settings))

    async def context(app: web.Application) -> AsyncIterator[None]:
        # Inhibition and host names apply to every path into the store, evaluator or not.
        engine = app[STORES].engine
        app[STORES].tickets.inhibit_rules = rule_set.inhibit_rules
        hosts = KnownHosts(read_agents=AgentNames(engine))
        await hosts.refresh()
        targets = [EvaluatorTarget(address=t.address, host=t.host or hosts.canonical(t.address),
                                   scheme=t.scheme)
                   for t in settings.evaluator.targets]
        hosts.add_targets((t.address, t.host) for t in targets)
        app[HOSTS] = hosts
        if not settings.evaluator.enabled or not targets:
            yield
            return
        intake = app[INTAKE]

        async def ingest(signals: list[Signal]) -> None:
            await intake.signals(signals)

        # Several collectors may share a PostgreSQL database: one of them evaluates.
        leadership = (AdvisoryLock(engine) if engine.dialect.name == "postgresql"
                      else SoleLeader())
        async with aiohttp.ClientSession() as session:
            evaluator = Evaluator(targets, rules,
                                  interval_seconds=settings.evaluator.interval_seconds,
                                  ingest=ingest, session=session,
                                  scrape_timeout_seconds=settings.evaluator.scrape_timeout_seconds,
                                  body_size_limit_bytes=settings.evaluator.body_size_limit_bytes,
                                  active_tickets=lambda: active_evaluator_tickets(engine),
                                  leadership=leadership)
            app[METRICS].registry.register(EvaluatorMetrics(evaluator))
            task = asyncio.create_task(evaluator.run(), name="regie-evaluator")
            log.info("evaluating %d rules against %d agent(s) every %gs", len(rules),
                     len(targets), settings.evaluator.interval_seconds)
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return context


@dataclass(frozen=True, slots=True)
class Oncall:
    """On-call as the handlers see it: the schedule, the policies, the two loops' objects."""

    schedules: Schedules
    policies: Policies
    escalator: Any
    notifier: Any
    links: Any


def load_oncall(settings: CollectorSettings) -> tuple[Schedules, Policies] | None:
    """Schedule and policies, validated (ConfigError naming file and key); None when on-call
    escalation is not configured. Gaps in the schedule over the next 4 weeks are logged."""
    if not settings.oncall.enabled:
        return None
    from alerting.escalation_policy import parse_policies
    from alerting.schedule_file import load_schedules
    from collector.rules_file import load_yaml
    from regie.configfile import DOCUMENT_BYTES, ConfigError, read_regular_file

    schedules = load_schedules(settings.oncall.schedule_file)
    path = settings.oncall.policy_file or DEFAULT_POLICY_FILE
    try:
        # As the rules and schedules are read: a regular file, UTF-8, no key given twice.
        raw = read_regular_file(path, limit=DOCUMENT_BYTES)
    except OSError as exc:
        raise ConfigError(str(path), "-", f"cannot read the policies: "
                                          f"{exc.strerror or exc}") from None
    document = load_yaml(raw, source=str(path))
    policies = parse_policies(document, source=str(path),
                              channels=[c.name for c in settings.oncall.channels])
    known = {t.name for t in schedules.teams}
    for _match, team in policies.routing.rules:
        if team not in known:
            raise ConfigError(str(path), "routing.rules", f"team {team!r} is not in the "
                                                          f"schedule ({', '.join(sorted(known))})")
    if policies.routing.default_team and policies.routing.default_team not in known:
        raise ConfigError(str(path), "routing.default_team",
                          f"team {policies.routing.default_team!r} is not in the schedule")
    now = datetime.now(UTC)
    from datetime import timedelta

    for gap in schedules.gaps(now, now + timedelta(days=28)):
        log.warning("on-call gap: team %s has no %s from %s to %s", gap.team, gap.role,
                    gap.start.isoformat(), gap.end.isoformat())
    return schedules, policies


def oncall_context(settings: CollectorSettings, loaded: tuple[Schedules, Policies] | None, *,
                   clock: Callable[[], datetime] = utcnow, run_loops: bool = True,
                   send_context: Any = None):
    """Escalation sweep and notification delivery, when on-call is configured.

    `run_loops=False` (tests) sets everything up without the background loops, so a test
    drives `escalator.sweep_once()` and `notifier.deliver_once()` with its own clock.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        if loaded is None:
            yield
            return
        from collector.escalator import Escalator
        from collector.notifier import ConfiguredChannel, Links, Notifier
        from collector.store.escalations import EscalationStore
        from collector.store.notifications import NotificationStore

        schedules, policies = loaded
        stores: Stores = app[STORES]
        metrics = app[METRICS]
        oncall = settings.oncall
        links = None
        if oncall.link_secret is not None:
            links = Links(base_url=public_url(settings),
                          secret=oncall.link_secret.reveal().encode(),
                          expires_seconds=oncall.link_expires_seconds)
        notifier = Notifier(
            NotificationStore(stores.engine),
            channels={c.name: ConfiguredChannel(channel=c.channel,
                                                rate_per_minute=c.rate_per_minute)
                      for c in oncall.channels},
            schedules=schedules, links=links, clock=clock, max_attempts=oncall.max_attempts,
            context=send_context,
            on_outcome=lambda channel, outcome: metrics.notifications.labels(
                channel, outcome).inc(),
            on_page=lambda person, channel: metrics.pages.labels(person, channel).inc())

        def swept(result, seconds: float) -> None:
            metrics.escalation_swept(result, seconds)
            if result.notifications:
                notifier.wake()   # deliver what the sweep queued now, not at the next poll

        intake = app[INTAKE]
        escalator = Escalator(
            EscalationStore(stores.engine), policies=policies, schedules=schedules,
            channels={c.name: c.channel for c in oncall.channels}, clock=clock,
            sweep_interval_seconds=oncall.sweep_interval_seconds, on_sweep=swept,
            reassess=intake.reassess)
        stores.tickets.escalation = await escalator.plan()
        escalator.maintenance = app.get(MAINTENANCE)
        app[ONCALL] = Oncall(schedules=schedules, policies=policies, escalator=escalator,
                             notifier=notifier, links=links)
        intake.on_change = escalator.wake
        tasks = []
        if run_loops:
            tasks = [asyncio.create_task(escalator.run(), name="regie-escalation"),
                     asyncio.create_task(notifier.run(), name="regie-notify")]
            log.info("on-call: %d team(s), %d channel(s), sweeping every %gs",
                     len(schedules.teams), len(oncall.channels), oncall.sweep_interval_seconds)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return context


def public_url(settings: CollectorSettings) -> str:
    """Where people reach this collector: oncall.public_url, else its own listen address."""
    return settings.oncall.public_url or _own_url(settings)


def _own_url(settings: CollectorSettings) -> str:
    scheme = "https" if settings.server.tls_cert_file else "http"
    return f"{scheme}://{settings.server.listen}"
