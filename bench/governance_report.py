#!/usr/bin/env python3
"""Benchmark the governance review over a year of history at fleet scale.

    python bench/governance_report.py [--hosts 5000] [--tickets 500000] [--seed 1]
                                      [--backend sqlite|postgresql|both]

A year of synthetic history is written straight into a fresh, migrated database (bulk
inserts: this measures the report, not the intake): --tickets tickets over --hosts hosts
(weekday and working-hour rhythm, a fifth of P2s on one component, 90% acknowledged and
resolved after log-normal delays), an `escalated` timeline record naming the escalation
manager on 2% of them and an `acknowledgement_expired` on 1%, dead letters, one matched OS
per host (a quarter past or near end of support). Then, on each backend:

- sql: the plain SQL aggregation alone (the anchor): tickets of the period counted by
  priority, source and component, the period before likewise;
- report: `collector.reports.governance.build` + `report_json` + the HTML with its charts,
  as `regie report governance` makes it, for the year's last quarter and for the whole year
  (`--from/--to`).

Target: the report <= 10 s on SQLite and PostgreSQL. Progress to stderr, figures to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
YEAR_START = datetime(2025, 10, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 10, 1, tzinfo=UTC)
COMPONENTS = ["storage", "disk", "memory", "nginx", "postgres", "dns", "backup", "cert",
              "network", "cpu", "kernel", "java", "mail", "vpn", "ldap"]
CHUNK = 10_000


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def tickets(rng: random.Random, hosts: int, count: int):
    span = (YEAR_END - YEAR_START).total_seconds()
    for n in range(count):
        while True:
            at = YEAR_START + timedelta(seconds=rng.random() * span)
            weight = (1.0 if at.weekday() < 5 else 0.4) * (1.0 if 8 <= at.hour < 18 else 0.5)
            if rng.random() < weight:
                break
        priority = rng.choices(["P1", "P2", "P3", "P4"], [1, 4, 10, 5])[0]
        component = ("storage" if priority == "P2" and rng.random() < 0.2
                     else rng.choice(COMPONENTS))
        source = "user" if rng.random() < 0.15 else "monitoring"
        acked = at + timedelta(minutes=5 * rng.lognormvariate(0, 0.8)) \
            if rng.random() < 0.9 else None
        resolved = (acked or at) + timedelta(hours=2 * rng.lognormvariate(0, 0.8)) \
            if acked and rng.random() < 0.95 else None
        status = "resolved" if resolved else ("acknowledged" if acked else "open")
        yield {"dedup_key": None if source == "user" else f"bench/{n}", "status": status,
               "priority": priority, "impact": "medium", "urgency": "medium",
               "summary": f"{component} problem", "description": "", "host":
               f"host-{rng.randrange(hosts):05d}", "service": None, "component": component,
               "source": source, "origin": "user" if source == "user" else "events",
               "reporter": None, "assignee": None, "occurrences": 1, "first_seen": at,
               "last_seen": at, "created_at": at, "updated_at": resolved or acked or at,
               "acknowledged_at": acked, "resolved_at": resolved, "closed_at": None,
               "recovered_at": None, "parent_id": None, "host_down": False, "recovery": None,
               "priority_override_reason": None, "details": {}, "maintenance": None}


async def seed(url: str, hosts: int, count: int, seed_: int) -> None:
    from sqlalchemy import insert, select

    from collector.store.engine import create_engine, database_url
    from collector.store.models import (
        HostSoftwareRow,
        NotificationRow,
        TicketEventRow,
        TicketRow,
    )

    rng = random.Random(seed_)
    engine = create_engine(database_url(url), sqlite_synchronous="OFF")
    try:
        batch, written, started = [], 0, time.monotonic()
        for row in tickets(rng, hosts, count):
            batch.append(row)
            if len(batch) == CHUNK:
                async with engine.begin() as connection:
                    await connection.execute(insert(TicketRow.__table__), batch)
                written += len(batch)
                batch = []
                if written % 100_000 == 0:
                    say(f"  {written:,} tickets ({time.monotonic() - started:.0f} s)")
        if batch:
            async with engine.begin() as connection:
                await connection.execute(insert(TicketRow.__table__), batch)
        async with engine.connect() as connection:
            rows = (await connection.execute(select(
                TicketRow.id, TicketRow.created_at, TicketRow.acknowledged_at))).all()
        events, dead = [], []
        for ticket_id, created, acked in rows:
            draw = rng.random()
            if draw < 0.02:
                events.append({"ticket_id": ticket_id, "at": created + timedelta(minutes=15),
                               "kind": "escalated", "actor": "escalation",
                               "message": "step 3 (escalation_manager)",
                               "data": {"step": 3, "target": "escalation_manager"}})
            elif draw < 0.03 and acked is not None:
                events.append({"ticket_id": ticket_id, "at": acked + timedelta(hours=1),
                               "kind": "acknowledgement_expired", "actor": "escalation",
                               "message": "acknowledgement expired", "data": {}})
            if draw > 0.999:
                dead.append({"ticket_id": ticket_id, "channel": "hook", "recipient": "alice",
                             "kind": "trigger", "status": "dead", "attempts": 10,
                             "next_attempt_at": created, "created_at": created,
                             "finished_at": created + timedelta(hours=1),
                             "last_error": "HTTP 400", "payload": {}})
        software = []
        for n in range(hosts):
            cycle, eol, eoes = rng.choice([("10", date(2024, 6, 30), None),
                                           ("11", date(2026, 8, 31), None),
                                           ("12", date(2028, 6, 30), None),
                                           ("13", date(2030, 6, 30), None)])
            software.append({"host": f"host-{n:05d}", "product": "debian", "cycle": cycle,
                             "category": "os", "eol_date": eol, "eol_flag": None,
                             "eoes_date": eoes, "source": "os-release",
                             "observed": f"debian {cycle}", "matched_at": YEAR_END,
                             "rule": "upstream"})
        async with engine.begin() as connection:
            for table, values in ((TicketEventRow.__table__, events),
                                  (NotificationRow.__table__, dead),
                                  (HostSoftwareRow.__table__, software)):
                for start in range(0, len(values), CHUNK):
                    await connection.execute(insert(table), values[start:start + CHUNK])
        say(f"  seeded: {count:,} tickets, {len(events):,} timeline records, {len(dead)} dead "
            f"letters, {hosts:,} hosts")
    finally:
        await engine.dispose()


async def measure(url: str, label: str) -> list[tuple[str, str, float, float, int]]:
    from sqlalchemy import func, select

    from collector.reports.governance import build, report_json
    from collector.reports.html import render
    from collector.reports.period import Period, quarter_period
    from collector.store.engine import create_engine, database_url
    from collector.store.models import TicketRow

    t = TicketRow.__table__
    out = []
    for period in (quarter_period("2026Q3"),
                   Period("year", YEAR_START.date(), YEAR_END.date())):
        engine = create_engine(database_url(url))
        try:
            previous = period.previous()
            started = time.perf_counter()
            async with engine.connect() as connection:
                for p in (period, previous):
                    (await connection.execute(
                        select(t.c.priority, t.c.source, t.c.component, func.count())
                        .where(t.c.created_at >= p.start_at, t.c.created_at < p.end_at,
                               t.c.parent_id.is_(None))
                        .group_by(t.c.priority, t.c.source, t.c.component))).all()
            sql = time.perf_counter() - started
            started = time.perf_counter()
            body = report_json(await build(engine, period, now=YEAR_END + timedelta(days=1)))
            html = render(body)
            report = time.perf_counter() - started
        finally:
            await engine.dispose()
        out.append((label, period.label, sql, report, body["tickets"]["total"]))
        say(f"  {label} {period.label}: sql {sql:.2f} s, report {report:.2f} s "
            f"({len(html) / 1e6:.1f} MB HTML, {len(body['signals'])} signals)")
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--tickets", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    from collector.store.engine import migrate

    rows = []
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="regie-bench-") as scratch:
        for backend in backends:
            name = None
            if backend == "sqlite":
                url = f"sqlite:///{Path(scratch) / 'regie.db'}"
            else:
                import asyncpg

                name = f"regie_bench_{secrets.token_hex(4)}"
                admin = await asyncpg.connect(PG_ADMIN, timeout=10)
                await admin.execute(f'CREATE DATABASE "{name}"')
                await admin.close()
                url = f"postgresql://postgres@127.0.0.1:5432/{name}"
            try:
                say(f"{backend}: migrate and seed")
                await asyncio.to_thread(migrate, url)
                await seed(url, args.hosts, args.tickets, args.seed)
                rows += await measure(url, backend)
            finally:
                if name is not None:
                    admin = await asyncpg.connect(PG_ADMIN, timeout=10)
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    await admin.close()
    print(f"governance review: {args.hosts:,} hosts, {args.tickets:,} tickets over a year "
          f"(target: report <= 10 s)")
    print(f"{'backend':<11} {'period':<8} {'tickets':>8} {'sql alone':>10} {'report':>8}"
          f" {'ratio':>6}")
    for backend, period, sql, report, count in rows:
        print(f"{backend:<11} {period:<8} {count:>8,} {sql:>9.2f}s {report:>7.2f}s "
              f"{report / sql:>5.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
