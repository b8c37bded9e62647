"""The running collector: what `regie collector run` starts, owned by the app's cleanup_ctx.

`stores_context` creates the engine at start (never at import), refuses to serve when the
schema is behind the code, and disposes of it at shutdown. `evaluator_context` runs the
embedded evaluator loop when targets are configured, cancelled cleanly on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.rules import Rule
from alerting.ticket import Signal
from collector.app import AUTH, INTAKE, METRICS, STORES
from collector.auth import Authenticator
from collector.config import CollectorSettings
from collector.intake import Intake
from collector.store.engine import (
    check_schema,
    create_engine,
    database_url,
    sqlite_checkpoints,
)
from collector.store.inventory import InventoryStore
from collector.store.tickets import TicketStore
from collector.store.tokens import TokenStore

log = logging.getLogger("regie.collector")


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


def stores_context(settings: CollectorSettings):
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
                                 matrix=settings.priority.resolved(), metrics=app[METRICS])
            checkpoints = None
            if engine.dialect.name == "sqlite":
                checkpoints = asyncio.create_task(sqlite_checkpoints(engine),
                                                  name="regie-sqlite-checkpoints")
            yield
            if checkpoints is not None:
                checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpoints
        finally:
            await engine.dispose()

    return context


def evaluator_context(settings: CollectorSettings, rules: Sequence[Rule]):
    from collector.evaluator import Evaluator, EvaluatorTarget

    async def context(app: web.Application) -> AsyncIterator[None]:
        targets = [EvaluatorTarget(address=t.address, host=t.host or _host_of(t.address),
                                   scheme=t.scheme)
                   for t in settings.evaluator.targets]
        if not settings.evaluator.enabled or not targets:
            yield
            return
        intake = app[INTAKE]

        async def ingest(signals: list[Signal]) -> None:
            await intake.signals(signals)

        async with aiohttp.ClientSession() as session:
            evaluator = Evaluator(targets, rules,
                                  interval_seconds=settings.evaluator.interval_seconds,
                                  ingest=ingest, session=session,
                                  scrape_timeout_seconds=settings.evaluator.scrape_timeout_seconds)
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


def _host_of(address: str) -> str:
    """The host name tickets carry for a target: its address, or this machine for loopback."""
    import socket

    host = address.rpartition(":")[0].strip("[]")
    if host in ("127.0.0.1", "localhost", "::1"):
        return socket.gethostname()
    return host
