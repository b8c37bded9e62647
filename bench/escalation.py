#!/usr/bin/env python3
"""Benchmark on-call escalation: the timer sweep, notification delivery, breach to notice.

    python bench/escalation.py [--backend sqlite|postgresql|both] [--parts sweep,notify,latency]
                               [--tickets 100000] [--due 0,10,50] [--runs 30]
                               [--notifications 2000] [--trials 10] [--interval 1]
                               [--no-alertmanager] [--no-analyze] [--quick]

Three measurements, each on every backend asked for (a fresh SQLite file in a temporary
directory, or a throw-away PostgreSQL database `regie_bench_<random>` created from --pg-url's
database and dropped at the end), migrated with `regie collector migrate`:

1. sweep: the timer sweep with --tickets open tickets, each with its escalation. The tickets,
   their escalations and their "created" timeline rows are bulk-inserted with SQLAlchemy Core:
   priorities P1 5%, P2 20%, P3 45%, P4 30%; 2,000 hosts; eight components; opened over the
   past 7 days; escalations pointing at the default policies (collector/data/
   default_escalation.yml, stored with EscalationStore.register), their first step fired and
   the next one due 30 min to 6 h from now. A pool of max(--due) more tickets, opened a few
   seconds ago, holds the escalations made due (first step not fired yet). For each --due
   count, one `EscalationStore.sweep(now, planner, window_seconds=900)` is timed --runs times
   (after 2 untimed warm-up sweeps); before each, untimed, that many pool escalations are
   made due again and what the previous sweep wrote (notifications, timeline rows) is
   deleted, so every run has the same work. The planner is the real `Escalator.planned`,
   with a schedule (ops team, UTC, business hours Mon-Fri 09:00-17:00) and a webhook
   channel loaded by the collector's own load_settings/load_oncall, so the decisions are
   real: at night and at weekends the P3/P4 first steps are held until business hours. Due
   0 is the empty sweep, what every collector runs every 0.5 s. Target: p95 <= 50 ms.
   PostgreSQL is ANALYZEd after the fill (as autovacuum does within a minute; --no-analyze
   skips it); the collector never runs ANALYZE on SQLite, so neither does this.
2. notify: --notifications pending trigger notifications (one per ticket), delivered by
   `Notifier.deliver_once()` in a loop (what the delivery loop does under a backlog: claim 50,
   send them 8 at a time, again at once) to a webhook receiver on 127.0.0.1 in its own
   process, which verifies every HMAC signature and counts delivery ids: each notification
   must arrive exactly once (duplicates 0). The channel allows 127.0.0.1/32 past the SSRF
   check; links are signed as in production.
3. latency: a real `regie collector run` process with its embedded evaluator scraping a tiny
   Prometheus-text server in this process every --interval seconds, a rule
   `regie_filesystem_used_ratio > 0.9` with `for: 0s`, urgency high, on a host whose
   criticality is business-critical (so P1: the primary is paged at once, day or night; the
   schedule's business hours cover the whole week anyway), and a webhook channel to the same
   receiver. Each trial waits a random part of the interval, flips one mountpoint's gauge to
   0.97 and times until the receiver has the trigger notice, then flips it back and times
   the resolve notice. Target: trigger <= interval + 1 s. Anchor: Alertmanager waits
   group_wait (30 s by default) before the first notification of a new alert group; with
   /usr/bin/prometheus-alertmanager installed (and without --no-alertmanager) its own hop is
   measured too: POST /api/v2/alerts to its webhook arriving, with group_wait 0s.

Progress goes to stderr, the report to stdout. This is a measurement, not a test: it exits 0
whatever the figures (130 when stopped by Ctrl-C or SIGTERM, after stopping its processes,
dropping its databases and removing its temporary files).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from databases import PostgreSQL, Workspace, chosen_backends, reach
from machine import print_machine, versions_of
from options import add_database_options, add_selection
from processes import free_port, self_cpu, start_collector, stop_process, wait_ready
from progress import say
from tables import percentile, print_head

ROOT = Path(__file__).resolve().parent.parent
# Project packages first: bench/registry.py would shadow the `registry` package the
# collector's modules import.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SWEEP_MS = 50.0
TARGET_LATENCY_EXTRA_S = 1.0         # trigger notice within the scrape interval + this
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
ALERTMANAGER_GROUP_WAIT_S = 30       # Alertmanager's default route group_wait
WARMUP_SWEEPS = 2
CHUNK = 5_000                        # rows per bulk INSERT
HOSTS = 2_000
PARTS = ("sweep", "notify", "latency")

# (priority, impact, urgency, weight): consistent with the default priority matrix.
PRIORITIES = (
    ("P1", "business-critical", "high", 5),
    ("P2", "high", "medium", 20),
    ("P3", "medium", "medium", 45),
    ("P4", "low", "medium", 30),
)
# (component, service, alertname, label, weight)
KINDS = (
    ("filesystem", None, "NodeFilesystemSpaceFillingUp", "mountpoint", 30),
    ("cpu", None, "NodeCPUSaturated", "cpu", 8),
    ("memory", None, "NodeMemoryPressure", "numa", 8),
    ("network", None, "NodeNetworkReceiveErrs", "device", 10),
    ("kubelet", None, "KubePodCrashLooping", "pod", 20),
    ("nginx", "web", "HTTPHighErrorRate", "route", 10),
    ("postgres", "orders-db", "PostgresReplicationLag", "replica", 5),
    ("api", "checkout", "APILatencyHigh", "route", 4),
)

SCHEDULE = """\
people:
  alice: {{email: alice@example.org}}
  bob: {{email: bob@example.org}}
  carol: {{email: carol@example.org}}
  dave: {{email: dave@example.org}}
teams:
  - name: ops
    timezone: UTC
    business_hours: {business_hours}
    layers:
      primary: {{participants: [alice, dave], rotation: daily, handoff: "09:00", start: 2024-01-01}}
      secondary: {{participants: [bob], rotation: daily, handoff: "09:00", start: 2024-01-01}}
      escalation_manager:
        {{participants: [carol], rotation: daily, handoff: "09:00", start: 2024-01-01}}
"""
OFFICE_HOURS = '{days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}'
ALL_WEEK = '{days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}'

RULES = """\
rules:
  - name: BenchFilesystemFull
    metric: regie_filesystem_used_ratio
    op: ">"
    value: 0.9
    for: 0s
    urgency: high
    component: filesystem
    summary: >-
      Filesystem {{ labels.mountpoint }} on {{ host }} is
      {{ value | humanizePercentage }} full
    recovery: resolve
"""
BREACH_HOST = "bench-db-01"


def workspace(part: str, backend: str, args, pg: PostgreSQL | None) -> Workspace:
    """A fresh, migrated database for one part on one backend (see databases.Workspace)."""
    return Workspace(f"{part}-{backend}", backend, args.dir, pg,
                     prefix=f"regie-bench-esc-{part}-{backend}-")


# -- configuration as an operator writes it -----------------------------------------------


@dataclass(frozen=True)
class Secrets:
    hook: str = field(default_factory=lambda: secrets.token_hex(16))
    link: str = field(default_factory=lambda: secrets.token_hex(16))


def write_config(where: Path, keys: Secrets, *, receiver_url: str, business_hours: str,
                 public_url: str = "http://127.0.0.1:8847", extra: str = "") -> Path:
    schedule = where / "oncall.yml"
    schedule.write_text(SCHEDULE.format(business_hours=business_hours))
    (where / "hook.key").write_text(keys.hook + "\n")
    (where / "link.key").write_text(keys.link + "\n")
    for key in ("hook.key", "link.key"):
        (where / key).chmod(0o600)   # secret files other users can read are refused
    config = where / "collector.toml"
    config.write_text(f"""\
{extra}
[oncall]
schedule_file = "{schedule}"
public_url = "{public_url}"
link_secret_file = "{where / 'link.key'}"

[[oncall.channels]]
name = "hook"
kind = "webhook"
url = "{receiver_url}"
secret_file = "{where / 'hook.key'}"
allow_networks = ["127.0.0.1/32"]
timeout_seconds = 5
""")
    return config


def load_oncall_config(config: Path, url: str):
    """(settings, schedules, policies) as `regie collector run` loads them."""
    import logging

    from collector.config import load_settings
    from collector.service import load_oncall

    # load_oncall warns about schedule gaps: there are none here, but keep stderr quiet.
    logging.getLogger("regie.collector").setLevel(logging.ERROR)
    settings = load_settings(config, db=url)
    loaded = load_oncall(settings)
    assert loaded is not None
    schedules, policies = loaded
    return settings, schedules, policies


# -- the webhook receiver (its own process) -----------------------------------------------


def serve_receiver(port: int, secret_file: Path) -> None:
    """`--serve-receiver PORT`: POST /hook (Regie webhooks, signature verified), POST /am
    (Alertmanager webhooks), GET /records?since=N (what arrived, with the arrival time),
    GET /stats (posts, distinct delivery ids, refused)."""
    from aiohttp import web

    from alerting.notify.signature import DELIVERY_HEADER, SIGNATURE_HEADER, verify

    secret = secret_file.read_text().splitlines()[0].strip().encode()
    records: list[dict[str, Any]] = []
    deliveries: set[str] = set()
    counts = {"posts": 0, "refused": 0}

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        arrived = time.time()
        try:
            verify(secret, request.headers.get(SIGNATURE_HEADER), body, arrived)
        except Exception:
            counts["refused"] += 1
            return web.Response(status=401, text="bad signature")
        counts["posts"] += 1
        delivery = request.headers.get(DELIVERY_HEADER, "")
        deliveries.add(delivery)
        document = json.loads(body)
        records.append({"at": arrived, "path": "hook", "delivery": delivery,
                        "kind": document.get("kind"), "ticket_id": document.get("ticket_id"),
                        "summary": document.get("summary")})
        return web.Response(text="ok")

    async def alertmanager(request: web.Request) -> web.Response:
        document = await request.json()
        records.append({"at": time.time(), "path": "am",
                        "labels": [a.get("labels", {}) for a in document.get("alerts", [])]})
        return web.Response(text="ok")

    async def since(request: web.Request) -> web.Response:
        start = int(request.query.get("since", "0"))
        return web.json_response(records[start:])

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({**counts, "unique": len(deliveries)})

    async def reset(request: web.Request) -> web.Response:
        records.clear()
        deliveries.clear()
        counts.update(posts=0, refused=0)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_post("/am", alertmanager)
    app.router.add_get("/records", since)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class Receiver:
    def __init__(self, secret_file: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve-receiver", str(self.port),
             "--secret-file", str(secret_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        self.session = None

    async def start(self):
        import aiohttp

        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the receiver exited with {self.proc.returncode}")
            with contextlib.suppress(OSError, aiohttp.ClientError):
                await self.stats()
                return self
            await asyncio.sleep(0.05)
        raise RuntimeError("the receiver did not start within 20 s")

    async def stats(self) -> dict[str, int]:
        async with self.session.get(f"{self.base}/stats") as response:
            return await response.json()

    async def records(self, since: int) -> list[dict[str, Any]]:
        async with self.session.get(f"{self.base}/records", params={"since": since}) as r:
            return await r.json()

    async def reset(self) -> None:
        async with self.session.post(f"{self.base}/reset") as response:
            await response.read()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        stop_process(self.proc)


# -- realistic rows -----------------------------------------------------------------------


class Tickets:
    """Ticket, escalation and timeline rows as the collector writes them."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.random = random.Random(seed)
        self.now = now
        self.priorities = [p for p in PRIORITIES for _ in range(p[3])]
        self.kinds = [k for k in KINDS for _ in range(k[4])]
        self.hosts = [f"node-{i:04d}.dc1.example.net" for i in range(HOSTS)]
        self.run = secrets.token_hex(3)

    def ticket(self, ticket_id: int, created: datetime) -> dict[str, Any]:
        priority, impact, urgency, _ = self.random.choice(self.priorities)
        component, service, alertname, key, _ = self.random.choice(self.kinds)
        host = self.random.choice(self.hosts)
        value = f"{key}-{ticket_id}"
        summary = f"{alertname} on {host} ({value})"
        labels = {"alertname": alertname, "instance": f"{host}:9100", "job": "node",
                  "severity": "critical" if priority in ("P1", "P2") else "warning", key: value}
        return {
            "id": ticket_id,
            "dedup_key": f"alertmanager:{self.run}:{ticket_id:08x}",
            "status": "open", "priority": priority, "impact": impact, "urgency": urgency,
            "summary": summary, "description": "", "host": host, "service": service,
            "component": component, "source": "monitoring", "origin": "alertmanager",
            "reporter": None, "assignee": None, "occurrences": self.random.randint(1, 40),
            "first_seen": created, "last_seen": created, "created_at": created,
            "updated_at": created, "acknowledged_at": None, "resolved_at": None,
            "closed_at": None, "recovered_at": None, "parent_id": None, "host_down": False,
            "recovery": "resolve", "priority_override_reason": None,
            "details": {
                "labels": labels,
                "annotations": {"summary": summary,
                                "description": f"{alertname} has fired on {host} for 5 minutes.",
                                "runbook_url": f"https://runbooks.example.net/{alertname}"},
                "generator_url": "http://prometheus.dc1.example.net:9090/graph",
            },
        }

    @staticmethod
    def event(ticket: dict[str, Any]) -> dict[str, Any]:
        return {"ticket_id": ticket["id"], "at": ticket["created_at"], "kind": "created",
                "actor": "alertmanager",
                "message": f"created as {ticket['priority']} (impact {ticket['impact']}, "
                           f"urgency {ticket['urgency']})",
                "data": {"priority": ticket["priority"], "impact": ticket["impact"],
                         "urgency": ticket["urgency"], "systems_affected": 1}}

    def escalation(self, ticket: dict[str, Any], policy_ids: dict[Any, int], *,
                   fired: bool) -> dict[str, Any]:
        from alerting.ticket import Priority

        created = ticket["created_at"]
        if fired:   # first step fired at the opening, the next one due later
            due = self.now + timedelta(seconds=self.random.uniform(1800, 6 * 3600))
            notified = [["alice", []]]
        else:       # a pool ticket: made due by the sweep benchmark's reset
            due = self.now + timedelta(hours=12)
            notified = []
        return {"ticket_id": ticket["id"], "policy_id": policy_ids[Priority(ticket["priority"])],
                "state": "running", "next_step": 1 if fired else 0, "epoch": created,
                "due_at": due, "team": "ops", "notified": notified, "multi_system_at": None,
                "updated_at": created}

    def notification(self, ticket: dict[str, Any], now: datetime) -> dict[str, Any]:
        annotations = ticket["details"]["annotations"]
        steps = 3 if ticket["priority"] == "P1" else 2
        return {
            "ticket_id": ticket["id"], "channel": "hook", "recipient": "alice",
            "kind": "trigger", "status": "pending", "attempts": 0,
            "next_attempt_at": now - timedelta(seconds=1), "created_at": now,
            "finished_at": None, "last_error": None,
            "payload": {"kind": "trigger", "notice": "trigger",
                        "priority": ticket["priority"], "status": "open",
                        "summary": ticket["summary"], "host": ticket["host"],
                        "component": ticket["component"],
                        "runbook_url": annotations["runbook_url"],
                        "step": f"step 1 of {steps}: primary", "reason": "first notification",
                        "recipient": "alice", "occurred_at": now.isoformat()},
        }


async def bulk(engine, table, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    from collector.store.engine import write_transaction

    async with write_transaction(engine) as connection:
        await connection.execute(insert(table), rows)


async def fix_sequence(engine, table: str) -> None:
    """Explicit ids leave PostgreSQL's sequence behind: move it past them."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as connection:
        await connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table}))"))


# -- 1. the timer sweep -------------------------------------------------------------------


@dataclass
class SweepRow:
    backend: str
    due: int
    times: list[float] = field(default_factory=list)      # seconds
    claimed: set[int] = field(default_factory=set)
    queued: set[int] = field(default_factory=set)
    skipped: str = ""

    def ms(self, q: float) -> float:
        return percentile(self.times, q) * 1000

    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        wrong = self.claimed != {self.due}
        met = self.ms(0.95) <= TARGET_SWEEP_MS
        return ("met" if met else "NOT MET") + (" (claimed != due!)" if wrong else "")


@dataclass
class SweepSetup:
    tickets: int = 0
    fill_seconds: float = 0.0
    analyzed: bool = False
    at: datetime | None = None


async def sweep_benchmark(backend: str, args, pg: PostgreSQL | None, keys: Secrets,
                          setup: dict[str, SweepSetup]) -> list[SweepRow]:
    from sqlalchemy import delete, func, select, text, update

    from collector.escalator import Escalator
    from collector.store.engine import create_engine, write_transaction
    from collector.store.escalations import ESCALATIONS, EVENTS, NOTIFICATIONS, EscalationStore
    from collector.store.models import TicketEventRow, TicketRow

    rows = [SweepRow(backend, due) for due in args.due_counts]
    info = setup.setdefault(backend, SweepSetup())
    async with workspace("sweep", backend, args, pg) as ws:
        config = write_config(ws.dir, keys, receiver_url="http://127.0.0.1:9/hook",
                              business_hours=OFFICE_HOURS)
        settings, schedules, policies = load_oncall_config(config, ws.url)
        engine = create_engine(ws.url)
        try:
            store = EscalationStore(engine)
            now = datetime.now(UTC)
            escalator = Escalator(store, policies=policies, schedules=schedules,
                                  channels={c.name: c.channel for c in settings.oncall.channels},
                                  clock=lambda: datetime.now(UTC))
            policy_ids = await store.register(policies, now=now)
            make = Tickets(args.seed, now)
            pool = max(args.due_counts)
            total = args.tickets + pool
            started = time.monotonic()
            next_report = started + 5
            for first in range(1, total + 1, CHUNK):
                ids = range(first, min(total, first + CHUNK - 1) + 1)
                tickets, escalations = [], []
                for ticket_id in ids:
                    fired = ticket_id <= args.tickets
                    created = (now - timedelta(seconds=make.random.uniform(60, 7 * 86400))
                               if fired else now - timedelta(seconds=make.random.uniform(0, 5)))
                    ticket = make.ticket(ticket_id, created)
                    tickets.append(ticket)
                    escalations.append(make.escalation(ticket, policy_ids, fired=fired))
                await bulk(engine, TicketRow.__table__, tickets)
                await bulk(engine, ESCALATIONS, escalations)
                await bulk(engine, TicketEventRow.__table__, [make.event(t) for t in tickets])
                if time.monotonic() >= next_report or ids[-1] == total:
                    elapsed = time.monotonic() - started
                    say(f"  {backend}: {ids[-1]:,} / {total:,} tickets with escalations "
                        f"({elapsed:.0f} s)")
                    next_report = time.monotonic() + 5
            await fix_sequence(engine, "tickets")
            info.tickets = total
            info.fill_seconds = time.monotonic() - started
            if backend == "postgresql" and not args.no_analyze:
                async with engine.connect() as connection:
                    await connection.execute(text("ANALYZE"))
                    await connection.commit()
                info.analyzed = True
            async with engine.connect() as connection:
                baseline = (await connection.execute(select(func.max(EVENTS.c.id)))).scalar_one()
            pool_ids = list(range(args.tickets + 1, total + 1))
            far = now + timedelta(hours=12)
            window = policies.correlation.window

            async def reset(due: int) -> None:
                at = datetime.now(UTC)
                async with write_transaction(engine) as connection:
                    await connection.execute(delete(NOTIFICATIONS))
                    await connection.execute(delete(EVENTS).where(EVENTS.c.id > baseline))
                    if pool_ids:
                        await connection.execute(
                            update(ESCALATIONS).where(ESCALATIONS.c.ticket_id.in_(pool_ids))
                            .values(state="running", next_step=0, epoch=at - timedelta(
                                seconds=1), due_at=far, notified=[], multi_system_at=None,
                                updated_at=at))
                    if due:
                        await connection.execute(
                            update(ESCALATIONS)
                            .where(ESCALATIONS.c.ticket_id.in_(pool_ids[:due]))
                            .values(due_at=at - timedelta(seconds=1)))
                if backend == "sqlite":
                    # The collector checkpoints the WAL every second in the background
                    # (sqlite_checkpoints): a sweep never reads through a long WAL.
                    async with engine.connect() as connection:
                        await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

            info.at = datetime.now(UTC)
            for row in rows:
                for run in range(WARMUP_SWEEPS + args.runs):
                    await reset(row.due)
                    begun = time.perf_counter()
                    result = await store.sweep(datetime.now(UTC), escalator.planned,
                                               window_seconds=window)
                    took = time.perf_counter() - begun
                    if run >= WARMUP_SWEEPS:
                        row.times.append(took)
                        row.claimed.add(result.claimed)
                        row.queued.add(result.notifications)
                say(f"  {backend}: due {row.due}: p50 {row.ms(0.5):.1f} ms, "
                    f"p95 {row.ms(0.95):.1f} ms, max {row.ms(1.0):.1f} ms "
                    f"(claimed {sorted(row.claimed)}, queued {sorted(row.queued)})")
            if datetime.now(UTC) >= now + timedelta(seconds=1800):
                say(f"  {backend}: WARNING: the runs took past the first not-due escalation "
                    "(30 min after the fill): later runs had more than their due rows")
        finally:
            await engine.dispose()
    return rows


# -- 2. notification throughput -----------------------------------------------------------


@dataclass
class NotifyRow:
    backend: str
    count: int
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    posts: int = 0
    unique: int = 0
    refused: int = 0
    cpu: float = 0.0
    skipped: str = ""

    @property
    def rate(self) -> float:
        return self.statuses.get("delivered", 0) / self.seconds if self.seconds else 0.0

    @property
    def duplicates(self) -> int:
        return self.posts - self.unique


async def notify_benchmark(backend: str, args, pg: PostgreSQL | None, keys: Secrets,
                           receiver: Receiver) -> NotifyRow:
    from sqlalchemy import func, select

    from collector.notifier import ConfiguredChannel, Links, Notifier
    from collector.store.engine import create_engine, sqlite_checkpoints
    from collector.store.models import TicketRow
    from collector.store.notifications import NOTIFICATIONS, NotificationStore

    outcome = NotifyRow(backend, args.notifications)
    checkpoints = None
    async with workspace("notify", backend, args, pg) as ws:
        config = write_config(ws.dir, keys, receiver_url=f"{receiver.base}/hook",
                              business_hours=OFFICE_HOURS)
        settings, schedules, _ = load_oncall_config(config, ws.url)
        engine = create_engine(ws.url)
        try:
            now = datetime.now(UTC)
            make = Tickets(args.seed + 1, now)
            for first in range(1, args.notifications + 1, CHUNK):
                ids = range(first, min(args.notifications, first + CHUNK - 1) + 1)
                tickets = [make.ticket(i, now - timedelta(seconds=make.random.uniform(0, 60)))
                           for i in ids]
                await bulk(engine, TicketRow.__table__, tickets)
                await bulk(engine, NOTIFICATIONS, [make.notification(t, now) for t in tickets])
            await fix_sequence(engine, "tickets")
            await receiver.reset()
            oncall = settings.oncall
            notifier = Notifier(
                NotificationStore(engine),
                channels={c.name: ConfiguredChannel(channel=c.channel,
                                                    rate_per_minute=c.rate_per_minute)
                          for c in oncall.channels},
                schedules=schedules,
                links=Links(base_url=oncall.public_url, secret=oncall.link_secret.reveal().encode(),
                            expires_seconds=oncall.link_expires_seconds),
                clock=lambda: datetime.now(UTC), max_attempts=oncall.max_attempts)
            say(f"  {backend}: delivering {args.notifications:,} notifications")
            if backend == "sqlite":   # as the collector does, every second
                checkpoints = asyncio.create_task(sqlite_checkpoints(engine))
            cpu = self_cpu()
            begun = time.perf_counter()
            next_report = begun + 5
            claimed = 0
            while True:
                got = await notifier.deliver_once()
                if not got:
                    break
                claimed += got
                if time.perf_counter() >= next_report:
                    elapsed = time.perf_counter() - begun
                    say(f"  {backend}: {claimed:,} claimed in {elapsed:.0f} s "
                        f"({claimed / elapsed:,.0f}/s)")
                    next_report += 5
            outcome.seconds = time.perf_counter() - begun
            outcome.cpu = (self_cpu() - cpu) / outcome.seconds
            async with engine.connect() as connection:
                outcome.statuses = dict((await connection.execute(
                    select(NOTIFICATIONS.c.status, func.count())
                    .group_by(NOTIFICATIONS.c.status))).all())
            stats = await receiver.stats()
            outcome.posts, outcome.unique = stats["posts"], stats["unique"]
            outcome.refused = stats["refused"]
            say(f"  {backend}: {outcome.rate:,.0f} notifications/s, {outcome.duplicates} "
                f"duplicates, statuses {outcome.statuses}")
        finally:
            if checkpoints is not None:
                checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpoints
            await engine.dispose()
    return outcome


# -- 3. breach-to-notification latency ----------------------------------------------------


@dataclass
class LatencyRow:
    name: str
    trigger: list[float] = field(default_factory=list)     # seconds
    resolve: list[float] = field(default_factory=list)
    missed: int = 0
    target: float | None = None
    skipped: str = ""
    note: str = ""

    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        if self.target is None:
            return "-"
        ok = not self.missed and self.trigger and max(self.trigger) <= self.target
        return "met" if ok else "NOT MET"


class Exposition:
    """A tiny Prometheus text endpoint whose gauges the benchmark flips."""

    def __init__(self, trials: int) -> None:
        self.values = {mountpoint(i): 0.52 for i in range(1, trials + 1)}
        self.scrapes = 0
        self.port = free_port()
        self._runner = None

    async def start(self) -> None:
        from aiohttp import web

        async def metrics(request: web.Request) -> web.Response:
            self.scrapes += 1
            lines = ["# HELP regie_filesystem_used_ratio Used share of the filesystem.",
                     "# TYPE regie_filesystem_used_ratio gauge"]
            for i, (mp, value) in enumerate(sorted(self.values.items())):
                lines.append(f'regie_filesystem_used_ratio{{device="/dev/vdb{i}",'
                             f'fstype="ext4",mountpoint="{mp}"}} {value}')
            return web.Response(text="\n".join(lines) + "\n",
                                content_type="text/plain", charset="utf-8")

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def mountpoint(i: int) -> str:
    return f"/srv/bench{i:03d}"


async def wait_for(receiver: Receiver, seen: int, match, timeout: float
                   ) -> tuple[dict[str, Any] | None, int]:
    """The first record after `seen` that `match`es (None after `timeout`), and the new
    count of records seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = await receiver.records(seen)
        for index, record in enumerate(records):
            if match(record):
                return record, seen + index + 1
        seen += len(records)
        await asyncio.sleep(0.02)
    return None, seen


async def latency_benchmark(backend: str, args, pg: PostgreSQL | None, keys: Secrets,
                            receiver: Receiver) -> LatencyRow:
    import aiohttp

    row = LatencyRow(f"regie, {backend}", target=args.interval + TARGET_LATENCY_EXTRA_S)
    exposition = Exposition(args.trials)
    collector = None
    async with workspace("latency", backend, args, pg) as ws:
        try:
            await exposition.start()
            rules = ws.dir / "rules.yml"
            rules.write_text(RULES)
            port = free_port()
            extra = f"""\
[evaluator]
interval_seconds = {args.interval}
scrape_timeout_seconds = {min(5.0, args.interval)}
rules_file = "{rules}"

[[evaluator.targets]]
address = "127.0.0.1:{exposition.port}"
host = "{BREACH_HOST}"

[criticality]
default = "medium"

[criticality.hosts]
"{BREACH_HOST}" = "business-critical"
"""
            config = write_config(ws.dir, keys, receiver_url=f"{receiver.base}/hook",
                                  business_hours=ALL_WEEK, public_url=f"http://127.0.0.1:{port}",
                                  extra=extra)
            log = ws.dir / "collector.log"
            collector = start_collector("--config", str(config), "--db", ws.url, "--listen",
                                        f"127.0.0.1:{port}", "--log-level", "info",
                                        cwd=ws.dir, log=log)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                # Ready once it answers and the evaluator has scraped the exposition twice.
                await wait_ready(session, f"http://127.0.0.1:{port}/healthz", collector,
                                 name="collector", log=log,
                                 also=lambda: exposition.scrapes >= 2)
            await receiver.reset()
            seen = 0
            timeout = args.interval * 3 + 20
            for trial in range(1, args.trials + 1):
                mp = mountpoint(trial)
                await asyncio.sleep(random.uniform(0, args.interval))
                exposition.values[mp] = 0.97
                flipped = time.time()
                record, seen = await wait_for(
                    receiver, seen, lambda r, mp=mp: r["path"] == "hook"
                    and r["kind"] == "trigger" and f"{mp} on" in (r["summary"] or ""), timeout)
                exposition.values[mp] = 0.52
                if record is None:
                    row.missed += 1
                    say(f"  {backend}: trial {trial}: no trigger notice within {timeout:.0f} s")
                    continue
                row.trigger.append(record["at"] - flipped)
                back = time.time()
                ticket = record["ticket_id"]
                done, seen = await wait_for(
                    receiver, seen, lambda r, t=ticket: r["path"] == "hook"
                    and r["kind"] == "resolve" and r["ticket_id"] == t, timeout)
                if done is not None:
                    row.resolve.append(done["at"] - back)
                say(f"  {backend}: trial {trial}: trigger {row.trigger[-1]:.2f} s"
                    + (f", resolve {row.resolve[-1]:.2f} s" if done is not None else
                       ", no resolve notice"))
            stop_process(collector)
            text = log.read_text(errors="replace")
            if "Traceback" in text or " ERROR " in text:
                row.note = "collector logged errors: " + text[-400:].strip()
        finally:
            stop_process(collector)
            await exposition.stop()
    return row


async def alertmanager_benchmark(args, receiver: Receiver) -> LatencyRow:
    import aiohttp

    row = LatencyRow("alertmanager, group_wait 0s")
    if args.no_alertmanager:
        row.skipped = "--no-alertmanager"
        return row
    if not os.access(ALERTMANAGER, os.X_OK):
        row.skipped = f"{ALERTMANAGER} not installed"
        return row
    here = Path(tempfile.mkdtemp(prefix="regie-bench-esc-am-", dir=args.dir))
    proc = None
    try:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        conf = here / "alertmanager.yml"
        conf.write_text(f"""\
route:
  receiver: bench
  group_by: [alertname, instance, mountpoint]
  group_wait: 0s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: bench
    webhook_configs:
      - url: {receiver.base}/am
        send_resolved: false
""")
        with (here / "alertmanager.log").open("wb") as sink:
            proc = subprocess.Popen(
                [str(ALERTMANAGER), f"--config.file={conf}", f"--storage.path={here / 'data'}",
                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                 f"--web.external-url={url}"],
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                start_new_session=True)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            await wait_ready(session, f"{url}/-/ready", proc, name="alertmanager", timeout=30)
            await receiver.reset()
            seen = 0
            run = secrets.token_hex(3)
            for trial in range(1, args.trials + 1):
                mp = f"{mountpoint(trial)}-{run}"
                await asyncio.sleep(random.uniform(0, 0.5))
                alert = [{"labels": {"alertname": "BenchFilesystemFull",
                                     "instance": f"{BREACH_HOST}:9100", "mountpoint": mp,
                                     "severity": "critical"},
                          "annotations": {"summary": f"Filesystem {mp} is 97% full"},
                          "startsAt": datetime.now(UTC).isoformat()}]
                sent = time.time()
                async with session.post(f"{url}/api/v2/alerts", json=alert) as answer:
                    if answer.status != 200:
                        raise RuntimeError(f"POST /api/v2/alerts: HTTP {answer.status}")
                record, seen = await wait_for(
                    receiver, seen, lambda r, mp=mp: r["path"] == "am"
                    and any(a.get("mountpoint") == mp for a in r["labels"]), 20)
                if record is None:
                    row.missed += 1
                    continue
                row.trigger.append(record["at"] - sent)
        say(f"  alertmanager: {len(row.trigger)} notices, p50 "
            f"{percentile(row.trigger, 0.5) * 1000:.0f} ms")
    except Exception as exc:
        row.skipped = f"{type(exc).__name__}: {exc}"
        say(f"  alertmanager: {row.skipped}")
    finally:
        stop_process(proc)
        shutil.rmtree(here, ignore_errors=True)
    return row


# -- report -------------------------------------------------------------------------------


def print_report(args, versions: dict[str, str], sweep: list[SweepRow],
                 setup: dict[str, SweepSetup], notify: list[NotifyRow],
                 latency: list[LatencyRow], elapsed: float) -> None:
    print(f"\nEscalation benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print_machine(versions, args.load_before)
    if sweep:
        print(f"\n1. Timer sweep: EscalationStore.sweep(now, Escalator.planned, "
              f"window_seconds=900), {args.runs} timed runs after {WARMUP_SWEEPS} warm-up; "
              "the same due rows every run")
        for backend, info in setup.items():
            if info.tickets:
                at = info.at or datetime.now(UTC)
                analyzed = "ANALYZEd" if info.analyzed else "no ANALYZE"
                print(f"   {backend}: {info.tickets:,} open tickets with escalations (filled in "
                      f"{info.fill_seconds:.0f} s), {analyzed}; swept at {at:%a %H:%M} UTC")
        head = (f"{'backend':11} {'due':>5} {'claimed':>7} {'queued':>7} {'p50 ms':>8} "
                f"{'p95 ms':>8} {'max ms':>8}  {'target':15} verdict")
        print_head(head)
        for r in sweep:
            if r.skipped:
                print(f"{r.backend:11} {r.due:5d} skipped: {r.skipped}")
                continue
            claimed = "/".join(str(c) for c in sorted(r.claimed))
            queued = "/".join(str(c) for c in sorted(r.queued))
            print(f"{r.backend:11} {r.due:5d} {claimed:>7} {queued:>7} {r.ms(0.5):8.1f} "
                  f"{r.ms(0.95):8.1f} {r.ms(1.0):8.1f}  {'p95 <= 50 ms':15} {r.verdict()}")
        print("   due 0 is the empty sweep each collector runs every 0.5 s; queued: "
              "notifications the sweep put on the delivery queue.")
    if notify:
        print("\n2. Notification throughput: Notifier.deliver_once() in a loop (claims 50, 8 "
              "sends at a time) to a webhook receiver in its own process on 127.0.0.1")
        head = (f"{'backend':11} {'queued':>7} {'seconds':>8} {'notif/s':>8} {'delivered':>9} "
                f"{'dead':>5} {'pending':>7} {'received':>8} {'duplicates':>10} "
                f"{'bad sig':>7} {'cpu':>5}")
        print_head(head)
        for r in notify:
            if r.skipped:
                print(f"{r.backend:11} {r.count:7,} skipped: {r.skipped}")
                continue
            s = r.statuses
            print(f"{r.backend:11} {r.count:7,} {r.seconds:8.2f} {r.rate:8,.0f} "
                  f"{s.get('delivered', 0):9,} {s.get('dead', 0):5,} {s.get('pending', 0):7,} "
                  f"{r.posts:8,} {r.duplicates:10,} {r.refused:7,} {r.cpu:5.2f}")
        print("   duplicates: deliveries the receiver got more than once (must be 0); cpu: "
              "cores used by this process (notifier and database driver).")
    if latency:
        print(f"\n3. Breach to notification: gauge flipped at T0, trigger notice at the "
              f"receiver; embedded evaluator every {args.interval:g} s, rule with for: 0s, "
              f"P1; {args.trials} trials")
        head = (f"{'path':29} {'n':>3} {'p50 s':>6} {'max s':>6} {'resolve p50':>11} "
                f"{'resolve max':>11}  {'target':12} verdict")
        print_head(head)
        for r in latency:
            if r.skipped:
                print(f"{r.name:29} skipped: {r.skipped}")
                continue
            target = f"<= {r.target:g} s" if r.target is not None else "-"
            resolve50 = f"{percentile(r.resolve, 0.5):.3f}" if r.resolve else "-"
            resolvemax = f"{max(r.resolve):.3f}" if r.resolve else "-"
            print(f"{r.name:29} {len(r.trigger):3d} {percentile(r.trigger, 0.5):6.3f} "
                  f"{max(r.trigger) if r.trigger else float('nan'):6.3f} {resolve50:>11} "
                  f"{resolvemax:>11}  {target:12} {r.verdict()}"
                  + (f" ({r.missed} missed)" if r.missed else ""))
            if r.note:
                print(f"   {r.note}")
        print(f"   Anchor: Alertmanager holds the first notification of a new alert group "
              f"for group_wait, {ALERTMANAGER_GROUP_WAIT_S} s by default; behind Prometheus "
              "(scrape_interval and evaluation_interval 1 m by default) a breach takes up to "
              "about 2.5 min to notify. The Alertmanager row is its own hop alone (POST "
              "/api/v2/alerts to its webhook), with group_wait 0s.")
    print(f"\nTotal run time {elapsed:.0f} s.")


async def on_each_backend(rows: list, part: str, note: str, backends: list[str],
                          pg_reason: str, measure, skipped) -> None:
    """Add `await measure(backend)`'s rows to `rows` for each backend, as each is measured
    (a stopped run still reports those); a backend that cannot run (`pg_reason` for
    PostgreSQL, or the exception) adds `skipped(backend, reason)`'s rows instead."""
    for backend in backends:
        reason = pg_reason if backend == "postgresql" else ""
        if not reason:
            say(f"{part}, {backend}{note}")
            try:
                rows += await measure(backend)
                continue
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                say(f"{part}, {backend}: {reason}")
        rows += skipped(backend, reason)


async def listed(row):
    return [await row]


async def amain(args) -> int:
    versions = versions_of("Python", "SQLite", "SQLAlchemy", "aiohttp")
    backends = chosen_backends(args.backend)
    pg, pg_reason = None, ""
    if "postgresql" in backends:
        pg, pg_reason = await reach(args.pg_url, versions)
    main_task = asyncio.current_task()
    stopping = False

    def interrupt() -> None:
        nonlocal stopping
        if not stopping:
            say("stopping: cleaning up (processes, databases, files)")
        stopping = True
        main_task.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, interrupt)
    started = time.monotonic()
    args.load_before = os.getloadavg()[0]
    keys = Secrets()
    sweep: list[SweepRow] = []
    setup: dict[str, SweepSetup] = {}
    notify: list[NotifyRow] = []
    latency: list[LatencyRow] = []
    secret_dir = Path(tempfile.mkdtemp(prefix="regie-bench-esc-", dir=args.dir))
    receiver = None
    try:
        secret_file = secret_dir / "hook.key"
        secret_file.write_text(keys.hook + "\n")
        secret_file.chmod(0o600)
        if "sweep" in args.part_list:
            await on_each_backend(
                sweep, "sweep", f": {args.tickets:,} open tickets", backends, pg_reason,
                lambda b: sweep_benchmark(b, args, pg, keys, setup),
                lambda b, reason: [SweepRow(b, d, skipped=reason) for d in args.due_counts])
        if {"notify", "latency"} & set(args.part_list):
            receiver = Receiver(secret_file)
            await receiver.start()
        if "notify" in args.part_list:
            await on_each_backend(
                notify, "notify", "", backends, pg_reason,
                lambda b: listed(notify_benchmark(b, args, pg, keys, receiver)),
                lambda b, reason: [NotifyRow(b, args.notifications, skipped=reason)])
        if "latency" in args.part_list:
            await on_each_backend(
                latency, "latency", f": {args.trials} trials", backends, pg_reason,
                lambda b: listed(latency_benchmark(b, args, pg, keys, receiver)),
                lambda b, reason: [LatencyRow(f"regie, {b}", skipped=reason)])
            say("latency, alertmanager")
            latency.append(await alertmanager_benchmark(args, receiver))
    except asyncio.CancelledError:
        say("stopped")
    finally:
        if receiver is not None:
            await asyncio.shield(receiver.close())
        shutil.rmtree(secret_dir, ignore_errors=True)
    print_report(args, versions, sweep, setup, notify, latency, time.monotonic() - started)
    return 130 if stopping else 0


def counts(text: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers") from None
    if not values or values[0] < 0 or values[-1] > 200:
        raise argparse.ArgumentTypeError("each between 0 and 200 (one sweep claims 200 at most)")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Details: the top of bench/escalation.py and bench/README.md.")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both",
                        help="database backend(s) to measure (default both)")
    add_selection(parser, "--parts", PARTS, what="part", dest="part_list")
    parser.add_argument("--tickets", type=int, default=100_000,
                        help="open tickets with escalations not due, for the sweep (100000)")
    parser.add_argument("--due", type=counts, default=[0, 10, 50], dest="due_counts",
                        metavar="N,N,...", help="escalations due at each timed sweep "
                        "(default 0,10,50: one sweep claims 50 at most; 0 is the empty sweep)")
    parser.add_argument("--runs", type=int, default=30, help="timed sweeps per due count (30)")
    parser.add_argument("--notifications", type=int, default=2_000,
                        help="pending notifications to deliver (2000)")
    parser.add_argument("--trials", type=int, default=10,
                        help="breaches flipped for the latency measurement (10)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="the evaluator's interval_seconds (1)")
    parser.add_argument("--no-alertmanager", action="store_true",
                        help="do not measure Alertmanager's own hop")
    parser.add_argument("--no-analyze", action="store_true",
                        help="do not ANALYZE PostgreSQL after the fill")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 5,000 tickets, 5 runs, 200 notifications, 3 trials")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the rows (1)")
    add_database_options(parser, files="SQLite files, configs and logs")
    parser.add_argument("--serve-receiver", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--secret-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receiver is not None:
        serve_receiver(args.serve_receiver, args.secret_file)
        return 0
    if args.quick:
        args.tickets, args.runs = min(args.tickets, 5_000), min(args.runs, 5)
        args.notifications, args.trials = min(args.notifications, 200), min(args.trials, 3)
    if args.tickets < 0 or args.runs < 1 or args.notifications < 1 or args.trials < 1:
        parser.error("--tickets must be >= 0; --runs, --notifications, --trials >= 1")
    if args.interval <= 0:
        parser.error("--interval must be above 0")
    try:
        return asyncio.run(amain(args))
    except KeyboardInterrupt:
        say("aborted")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
