"""Hosts as the collector knows them: who pushed an inventory, when last, what OS it said, and
how many tickets are open on it. The registry's end-of-support answer per host comes from
`RegistryStore.software` (collector/store/registry.py) and registry/lifecycle.py; this module
only reads pushes and tickets.

A host is known once it pushed an inventory or has an active ticket (a server watched by
monitoring alone, with no agent pushing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store.models import InventoryPushRow
from collector.store.ticket_rows import IS_ACTIVE, TICKETS

PUSHES = InventoryPushRow.__table__


@dataclass(frozen=True, slots=True, kw_only=True)
class HostSummary:
    name: str
    last_push_at: datetime | None     # None: never pushed (known from its tickets)
    pushes: int
    os: Mapping[str, Any]             # the latest push's os-release fields ({} if none)
    open_tickets: int                 # active, unattached tickets on the host


def _known(after: str | None, name: str | None):
    """Host names from pushes and active tickets, sorted: the page's names."""
    names = union(select(PUSHES.c.host.label("name")),
                  select(TICKETS.c.host.label("name"))
                  .where(IS_ACTIVE, TICKETS.c.host.is_not(None))).subquery()
    query = select(names.c.name)
    if name is not None:
        query = query.where(names.c.name == name)
    if after is not None:
        query = query.where(names.c.name > after)
    return query.order_by(names.c.name)


async def host_summaries(engine: AsyncEngine, *, limit: int = 100, after: str | None = None,
                         name: str | None = None) -> list[HostSummary]:
    """Up to `limit` hosts sorted by name, after `after` (the previous page's last name);
    `name` asks for one host (an empty list: unknown)."""
    async with engine.connect() as connection:
        names = list((await connection.execute(_known(after, name).limit(limit))).scalars())
        if not names:
            return []
        pushes = {row.host: row for row in (await connection.execute(
            select(PUSHES.c.host, func.max(PUSHES.c.id).label("last_id"),
                   func.max(PUSHES.c.received_at).label("last_at"),
                   func.count().label("pushes"))
            .where(PUSHES.c.host.in_(names)).group_by(PUSHES.c.host))).all()}
        # Only the part shown (json_extract on SQLite, -> on PostgreSQL): a latest push may
        # hold megabytes of packages, and reading whole documents decoded every one of a page
        # in the event loop (13 hosts of 60,000 packages: 1.2 s during which nothing else was
        # answered; a page of 1,000 such hosts would not fit in memory).
        documents = dict((await connection.execute(
            select(PUSHES.c.host, PUSHES.c.document["os"])
            .where(PUSHES.c.id.in_([row.last_id for row in pushes.values()])))).all()) \
            if pushes else {}
        tickets = dict((await connection.execute(
            select(TICKETS.c.host, func.count())
            .where(IS_ACTIVE, TICKETS.c.parent_id.is_(None), TICKETS.c.host.in_(names))
            .group_by(TICKETS.c.host))).all())
    out = []
    for host in names:
        push = pushes.get(host)
        os = documents.get(host)
        out.append(HostSummary(
            name=host, last_push_at=push.last_at if push else None,
            pushes=push.pushes if push else 0,
            os=dict(os) if isinstance(os, Mapping) else {},
            open_tickets=tickets.get(host, 0)))
    return out


async def scrape_endpoints(engine: AsyncEngine) -> list[tuple[str, Any]]:
    """(host, `document.scrape` as its latest push holds it) for every host that pushed, by
    name; None where that push has none (an older agent). Only that part of each document is
    read (json_extract on SQLite, -> on PostgreSQL), not the whole inventory."""
    latest = select(func.max(PUSHES.c.id)).group_by(PUSHES.c.host).scalar_subquery()
    query = (select(PUSHES.c.host, PUSHES.c.document["scrape"])
             .where(PUSHES.c.id.in_(latest)).order_by(PUSHES.c.host))
    async with engine.connect() as connection:
        return [(host, scrape) for host, scrape in (await connection.execute(query)).all()]
