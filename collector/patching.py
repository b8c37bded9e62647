"""Patch status and patch lag from the store: what `regie patch`, `/api/v1/patch/...` and
/metrics show, through the same functions (docs/patching.md).

Patch changes are read through `collector.store.changes.patch_changes` (the changes own
them); the history through `collector.store.patches`; the arithmetic is registry/patch_lag.py.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store import patches
from collector.store.changes import patch_changes
from registry.patch_lag import (
    BY,
    LOOKBACK,
    ChangeLag,
    ExposureGroup,
    Figures,
    LagReport,
    Target,
    change_lag,
    changes_lag,
    emergency,
    lag_report,
)

# A change is done patching once it is completed (or reviewed after).
DONE = frozenset({"completed", "reviewed"})
# How far back /metrics looks for the last completed patch change.
LAST_CHANGE_LOOKBACK = timedelta(days=400)


def matching(names: Sequence[str], pattern: str | None) -> list[str]:
    """Host names matching a glob (`web-*`, `db-0[12]`); all when no pattern."""
    if pattern is None:
        return list(names)
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


async def targets(engine: AsyncEngine, since: datetime) -> list[Target]:
    """Patch changes planned from `since` on, as the lag needs them (P1 links looked up)."""
    changes = await patch_changes(engine, since)
    priorities = await patches.ticket_priorities(
        engine, [t for c in changes for t in c.tickets])
    return [Target(id=c.id, type=_value(c.type), hosts=tuple(c.hosts),
                   packages=tuple((p.name, p.version) for p in c.packages),
                   planned_start=c.planned_start, status=_value(c.status),
                   outcome=None if c.outcome is None else _value(c.outcome),
                   emergency=emergency(_value(c.type),
                                       [priorities[t] for t in c.tickets if t in priorities]))
            for c in changes]


def _value(member: Any) -> str:
    return getattr(member, "value", member)


async def report(engine: AsyncEngine, *, since: datetime, now: datetime, by: str,
                 host: str | None = None) -> LagReport:
    """The lag report: changes planned and updates installed since `since`; `host` (a glob)
    keeps those hosts only."""
    if by not in BY:
        raise ValueError(f"by: must be one of {', '.join(BY)}")
    found = await targets(engine, since)
    hosts = None
    if host is not None:
        found = [t for t in ((_only(t, host)) for t in found) if t.hosts]
        hosts = matching(await patches.hosts(engine), host)
    history = await patches.entries(
        engine, {name for t in found for name, _ in t.packages},
        {h for t in found for h in t.hosts},
        installed_from=min((t.planned_start for t in found), default=now) - LOOKBACK)
    changes, tied = changes_lag(found, history, now)
    groups = [ExposureGroup(row.key, "security" if row.security else "other",
                            Figures(row.count, row.total_seconds / row.count, None,
                                    row.max_seconds))
              for row in await patches.exposure(engine, since, now, by, tied=tied,
                                                hosts=hosts) if row.count]
    return lag_report(changes, groups, since=since, now=now, by=by, tied=tied)


def _only(target: Target, pattern: str) -> Target:
    from dataclasses import replace

    return replace(target, hosts=tuple(matching(target.hosts, pattern)))


async def last_completed(engine: AsyncEngine, now: datetime) -> ChangeLag | None:
    """The lag of the most recently started patch change that is completed (or reviewed)."""
    done = [t for t in await targets(engine, now - LAST_CHANGE_LOOKBACK) if t.status in DONE]
    if not done:
        return None
    last = max(done, key=lambda t: (t.planned_start, t.id))
    history = await patches.entries(engine, {n for n, _ in last.packages}, last.hosts,
                                    installed_from=last.planned_start - LOOKBACK)
    return change_lag(last, history, now)


@dataclass(frozen=True, slots=True)
class HostStatus:
    host: str
    security: int
    other: int
    oldest_security: datetime | None
    updates: tuple[patches.PendingUpdate, ...] = ()


async def status(engine: AsyncEngine, *, host: str | None = None, security: bool = False,
                 with_updates: bool = False) -> list[HostStatus]:
    """Pending updates per host (a glob keeps some; `security`: hosts with a pending security
    update only), each host's updates listed when asked."""
    counted = [h for h in await patches.pending_by_host(engine)
               if (host is None or fnmatch.fnmatchcase(h.host, host))
               and (not security or h.security)]
    listed: dict[str, list[patches.PendingUpdate]] = {}
    if with_updates and counted:
        for update in await patches.pending(engine, hosts=[h.host for h in counted],
                                            security=security):
            listed.setdefault(update.host, []).append(update)
    return [HostStatus(h.host, h.security, h.other, h.oldest_security,
                       tuple(listed.get(h.host, ()))) for h in counted]


def status_json(hosts: Sequence[HostStatus], now: datetime, *, with_updates: bool) -> dict:
    def moment(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat()

    body: dict[str, Any] = {
        "now": moment(now),
        "hosts": [],
        "totals": {"hosts": len(hosts), "security": sum(h.security for h in hosts),
                   "other": sum(h.other for h in hosts)},
    }
    for h in hosts:
        item: dict[str, Any] = {
            "host": h.host, "security": h.security, "other": h.other,
            "oldest_security_first_seen": moment(h.oldest_security),
            "oldest_security_age_days": None if h.oldest_security is None else round(
                (now - h.oldest_security).total_seconds() / 86400, 2)}
        if with_updates:
            item["updates"] = [{"package": u.package, "architecture": u.architecture or None,
                                "manager": u.manager, "version": u.version,
                                "security": u.security, "first_seen": moment(u.first_seen_at),
                                "age_days": round((now - u.first_seen_at).total_seconds()
                                                  / 86400, 2)}
                               for u in h.updates]
        body["hosts"].append(item)
    return body
