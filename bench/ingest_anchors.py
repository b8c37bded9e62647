"""The anchors `ingest.py` measures in the same run as the collector, so that its figures
read as ratios rather than absolutes (machines of one kind differ by 2x or more):

- Alertmanager: a real `prometheus-alertmanager` ingesting the same alerts through its own
  `POST /api/v2/alerts`, with the same batch size and the same number of requests in flight.
  It keeps alerts in memory (no durability), so it is the ceiling of "accept an alert over
  HTTP", not of "commit a ticket".
- the storage floor: the rows the collector writes for the same workload (a ticket row and an
  "opened" timeline row per new alert, an update per repeat, an update and a timeline row per
  resolve), written by a minimal batched insert into the same kind of database, one durable
  transaction per request's worth of alerts, with no HTTP, no parsing and no priority: what the
  database alone costs. SQLite is written by one connection (it has one writer at a time);
  PostgreSQL by as many connections as the collector has requests in flight.
- the store alone (not an anchor but a bound): the collector's own TicketStore on the same
  workload, in this process, with no HTTP and the bodies parsed beforehand. Its alerts/s is the
  most the collector could take if receiving and parsing requests cost nothing; beside
  Alertmanager's it tells whether faster HTTP or parsing alone could reach a target.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from processes import cpu_seconds, free_port, process_cpu, self_cpu, stop_process, wait_ready

ALERTMANAGER = "prometheus-alertmanager"
# Request bodies rendered before the clock starts and sent in turn, so the client's JSON work
# does not slow the anchor it measures. After one pass every alert is a repeat to
# Alertmanager (it deduplicates by label set), as half of them are in the collector's workload.
POOL = 400


@dataclass
class Anchor:
    name: str
    alerts_per_s: float = 0.0
    cores: float = 0.0           # the anchor's own CPU (Alertmanager, or the database server)
    client_cores: float = 0.0    # this process
    server_cores: float | None = None  # store alone on PostgreSQL: the server's processes
    skipped: str = ""

    def server_us_per_alert(self) -> float | None:
        return self.cores * 1e6 / self.alerts_per_s if self.alerts_per_s else None


# -- Alertmanager -------------------------------------------------------------------------


def to_postable(webhook_alert: dict) -> dict:
    """An alert of the webhook (v4) shape as `POST /api/v2/alerts` takes it."""
    alert = {"labels": webhook_alert["labels"], "annotations": webhook_alert["annotations"],
             "startsAt": webhook_alert["startsAt"],
             "generatorURL": webhook_alert["generatorURL"]}
    if not webhook_alert["endsAt"].startswith("0001-"):
        alert["endsAt"] = webhook_alert["endsAt"]
    return alert


def pooled_bodies(workload, *, postable: bool) -> list[tuple[bytes, list[dict]]]:
    """POOL request bodies from `workload` (each answered at once, so repeats and resolves
    are drawn as in the collector's run): (body, the alerts in it)."""
    pool = []
    for _ in range(POOL):
        body, fresh = workload.next()
        workload.opened(fresh)
        alerts = json.loads(body)["alerts"]
        if postable:
            body = json.dumps([to_postable(a) for a in alerts],
                              separators=(",", ":")).encode()
        pool.append((body, alerts))
    return pool


async def alertmanager(workload, *, seconds: float, concurrency: int, workdir: Path) -> Anchor:
    """A real Alertmanager (gossip off, one do-nothing receiver) taking the workload's alerts
    over loopback in a closed loop of `concurrency` requests."""
    import aiohttp

    anchor = Anchor("Alertmanager")
    directory = Path(tempfile.mkdtemp(prefix="regie-bench-am-", dir=workdir))
    config = directory / "alertmanager.yml"
    config.write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
    port = free_port()
    log = directory / "alertmanager.log"
    try:
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [ALERTMANAGER, f"--config.file={config}", f"--storage.path={directory}",
                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink,
                start_new_session=True)
    except OSError as exc:
        anchor.skipped = f"{ALERTMANAGER}: {exc.strerror}"
        return anchor
    try:
        pool = pooled_bodies(workload, postable=True)
        batch = len(pool[0][1])
        url = f"http://127.0.0.1:{port}/api/v2/alerts"
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_ready(session, f"http://127.0.0.1:{port}/-/ready", proc,
                             name="alertmanager", log=log)
            for body, _ in pool[:20]:  # warm-up
                async with session.post(url, data=body, headers={
                        "Content-Type": "application/json"}) as response:
                    await response.read()
            sent, errors = 0, 0
            before = (cpu_seconds(proc.pid), self_cpu())
            start = time.perf_counter()
            deadline = start + seconds

            async def worker() -> None:
                nonlocal sent, errors
                while time.perf_counter() < deadline:
                    body, _ = pool[sent % POOL]
                    sent += 1
                    async with session.post(url, data=body, headers={
                            "Content-Type": "application/json"}) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            wall = time.perf_counter() - start
            after = (cpu_seconds(proc.pid), self_cpu())
        if errors:
            anchor.skipped = f"{errors} requests answered other than 200"
        anchor.alerts_per_s = (sent - errors) * batch / wall
        anchor.cores = (after[0] - before[0]) / wall
        anchor.client_cores = (after[1] - before[1]) / wall
    except Exception as exc:  # an anchor that cannot run is reported, not fatal
        anchor.skipped = f"{type(exc).__name__}: {exc}"
    finally:
        stop_process(proc)
        # Its configuration, log and storage (files and the directories Alertmanager made).
        shutil.rmtree(directory, ignore_errors=True)
    return anchor


# -- the storage floor --------------------------------------------------------------------

TICKET_COLUMNS = ("id", "dedup_key", "status", "priority", "impact", "urgency", "summary",
                  "description", "host", "service", "component", "source", "origin",
                  "occurrences", "first_seen", "last_seen", "created_at", "updated_at",
                  "host_down", "details")
EVENT_COLUMNS = ("ticket_id", "at", "kind", "actor", "message", "data")


@dataclass
class Batch:
    """One request's worth of writes."""

    new: list[tuple]        # ticket rows
    opened: list[tuple]     # their timeline rows
    repeats: list[tuple]    # (last_seen, updated_at, dedup_key)
    resolves: list[tuple]   # (resolved_at, updated_at, dedup_key)
    resolved: list[tuple]   # the resolves' timeline rows
    alerts: int
    fresh: list[tuple[str, int]] = field(default_factory=list)  # (key, id) of `new`
    busy: list[tuple[str, int]] = field(default_factory=list)   # (key, id) of `repeats`


class Rows:
    """Request-sized batches of the rows the collector writes, in the workload's mix (new,
    repeat, resolve) and with rows of the same size. They are made here rather than parsed from
    rendered alerts, so that making them costs a few microseconds an alert beside the writes;
    ticket ids are given here (a floor need not ask the database for them). As in the
    collector's workload, only tickets of committed batches are repeated or resolved
    (`committed`): a resolve's timeline row must find its ticket, whichever connection wrote
    it."""

    def __init__(self, workload) -> None:
        self.batch = workload.batch
        self.repeat = workload.repeat
        self.resolve = workload.resolve
        self.random = workload.random
        self.hosts = workload.hosts
        self.run = workload.run
        self.next_id = 1
        self.firing: list[tuple[str, int]] = []   # (dedup key, ticket id) of open tickets

    def committed(self, batch: Batch) -> None:
        self.firing.extend(batch.fresh)
        self.firing.extend(batch.busy)

    def next(self) -> Batch:
        now = datetime.now(UTC)
        batch = Batch([], [], [], [], [], self.batch)
        known = len(self.firing)
        repeats = min(known, round(self.batch * self.repeat))
        resolves = min(known - repeats, round(self.batch * self.resolve))
        picked = self.random.sample(range(known), repeats + resolves)
        resolving = set(picked[repeats:])
        # Repeated tickets leave `firing` until the batch commits (`busy`), resolved ones for
        # good: batches in flight together never update the same ticket, so the floor's
        # transactions do not wait for each other's row locks (nor deadlock on them).
        for i in sorted(picked, reverse=True):
            key, ticket = self.firing[i]
            if i not in resolving:
                batch.repeats.append((now, now, key))
                batch.busy.append((key, ticket))
            else:
                batch.resolves.append((now, now, key))
                batch.resolved.append((ticket, now, "resolved", "alertmanager",
                                       f"resolved: NodeFilesystemSpaceFillingUp ({key})",
                                       json.dumps({"occurred_at": now.isoformat()})))
            last = self.firing.pop()
            if i < len(self.firing):
                self.firing[i] = last
        for _ in range(self.batch - repeats - resolves):
            ticket = self.next_id
            self.next_id += 1
            key = f"alertmanager:{self.run}{ticket:012x}"
            host = self.random.choice(self.hosts)
            labels = {"alertname": "NodeFilesystemSpaceFillingUp", "instance": f"{host}:9100",
                      "job": "node", "severity": "warning", "mountpoint": f"/srv/data{ticket}"}
            summary = f"NodeFilesystemSpaceFillingUp on {host} (/srv/data{ticket})"
            # Details and the "created" timeline row as the collector writes them for such an
            # alert (its labels, annotations, generator URL and start; the assessment).
            details = {"labels": labels, "annotations": {
                "summary": summary,
                "description": f"NodeFilesystemSpaceFillingUp has been firing on {host} for "
                               "more than 5 minutes.",
                "runbook_url": "https://runbooks.example.net/NodeFilesystemSpaceFillingUp"},
                "generator_url": "http://prometheus.dc1.example.net:9090/graph?g0.expr="
                                 "NodeFilesystemSpaceFillingUp",
                "starts_at": now.isoformat()}
            reasons = ["system criticality medium", "impact medium x urgency medium = P3"]
            batch.new.append((
                ticket, key, "open", "P3", "medium", "medium", summary, "", host, "node", None,
                "monitoring", "alertmanager", 1, now, now, now, now, False,
                json.dumps(details)))
            batch.opened.append((ticket, now, "created", "alertmanager",
                                 "opened at P3: " + "; ".join(reasons), json.dumps(
                                     {"priority": "P3", "impact": "medium", "urgency": "medium",
                                      "reasons": reasons, "systems_affected": 1})))
            batch.fresh.append((key, ticket))
        # Rows updated in key order, as the collector locks them.
        batch.repeats.sort(key=lambda row: row[2])
        batch.resolves.sort(key=lambda row: row[2])
        return batch


def _insert(table: str, columns: tuple[str, ...], marker: str) -> str:
    places = ", ".join(marker.format(i + 1) for i in range(len(columns)))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({places})"  # noqa: S608 (constant names)


REPEAT = ("UPDATE tickets SET occurrences = occurrences + 1, last_seen = {0}, updated_at = {1} "
          "WHERE dedup_key = {2} AND status IN ('open', 'acknowledged')")
RESOLVE = ("UPDATE tickets SET status = 'resolved', resolved_at = {0}, updated_at = {1} "
           "WHERE dedup_key = {2} AND status IN ('open', 'acknowledged')")


def _text(row: tuple) -> tuple:
    """`row` with its datetimes as the collector's SQLite text ("2025-01-31 23:59:59.000000")."""
    return tuple(v.isoformat(" ", "microseconds")[:-6] if isinstance(v, datetime) else v
                 for v in row)


def sqlite_floor(path: Path, rows: Rows, *, seconds: float) -> tuple[int, float, float]:
    """(alerts, seconds spent writing, CPU seconds of this process meanwhile) writing batches
    into the SQLite file at `path` with the collector's durability (WAL, synchronous=FULL).
    Only the time inside the transactions counts: SQLite runs in this thread, so making the
    rows would otherwise be counted as the database's time."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    tickets = _insert("tickets", TICKET_COLUMNS, "?")
    events = _insert("ticket_events", EVENT_COLUMNS, "?")
    repeat, resolve = REPEAT.format("?", "?", "?"), RESOLVE.format("?", "?", "?")
    alerts, writing, cpu = 0, 0.0, 0.0
    try:
        while writing < seconds:
            for batch in (rows.next() for _ in range(10)):
                new, opened = [_text(r) for r in batch.new], [_text(r) for r in batch.opened]
                repeats = [_text(r) for r in batch.repeats]
                resolves = [_text(r) for r in batch.resolves]
                closed = [_text(r) for r in batch.resolved]
                started, used = time.perf_counter(), self_cpu()
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(tickets, new)
                connection.executemany(events, opened)
                connection.executemany(repeat, repeats)
                connection.executemany(resolve, resolves)
                connection.executemany(events, closed)
                connection.execute("COMMIT")
                writing += time.perf_counter() - started
                cpu += self_cpu() - used
                alerts += batch.alerts
                rows.committed(batch)
    finally:
        connection.close()
    return alerts, writing, cpu


async def postgresql_floor(url: str, rows: Rows, *, seconds: float, concurrency: int,
                           server_pids) -> tuple[int, float, dict[int, float]]:
    """(alerts, wall seconds, CPU seconds of the server's processes by pid) writing batches
    into PostgreSQL from `concurrency` connections, each batch one transaction
    (synchronous_commit as the server has it). The processes (`await server_pids()`) and
    their CPU are read while the connections are still open: their backends do most of the
    server's work, and an exited process's CPU can no longer be read."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    tickets = _insert("tickets", TICKET_COLUMNS, "${}")
    events = _insert("ticket_events", EVENT_COLUMNS, "${}")
    repeat, resolve = REPEAT.format("$1", "$2", "$3"), RESOLVE.format("$1", "$2", "$3")
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    alerts = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        nonlocal alerts
        while time.perf_counter() < deadline:
            batch = rows.next()
            # Batches in flight share no ticket (Rows), so a deadlock is not expected; were
            # one to happen, the batch is retried, as the collector retries.
            for _ in range(20):
                try:
                    async with pool.acquire() as connection, connection.transaction():
                        for statement, values in (
                                (tickets, batch.new), (events, batch.opened),
                                (repeat, batch.repeats), (resolve, batch.resolves),
                                (events, batch.resolved)):
                            if values:
                                await connection.executemany(statement, values)
                    break
                except asyncpg.DeadlockDetectedError:
                    continue
            else:
                raise RuntimeError("a batch deadlocked 20 times in a row")
            alerts += batch.alerts
            rows.committed(batch)

    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
        cpu = process_cpu(await server_pids())
    finally:
        await pool.close()
    return alerts, wall, cpu


async def storage_floor(ws, workload, *, seconds: float, concurrency: int) -> Anchor:
    """The floor on the migrated, empty database of workspace `ws`."""
    anchor = Anchor("storage floor")
    rows = Rows(workload)
    try:
        if ws.backend == "sqlite":
            alerts, wall, cpu = await asyncio.to_thread(sqlite_floor, ws.sqlite_path, rows,
                                                        seconds=seconds)
            anchor.client_cores = cpu / wall   # the writer is this process (SQLite is a library)
            anchor.cores = anchor.client_cores
        else:
            server = await ws.pg.server_pids(ws.database)
            before = (process_cpu(server), self_cpu())
            alerts, wall, cpu = await postgresql_floor(
                ws.url, rows, seconds=seconds, concurrency=concurrency,
                server_pids=lambda: ws.pg.server_pids(ws.database))
            after = (cpu, self_cpu())
            anchor.cores = sum(cpu - before[0].get(pid, 0.0)
                               for pid, cpu in after[0].items()) / wall
            anchor.client_cores = (after[1] - before[1]) / wall
        anchor.alerts_per_s = alerts / wall
    except Exception as exc:  # an anchor that cannot run is reported, not fatal
        anchor.skipped = f"{type(exc).__name__}: {exc}"
    return anchor


# -- the collector's store alone ------------------------------------------------------------


async def store_alone(ws, workload, *, seconds: float, group: int) -> Anchor:
    """The collector's own store (TicketStore.apply_signals, the code each request's group
    runs in `regie collector run`) on the migrated, empty database of workspace `ws`, in this
    process: no HTTP, and the bodies are parsed (collector.payloads.alertmanager) before the
    clock runs for each transaction. `group` requests go into one transaction, one transaction
    at a time: on SQLite that is the collector's best case when that many requests wait for its
    one writer; on PostgreSQL the collector runs several such transactions at once
    (database.intake_writers), so there this is a lower figure than the collector could reach.
    Only the time inside apply_signals counts, as only the floor's transactions count."""
    from alerting.priority import assess
    from alerting.ticket import Criticality
    from collector.payloads.alertmanager import parse_webhook
    from collector.store.engine import create_engine, database_url
    from collector.store.tickets import TicketStore

    def priced(signal, systems: int):
        return assess(criticality=Criticality.MEDIUM, urgency=signal.urgency,
                      systems_affected=systems)

    anchor = Anchor("store alone")
    engine = create_engine(database_url(ws.url))
    try:
        store = TicketStore(engine)
        server = await ws.pg.server_pids(ws.database) if ws.backend == "postgresql" else []
        alerts, applying, cpu, server_cpu = 0, 0.0, 0.0, 0.0
        while applying < seconds:
            signals, fresh = [], []
            for _ in range(group):
                body, opened = workload.next()
                signals += parse_webhook(json.loads(body), now=datetime.now(UTC))
                fresh.append(opened)
            before = (self_cpu(), process_cpu(server))
            started = time.perf_counter()     # the clock runs from here: /proc read before
            await store.apply_signals(signals, now=datetime.now(UTC), assess=priced)
            applying += time.perf_counter() - started
            cpu += self_cpu() - before[0]
            if server:
                server = sorted(set(server) | set(await ws.pg.server_pids(ws.database)))
                server_cpu += sum(used - before[1].get(pid, 0.0)
                                  for pid, used in process_cpu(server).items())
            alerts += len(signals)
            for opened in fresh:
                workload.opened(opened)
        anchor.alerts_per_s = alerts / applying
        anchor.client_cores = cpu / applying
        # The collector's side (this process: the store's Python, and SQLite, a library), and
        # on PostgreSQL the server's processes.
        anchor.cores = anchor.client_cores
        anchor.server_cores = server_cpu / applying if server else None
    except Exception as exc:  # an anchor that cannot run is reported, not fatal
        anchor.skipped = f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    return anchor
