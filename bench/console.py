"""The console's queue with 100,000 open tickets: server-side render time, p50 and p95, on SQLite
and PostgreSQL, beside two anchors measured in the same run on the same data:

- the JSON API's page of the same size (`GET /api/v1/tickets?limit=50`, newest first), and
- the storage floor: the queue's own read (`collector.store.queue.queue_page`, the page, the
  counts per priority and the escalation lookups) called in this process, without HTTP or HTML.

Each figure is a real `regie collector run` process answering over loopback to one client at a
time (a logged-in viewer's session cookie for the console, a bearer token for the API), so the
times include HTTP and the session lookup. Three console pages are measured: the first page,
a page deep in the queue (a cursor into P4), and a filtered page (one host).

Run: `.venv/bin/python bench/console.py [--tickets 100000] [--requests 200]
[--backend sqlite|postgresql|both]`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from databases import BACKENDS, Workspace, chosen_backends, reach
from machine import print_machine, versions_of
from options import add_database_options
from processes import free_port, regie, start_collector, stop_process, wait_ready
from progress import say
from tables import percentile, print_head

PRIORITIES = ("P1", "P2", "P3", "P4")
WEIGHTS = (1, 4, 25, 70)       # a queue mostly of low priorities, as a real one
CHUNK = 5_000


async def fill(url: str, count: int) -> None:
    """`count` open tickets over 30 days, on 2,000 hosts, with escalations for the P1/P2s."""
    from sqlalchemy import insert

    from collector.store.engine import create_engine, database_url
    from collector.store.ticket_rows import TICKETS

    engine = create_engine(database_url(url))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    spread = 30 * 86400 / count
    cycle = [p for p, w in zip(PRIORITIES, WEIGHTS, strict=True) for _ in range(w)]
    try:
        for first in range(0, count, CHUNK):
            rows = []
            for index in range(first, min(count, first + CHUNK)):
                at = start + timedelta(seconds=index * spread)
                priority = cycle[(index * 7) % len(cycle)]
                rows.append({
                    "dedup_key": f"bench-{index}", "status": "open" if index % 5 else
                    "acknowledged", "priority": priority, "impact": "medium",
                    "urgency": "medium", "summary": f"problem {index} on host{index % 2000}",
                    "description": "", "host": f"host{index % 2000}", "service": None,
                    "component": f"component{index % 50}", "source": "monitoring",
                    "origin": "alertmanager", "reporter": None, "assignee": None,
                    "occurrences": 1, "first_seen": at, "last_seen": at, "created_at": at,
                    "updated_at": at, "acknowledged_at": None, "resolved_at": None,
                    "closed_at": None, "recovered_at": None, "parent_id": None,
                    "host_down": False, "recovery": "resolve",
                    "priority_override_reason": None, "details": {}})
            async with engine.begin() as connection:
                await connection.execute(insert(TICKETS), rows)
        # Statistics and (PostgreSQL) the visibility map, as autovacuum leaves them after a
        # load: without them the planner takes 100,000 rows for 5.
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                done = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await done.exec_driver_sql("VACUUM ANALYZE tickets")
            else:
                await connection.exec_driver_sql("ANALYZE")
                await connection.commit()
    finally:
        await engine.dispose()


async def timed(session, url: str, count: int, **kwargs) -> list[float]:
    for _ in range(10):                                  # warm-up: connections, caches
        async with session.get(url, **kwargs) as answer:
            await answer.read()
            assert answer.status == 200, (url, answer.status)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(url, **kwargs) as answer:
            await answer.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def floor(url: str, count: int, search) -> list[float]:
    from collector.store.engine import create_engine, database_url
    from collector.store.queue import queue_page

    engine = create_engine(database_url(url))
    try:
        for _ in range(10):
            await queue_page(engine, search)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            await queue_page(engine, search)
            times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        await engine.dispose()


async def measure(backend: str, space: Workspace, args) -> list[tuple[str, list[float]]]:
    import aiohttp

    from alerting.ticket import Priority
    from collector.store.queue import Cursor, QueueFilter

    say(f"{backend}: {args.tickets} open tickets")
    await fill(space.url, args.tickets)
    token, _ = await regie("collector", "token", "create", "--role", "viewer", "--name",
                           "bench-viewer", "--db", space.url, cwd=space.dir)
    token = token.strip()
    (space.dir / "regie.toml").write_text("[ui]\nenabled = true\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = space.dir / "collector.log"
    proc = start_collector("--config", str(space.dir / "regie.toml"), "--db", space.url,
                           "--listen", f"127.0.0.1:{port}", cwd=space.dir, log=log)
    results = []
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            await wait_ready(session, f"{base}/healthz", proc, name="collector", log=log)
            async with session.get(f"{base}/ui/login") as answer:
                csrf = re.search(r'name="csrf" value="([^"]+)"', await answer.text()).group(1)
            async with session.post(f"{base}/ui/login", data={
                    "csrf": csrf, "token": token, "next": "/ui/queue"}) as answer:
                assert answer.status == 200 and answer.url.path == "/ui/queue", answer.status
            deep = Cursor(priority=Priority.P4, created_at=datetime(2026, 1, 16, tzinfo=UTC), id=0)
            from collector.ui.console import cursor_text

            pages = (("console: first page", "/ui/queue", QueueFilter(limit=50)),
                     ("console: deep page (P4 cursor)",
                      "/ui/queue?" + urlencode({"after": cursor_text(deep)}),
                      QueueFilter(limit=50, after=deep)),
                     ("console: one host", "/ui/queue?host=host7",
                      QueueFilter(limit=50, host="host7")))
            for name, path, search in pages:
                say(f"{backend}: {name}")
                results.append((name, await timed(session, base + path, args.requests)))
                results.append((f"  floor: queue_page() {name.split(': ')[1]}",
                                await floor(space.url, args.requests, search)))
            say(f"{backend}: JSON API anchor")
            results.append(("anchor: GET /api/v1/tickets?limit=50", await timed(
                session, f"{base}/api/v1/tickets?limit=50", args.requests,
                headers={"Authorization": f"Bearer {token}"})))
    finally:
        stop_process(proc)
    return results


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    add_database_options(parser, files="the databases")
    args = parser.parse_args()
    versions = versions_of("Python", "SQLite", "SQLAlchemy", "aiohttp", "asyncpg")
    pg, reason = (None, "")
    if "postgresql" in chosen_backends(args.backend):
        pg, reason = await reach(args.pg_url, versions)
    print_machine(versions)
    for backend in chosen_backends(args.backend):
        if backend == "postgresql" and pg is None:
            print(f"\npostgresql: skipped ({reason})")
            continue
        async with Workspace(f"console-{backend}", backend, args.dir, pg,
                             prefix="regie-bench-console-") as space:
            results = await measure(backend, space, args)
        anchor = percentile(results[-1][1], 0.95)
        print(f"\n{backend}, {args.tickets} open tickets, {args.requests} requests each, "
              f"one at a time (ms)")
        print_head(f"{'':44} {'p50':>8} {'p95':>8} {'p95 / API':>10}")
        for name, times in results:
            p95 = percentile(times, 0.95)
            print(f"{name:44} {percentile(times, 0.5):8.1f} {p95:8.1f} {p95 / anchor:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
