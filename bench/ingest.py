#!/usr/bin/env python3
"""Benchmark the collector's Alertmanager intake: real collector processes, loopback HTTP.

    python bench/ingest.py [--scenarios sqlite-1,sqlite-2,postgresql-1,postgresql-2]
                           [--seconds 20 | --requests N] [--batch 100] [--concurrency 8]
                           [--repeat 0.5] [--resolve 0.05] [--race 0] [--rate ALERTS_PER_S]
                           [--analyze] [--sqlite-synchronous FULL|NORMAL] [--no-anchors]
                           [--keep]

Each scenario gets a fresh database: a SQLite file in a temporary directory, or a throw-away
PostgreSQL database `regie_bench_<random>` (created from --pg-url's database, dropped at the
end). The database is migrated and an ingest token created with the `regie collector`
commands an operator uses, then one or two `regie collector run` processes serve it on
loopback ports (two processes share the one database; the client sends its requests to them
in turn). Alertmanager webhook v4 batches are then POSTed to /api/v1/alertmanager:

- workload: --batch alerts per request (default 100) with real Alertmanager labels
  (alertname, instance, job, severity and one identifying label such as mountpoint or pod),
  a unique fingerprint per alert (no fingerprint twice in one batch); --repeat of them
  (default 50%) repeat alerts whose tickets are open (the collector answered for them and no
  resolve was sent since), --resolve (default 5%) resolve one of those, the rest are new.
  --race (default 0) sends that share of the new alerts again at once in the next request,
  to the other collector when there are two, as the two members of an Alertmanager HA pair
  both notify: two batches then open the same ticket concurrently, the path that must still
  leave one open ticket per key. Every alert's JSON is rendered once, when it is first sent,
  so the client spends its time on HTTP, not on building bodies.
- client: one aiohttp ClientSession in this process with at most --concurrency requests in
  flight (default 8). Its CPU is printed beside the collectors' so a client that starves
  them on a small machine shows (on 2 CPUs it used about 0.1 of one, so it stays in this
  process). It is a closed loop: a request goes out as soon as one answers, so the
  figures are the collector's saturation throughput, and latency there includes queueing.
  By Little's law the mean latency is then concurrency / requests per second (8 requests in
  flight at 50 requests/s: 160 ms), so the p99 target can only be met under saturation at
  high rates. --rate ALERTS_PER_S makes it an open loop instead: requests are scheduled at
  that rate (still at most --concurrency in flight) and latency is counted from the
  scheduled time, so waiting for a free slot counts (no coordinated omission).
- measurement: --warmup requests (not measured), then --seconds (default 20) or --requests
  per scenario. alerts/s counts alerts in requests answered 200 over the measured wall time;
  latency is from sending to having read the answer. CPU is read from /proc around the
  measured window: the collector processes, this process (the client), and the PostgreSQL
  server processes working for the scenario's database (its backends, WAL writer,
  checkpointer, background writer; not other databases' backends), in cores (1.00 = one CPU
  busy the whole time).
- planner statistics: a fresh database has none. The collector never runs ANALYZE on
  SQLite. PostgreSQL's autovacuum analyses a table after a while (autovacuum_naptime, 60 s by
  default), so a run of a few seconds sees plans as a new deployment or an alert storm does;
  --analyze runs ANALYZE after the warm-up to see plans as a settled deployment has them.
- correctness: after the collectors stop, the database is queried directly for dedup keys
  with more than one open or acknowledged ticket (must be 0), and the collectors' logs are
  read for batches applied again because a concurrent transaction (the other collector's, or
  another request's on the same collector) opened one of their tickets first.

- anchors (bench/ingest_anchors.py; --no-anchors skips them): just before each scenario, for
  --seconds each, the same workload goes (a) to a real Alertmanager through its own
  `POST /api/v2/alerts`, with the same concurrency and alerts per request (it keeps alerts in
  memory), and (b) into the same kind of database as the scenario, freshly migrated, by a
  minimal batched writer with no HTTP (the storage floor: per request one transaction with
  the rows the collector writes for it, as executemany; SQLite in this process with the
  collector's durability, PostgreSQL from --concurrency connections). A table gives
  the collector's alerts/s as a multiple of Alertmanager's and a share of the floor's, and
  the CPU microseconds per alert of each: ratios carry between machines, absolute figures
  do not. (c) The collector's store alone: its TicketStore in this process on the same
  workload, --concurrency requests per transaction, one transaction at a time, bodies parsed
  before the clock runs, no HTTP: the most the collector could take if receiving and parsing
  cost nothing, to tell where the gap to the anchors lies.

SQLite with two collector processes is not a supported scale path (one writer at a time,
taken with BEGIN IMMEDIATE and a busy timeout); it is measured anyway and reported as it
comes out. The SQLite file lives in --dir (default: the system's temporary directory), with
the collector's default durability (synchronous=FULL) unless --sqlite-synchronous says
otherwise. This is a measurement, not a test: it prints a table and exits 0 (130 when
stopped by SIGINT/SIGTERM, after stopping its collectors and dropping its databases).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import secrets
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from databases import PostgreSQL, Workspace, reach
from ingest_anchors import Anchor, alertmanager, storage_floor, store_alone
from machine import print_machine, versions_of
from options import add_database_options, add_selection
from processes import (
    cpu_seconds,
    free_port,
    process_cpu,
    regie,
    self_cpu,
    start_collector,
    stop_processes,
    wait_ready,
)
from progress import say
from tables import percentile, print_head

ROOT = Path(__file__).resolve().parent.parent

TARGET_SQLITE_ALERTS = 5_000        # alerts/s into SQLite, one collector
TARGET_PG2_ALERTS = 10_000          # alerts/s into PostgreSQL, two collectors
TARGET_P99_MS = 50.0
DUPLICATES_SQL = ("SELECT dedup_key, count(*) FROM tickets WHERE status IN ('open', "
                  "'acknowledged') GROUP BY dedup_key HAVING count(*) > 1")

# (alertname, severity, job, identifying label, its value's prefix, weight): the kinds of
# alerts a node/Kubernetes fleet sends most. No host-down alerts (HostDown, InstanceDown):
# they would attach the host's later alerts to themselves, a different path.
ALERT_KINDS = (
    ("NodeFilesystemSpaceFillingUp", "warning", "node", "mountpoint", "/srv/data", 4),
    ("NodeFilesystemAlmostOutOfSpace", "critical", "node", "mountpoint", "/var/lib/vol", 1),
    ("NodeNetworkReceiveErrs", "info", "node", "device", "eth", 2),
    ("KubePodCrashLooping", "warning", "kube-state-metrics", "pod", "api-", 4),
    ("KubePodNotReady", "warning", "kube-state-metrics", "pod", "worker-", 2),
    ("HTTPHighErrorRate", "critical", "api", "route", "/v1/orders/", 1),
)
SCENARIOS = {  # CLI name -> (backend, collector processes)
    "sqlite-1": ("sqlite", 1),
    "sqlite-2": ("sqlite", 2),
    "postgresql-1": ("postgresql", 1),
    "postgresql-2": ("postgresql", 2),
}


class Stop:
    """Set by SIGTERM/SIGINT: requests stop going out, the running scenario cleans up (stops its
    collectors, drops its database) and the report covers what was measured. A second signal
    cancels outright."""

    requested = False


class Interrupted(Exception):
    pass


def label(backend: str, collectors: int) -> str:
    return f"{backend}×{collectors}"  # noqa: RUF001 (the multiplication sign is meant)


# -- workload -----------------------------------------------------------------------------


class Workload:
    """Alertmanager webhook bodies: new alerts, repeats of open ones, resolves, HA echoes."""

    def __init__(self, *, batch: int, repeat: float, resolve: float, race: float, hosts: int,
                 seed: int) -> None:
        self.batch = batch
        self.repeat = repeat
        self.resolve = resolve
        self.race = race
        self.random = random.Random(seed)
        self.hosts = [f"node-{i:04d}.dc1.example.net" for i in range(hosts)]
        self.kinds = [k for k in ALERT_KINDS for _ in range(k[5])]
        # JSON of alerts the collector has answered for (so their tickets are open) and not
        # resolved since: what repeats and resolves are drawn from.
        self.firing: list[str] = []
        self.echo: list[str] = []     # new alerts to send again at once (--race)
        self.serial = 0
        self.run = secrets.token_hex(3)  # fingerprints differ between runs and scenarios
        self.start = datetime.now(UTC) - timedelta(hours=1)
        self.sent = Counter()         # "new", "repeat", "resolve", "race"

    def _new(self) -> str:
        self.serial += 1
        n = self.serial
        name, severity, job, key, prefix, _ = self.random.choice(self.kinds)
        host = self.random.choice(self.hosts)
        labels = {"alertname": name, "instance": f"{host}:9100", "job": job,
                  "severity": severity, key: f"{prefix}{n}-{self.run}"}
        fingerprint = hashlib.blake2b(json.dumps(sorted(labels.items())).encode(),
                                      digest_size=8).hexdigest()
        started = self.start + timedelta(microseconds=n * 997)
        alert = {
            "status": "firing",
            "labels": labels,
            "annotations": {
                "summary": f"{name} on {host} ({labels[key]})",
                "description": f"{name} has been firing on {host} for more than 5 minutes.",
                "runbook_url": f"https://runbooks.example.net/{name}",
            },
            # Go's RFC 3339 with nanoseconds, as Alertmanager writes it.
            "startsAt": started.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": f"http://prometheus.dc1.example.net:9090/graph?g0.expr={name}",
            "fingerprint": fingerprint,
        }
        return json.dumps(alert, separators=(",", ":"))

    def next(self) -> tuple[bytes, list[str]]:
        """(request body, the alerts it opens: pass them to `opened` once answered 200)."""
        size = self.batch
        known = len(self.firing)
        repeats = min(known, round(size * self.repeat))
        resolves = min(known - repeats, round(size * self.resolve))
        picked = self.random.sample(range(known), repeats + resolves)
        alerts = [self.firing[i] for i in picked[:repeats]]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
        for i in picked[repeats:]:
            alerts.append(self.firing[i].replace('"status":"firing"', '"status":"resolved"', 1)
                          .replace('"endsAt":"0001-01-01T00:00:00Z"', f'"endsAt":"{now}"', 1))
        # Remove the resolved ones, largest index first: the last element moved into a freed
        # slot is never one still to remove.
        for i in sorted(picked[repeats:], reverse=True):
            last = self.firing.pop()
            if i < len(self.firing):
                self.firing[i] = last
        echoed = self.echo[:size - repeats - resolves]
        self.echo = []
        fresh = [self._new() for _ in range(size - repeats - resolves - len(echoed))]
        if self.race:
            self.echo = [a for a in fresh if self.random.random() < self.race]
        alerts.extend(echoed)
        alerts.extend(fresh)
        self.random.shuffle(alerts)
        self.sent.update(new=len(fresh), repeat=repeats, resolve=resolves, race=len(echoed))
        status = "firing" if resolves < size else "resolved"
        body = ('{"version":"4","groupKey":"{}:{alertname=~\\".+\\"}","truncatedAlerts":0,'
                f'"status":"{status}","receiver":"regie","groupLabels":{{}},'
                '"commonLabels":{},"commonAnnotations":{},'
                '"externalURL":"http://alertmanager.dc1.example.net:9093","alerts":['
                + ",".join(alerts) + "]}").encode()
        return body, fresh

    def opened(self, alerts: list[str]) -> None:
        self.firing.extend(alerts)


# -- the client ---------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    alerts: int = 0
    errors: Counter = field(default_factory=Counter)   # status or exception name -> count
    results: Counter = field(default_factory=Counter)  # created/repeated/resolved/...

    @property
    def requests(self) -> int:
        return len(self.latencies)


async def post(session, url: str, token: str, workload: Workload, tally: Tally,
               since: float) -> None:
    body, fresh = workload.next()
    import aiohttp

    try:
        async with session.post(url, data=body, headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json"}) as response:
            answer = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        tally.latencies.append(time.perf_counter() - since)
        tally.errors[type(exc).__name__] += 1
        return
    tally.latencies.append(time.perf_counter() - since)
    if status != 200:
        tally.errors[str(status)] += 1
        return
    tally.alerts += workload.batch
    workload.opened(fresh)
    for key, value in json.loads(answer).items():
        if isinstance(value, int) and key != "alerts":
            tally.results[key] += value


async def drive(session, urls: list[str], token: str, workload: Workload, *,
                concurrency: int, requests: int | None, seconds: float | None,
                rate: float | None, progress: str | None) -> tuple[Tally, float]:
    """Send requests until `requests` were sent or `seconds` passed; (tally, wall seconds)."""
    tally = Tally()
    start = time.perf_counter()
    deadline = start + seconds if seconds is not None else float("inf")
    issued = 0

    def more() -> bool:
        return ((requests is None or issued < requests) and time.perf_counter() < deadline
                and not Stop.requested)

    async def report() -> None:
        while True:
            await asyncio.sleep(5)
            elapsed = time.perf_counter() - start
            say(f"  {progress}: {elapsed:5.1f} s, {tally.requests} requests, "
                f"{tally.alerts / elapsed:,.0f} alerts/s, {sum(tally.errors.values())} errors")

    ticker = asyncio.create_task(report()) if progress else None
    try:
        if rate is None:
            async def worker() -> None:
                nonlocal issued
                while more():
                    url = urls[issued % len(urls)]
                    issued += 1
                    await post(session, url, token, workload, tally, time.perf_counter())

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        else:
            interval = workload.batch / rate
            slots = asyncio.Semaphore(concurrency)
            pending: set[asyncio.Task] = set()

            async def one(url: str, scheduled: float) -> None:
                try:
                    await post(session, url, token, workload, tally, scheduled)
                finally:
                    slots.release()

            while more():
                scheduled = start + issued * interval
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                url = urls[issued % len(urls)]
                issued += 1
                await slots.acquire()   # waiting here counts: latency runs from `scheduled`
                task = asyncio.create_task(one(url, scheduled))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.gather(*pending)
    finally:
        if ticker:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
    return tally, time.perf_counter() - start


# -- one scenario -------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    backend: str
    collectors: int
    skipped: str = ""
    seconds: float = 0.0
    tally: Tally = field(default_factory=Tally)
    duplicates: int | None = None
    open_tickets: int | None = None
    tickets: int | None = None
    retries: int = 0
    cpu: dict[str, float | None] = field(default_factory=dict)
    log_tail: str = ""
    rate: float | None = None      # the open loop's rate; None: as fast as answered
    alertmanager: Anchor | None = None   # measured just before, on the same workload
    floor: Anchor | None = None
    store: Anchor | None = None          # the collector's store alone, no HTTP

    def collector_us_per_alert(self) -> float | None:
        cores = self.cpu.get("collectors")
        return cores * 1e6 / self.alerts_per_s if cores and self.alerts_per_s else None

    def percentile(self, q: float) -> float:
        return percentile(self.tally.latencies, q) * 1000

    @property
    def alerts_per_s(self) -> float:
        return self.tally.alerts / self.seconds if self.seconds else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.tally.requests / self.seconds if self.seconds else 0.0

    def throughput_target(self) -> float | None:
        """The alerts/s target of this scenario; None when it has none, or when the client
        was paced below it (an open loop slower than the target cannot reach it)."""
        target = {("sqlite", 1): TARGET_SQLITE_ALERTS,
                  ("postgresql", 2): TARGET_PG2_ALERTS}.get((self.backend, self.collectors))
        if target is None or (self.rate is not None and self.rate < target):
            return None
        # A paced run sends 1-2% below its rate (the last requests' answers are still due).
        return target * 0.98 if self.rate is not None else target

    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        missed = []
        target = self.throughput_target()
        if target is not None and self.alerts_per_s < target:
            missed.append("alerts/s")
        if not self.percentile(0.99) <= TARGET_P99_MS:
            missed.append("p99")
        if self.duplicates != 0:
            missed.append("duplicates")
        if self.tally.errors:
            missed.append("errors")
        return "met" if not missed else "MISSED " + ",".join(missed)


async def scenario(key: str, args: argparse.Namespace, workdir: Path,
                   pg: PostgreSQL | None, pg_reason: str) -> Outcome:
    backend, count = SCENARIOS[key]
    outcome = Outcome(label(backend, count), backend, count, rate=args.rate)
    if backend == "postgresql" and pg is None:
        outcome.skipped = pg_reason
        return outcome
    processes: list[subprocess.Popen] = []
    try:
        async with Workspace(outcome.name, backend, workdir, pg, prefix=f"regie-bench-{key}-",
                             keep=args.keep) as ws:
            if args.anchors:
                await anchors(outcome, args, workdir, pg)
            try:
                await measure(outcome, ws, args, processes)
            finally:
                stop_processes(processes)
    except Interrupted as exc:
        outcome.skipped = str(exc)
    except Exception as exc:  # a scenario that cannot run is reported, not fatal
        outcome.skipped = f"{type(exc).__name__}: {exc}"
        say(f"{outcome.name}: {outcome.skipped}")
    return outcome


def workload_of(args: argparse.Namespace, seed: int) -> Workload:
    return Workload(batch=args.batch, repeat=args.repeat, resolve=args.resolve,
                    race=args.race, hosts=args.hosts, seed=seed)


async def anchors(outcome: Outcome, args: argparse.Namespace, workdir: Path,
                  pg: PostgreSQL | None) -> None:
    """Alertmanager, the storage floor and the collector's store alone, on the same workload,
    just before the collector, so that the figures come from the same minutes of the same
    machine."""
    say(f"{outcome.name}: anchor Alertmanager, {args.seconds:g} s")
    outcome.alertmanager = await alertmanager(
        workload_of(args, args.seed), seconds=args.seconds, concurrency=args.concurrency,
        workdir=workdir)
    async with Workspace(f"{outcome.name} floor", outcome.backend, workdir, pg,
                         prefix="regie-bench-floor-") as floor_ws:
        say(f"{outcome.name}: anchor storage floor, {args.seconds:g} s")
        outcome.floor = await storage_floor(floor_ws, workload_of(args, args.seed),
                                            seconds=args.seconds,
                                            concurrency=args.concurrency)
    async with Workspace(f"{outcome.name} store", outcome.backend, workdir, pg,
                         prefix="regie-bench-store-") as store_ws:
        say(f"{outcome.name}: the collector's store alone, {args.seconds:g} s")
        outcome.store = await store_alone(store_ws, workload_of(args, args.seed),
                                          seconds=args.seconds, group=args.concurrency)


async def measure(outcome: Outcome, ws: Workspace, args: argparse.Namespace,
                  processes: list[subprocess.Popen]) -> None:
    """Start the scenario's collectors on `ws` (into `processes`), drive them, stop them and
    read the database: the figures go into `outcome`."""
    import aiohttp

    backend, count, here, url = outcome.backend, outcome.collectors, ws.dir, ws.url
    token = (await regie("collector", "token", "create", "--role", "ingest", "--name", "bench",
                         "--db", url, cwd=here, timeout=120))[0].strip()
    if Stop.requested:
        raise Interrupted("interrupted")
    config: list[str] = []
    database: list[str] = []
    if backend == "sqlite" and args.sqlite_synchronous != "FULL":
        database.append(f'sqlite_synchronous = "{args.sqlite_synchronous}"')
    if backend == "postgresql" and args.intake_writers is not None:
        database.append(f"intake_writers = {args.intake_writers}")
    if database:
        settings = here / "collector.toml"
        settings.write_text("[database]\n" + "".join(f"{line}\n" for line in database))
        config = ["--config", str(settings)]
    urls = []
    logs: list[Path] = []
    for i in range(count):
        port = free_port()
        logs.append(here / f"collector-{i}.log")
        processes.append(start_collector("--db", url, "--listen", f"127.0.0.1:{port}",
                                         "--log-level", "info", *config, cwd=here, log=logs[-1]))
        urls.append(f"http://127.0.0.1:{port}")
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for proc, base, log in zip(processes, urls, logs, strict=True):
            await wait_ready(session, f"{base}/healthz", proc, name="collector", log=log)
        endpoints = [f"{u}/api/v1/alertmanager" for u in urls]
        workload = workload_of(args, args.seed)
        say(f"{outcome.name}: {count} collector(s) on {', '.join(urls)}; "
            f"{args.warmup} warm-up requests")
        warm, _ = await drive(session, endpoints, token, workload,
                              concurrency=args.concurrency, requests=args.warmup,
                              seconds=None, rate=args.rate, progress=None)
        if warm.errors:
            say(f"{outcome.name}: warm-up errors {dict(warm.errors)}")
        if Stop.requested:
            raise Interrupted("interrupted")
        if args.analyze and backend == "postgresql":
            await ws.query("ANALYZE")
        pids = [p.pid for p in processes]
        pg, database = ws.pg, ws.database
        server = await pg.server_pids(database) if backend == "postgresql" else []
        before = ([cpu_seconds(p) for p in pids], self_cpu(), process_cpu(server))
        outcome.tally, outcome.seconds = await drive(
            session, endpoints, token, workload, concurrency=args.concurrency,
            requests=args.requests, seconds=None if args.requests else args.seconds,
            rate=args.rate, progress=outcome.name)
        if backend == "postgresql":
            server = sorted(set(server) | set(await pg.server_pids(database)))
        # A process that started in the window counts from 0; one that exited is lost (the
        # collectors keep their pooled connections, so that is at most an autovacuum run).
        after = ([cpu_seconds(p) for p in pids], self_cpu(), process_cpu(server))
        if Stop.requested:
            raise Interrupted("interrupted while measuring")
    wall = outcome.seconds
    outcome.cpu = {
        "collectors": sum(a - b for a, b in zip(after[0], before[0], strict=True)) / wall,
        "client": (after[1] - before[1]) / wall,
        "postgres": sum(cpu - before[2].get(pid, 0.0) for pid, cpu in after[2].items())
        / wall if after[2] else None,
    }
    stop_processes(processes)
    for log in logs:
        text = log.read_text(errors="replace")
        outcome.retries += sum(1 for line in text.splitlines()
                               if "signals again (attempt" in line)
        if any(w in text for w in ("ERROR", "Traceback")):
            outcome.log_tail += f"{log.name}: {text[-800:].strip()}\n"
    outcome.duplicates = len(await ws.query(DUPLICATES_SQL))
    outcome.open_tickets = (await ws.query(
        "SELECT count(*) FROM tickets WHERE status IN ('open', 'acknowledged')"))[0][0]
    outcome.tickets = (await ws.query("SELECT count(*) FROM tickets"))[0][0]
    say(f"{outcome.name}: {outcome.tally.requests} requests in {wall:.1f} s, "
        f"{outcome.alerts_per_s:,.0f} alerts/s, p99 {outcome.percentile(0.99):.1f} ms, "
        f"{outcome.duplicates} duplicate open tickets")


# -- report -------------------------------------------------------------------------------


def filesystem(path: Path) -> str:
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            mount = parts[1]
            if str(path.resolve()).startswith(mount) and len(mount) > len(best):
                best, kind = mount, parts[2]
    return kind


TARGET_AM_RATIO = 0.25      # of Alertmanager's alerts/s, with durable commits
TARGET_FLOOR_RATIO = 0.40   # of the storage floor's alerts/s


def print_ratios(outcomes: list[Outcome]) -> None:
    print("\nThe same workload through the anchors, measured in this run just before each "
          "scenario (ratios are what carry between machines):")
    print(f"{'scenario':14} {'regie a/s':>9} {'AM a/s':>8} {'x AM':>6} {'floor a/s':>9} "
          f"{'of floor':>8} {'regie us/a':>10} {'AM us/a':>7} {'floor us/a':>10}  verdict")
    for o in outcomes:
        if o.skipped:
            continue
        am, floor = o.alertmanager, o.floor
        am_ok = am is not None and not am.skipped and am.alerts_per_s
        floor_ok = floor is not None and not floor.skipped and floor.alerts_per_s
        am_ratio = o.alerts_per_s / am.alerts_per_s if am_ok else None
        floor_ratio = o.alerts_per_s / floor.alerts_per_s if floor_ok else None

        def num(value: float | None, spec: str) -> str:
            return "-" if value is None else format(value, spec)

        missed = [name for name, value, target in (
            ("x AM", am_ratio, TARGET_AM_RATIO), ("floor", floor_ratio, TARGET_FLOOR_RATIO))
            if value is not None and value < target]
        verdict = ("MISSED " + ",".join(missed)) if missed else (
            "met" if am_ratio is not None and floor_ratio is not None else "incomplete")
        print(f"{o.name:14} {o.alerts_per_s:9,.0f} "
              f"{num(am.alerts_per_s if am_ok else None, ',.0f'):>8} "
              f"{num(am_ratio, '.2f'):>6} "
              f"{num(floor.alerts_per_s if floor_ok else None, ',.0f'):>9} "
              f"{num(None if floor_ratio is None else floor_ratio * 100, '.0f') + '%':>8} "
              f"{num(o.collector_us_per_alert(), '.0f'):>10} "
              f"{num(am.server_us_per_alert() if am_ok else None, '.1f'):>7} "
              f"{num(floor.server_us_per_alert() if floor_ok else None, '.1f'):>10}  {verdict}")
        for anchor in (am, floor):
            if anchor is not None and anchor.skipped:
                print(f"{'':14} {anchor.name} skipped: {anchor.skipped}")
    print(f"- targets: >= {TARGET_AM_RATIO:.2f} x Alertmanager's alerts/s (it keeps alerts in "
          f"memory; the collector commits each request durably) and >= "
          f"{TARGET_FLOOR_RATIO:.0%} of the storage floor (the same rows by a minimal batched "
          "insert, one durable transaction per request, no HTTP).")
    print("- us/a: CPU microseconds per alert of the collector processes, of Alertmanager, and "
          "of the floor's writer (SQLite: this process; PostgreSQL: the server's processes).")


def print_store(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    """Where the gap to the anchors lies: the collector's store alone beside the collector
    and the floor."""
    print(f"\nThe collector's store alone (TicketStore, {args.concurrency} requests per "
          "transaction, one at a time, bodies parsed beforehand, no HTTP), measured in this "
          "run:")
    print(f"{'scenario':14} {'regie a/s':>9} {'store a/s':>9} {'store x AM':>10} "
          f"{'of floor':>8} {'store us/a':>10} {'server us/a':>11}")
    for o in outcomes:
        store = o.store
        if o.skipped or store is None:
            continue
        if store.skipped:
            print(f"{o.name:14} store alone skipped: {store.skipped}")
            continue
        am, floor = o.alertmanager, o.floor
        am_ok = am is not None and not am.skipped and am.alerts_per_s
        floor_ok = floor is not None and not floor.skipped and floor.alerts_per_s
        x_am = f"{store.alerts_per_s / am.alerts_per_s:.2f}" if am_ok else "-"
        of_floor = f"{store.alerts_per_s / floor.alerts_per_s:.0%}" if floor_ok else "-"
        server = ("-" if store.server_cores is None
                  else f"{store.server_cores * 1e6 / store.alerts_per_s:.0f}")
        print(f"{o.name:14} {o.alerts_per_s:9,.0f} {store.alerts_per_s:9,.0f} {x_am:>10} "
              f"{of_floor:>8} {store.server_us_per_alert() or 0:10.0f} {server:>11}")
    print("- store a/s is the most the collector could take if receiving and parsing requests "
          "cost nothing: where it is below a target, no work on HTTP or parsing reaches it. "
          "store us/a: CPU of this process (the store's Python; on SQLite also SQLite's own "
          "work) per alert; server us/a: PostgreSQL's processes. On PostgreSQL the collector "
          "runs several such transactions at once (database.intake_writers), so there the "
          "store's figure is lower than the collector could reach.")


def print_report(outcomes: list[Outcome], args: argparse.Namespace, versions: dict[str, str],
                 elapsed: float) -> None:
    mode = (f"closed loop, {args.concurrency} requests in flight" if args.rate is None
            else f"open loop at {args.rate:,.0f} alerts/s, at most {args.concurrency} in "
                 f"flight")
    span = f"{args.requests} requests" if args.requests else f"{args.seconds:g} s"
    print(f"\nCollector ingest benchmark: Alertmanager webhook v4 over loopback, {mode}; "
          f"{args.batch} alerts per request ({args.repeat:.0%} repeats, {args.resolve:.0%} "
          f"resolves, the rest new; {args.race:.0%} of new ones raced); {args.warmup} "
          f"warm-up requests, then {span} per scenario.")
    print_machine(versions)
    print(f"SQLite file on {filesystem(args.dir)} ({args.dir}), "
          f"synchronous={args.sqlite_synchronous}; PostgreSQL "
          f"{'ANALYZEd after the warm-up' if args.analyze else 'not ANALYZEd (fresh database)'}"
          f"; intake_writers={args.intake_writers or 'default'}\n")
    head = (f"{'scenario':14} {'alerts/s':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'max ms':>7} {'errors':>6} {'dup open':>8}  {'target':22} verdict")
    print_head(head)
    for o in outcomes:
        target = o.throughput_target()
        wanted = (f">={target:,.0f} alerts/s, " if target else "") + f"p99<={TARGET_P99_MS:.0f}"
        if o.skipped:
            print(f"{o.name:14} {'-':>9} {'-':>7} {'-':>7} {'-':>7} {'-':>7} {'-':>6} "
                  f"{'-':>8}  {wanted:22} skipped")
            continue
        errors = sum(o.tally.errors.values())
        print(f"{o.name:14} {o.alerts_per_s:9,.0f} {o.requests_per_s:7.1f} "
              f"{o.percentile(0.5):7.1f} {o.percentile(0.99):7.1f} {o.percentile(1.0):7.1f} "
              f"{errors:6d} {o.duplicates if o.duplicates is not None else '?':>8}  "
              f"{wanted:22} {o.verdict()}")
    print("\nWhere the CPU went during the measured window (cores; this machine has "
          f"{os.cpu_count()}), and what the database holds afterwards:")
    print(f"{'scenario':14} {'collectors':>10} {'client':>7} {'postgres':>8} "
          f"{'retried':>7} {'tickets':>8} {'open':>8}  results")
    for o in outcomes:
        if o.skipped:
            print(f"{o.name:14} skipped: {o.skipped}")
            continue
        pg = o.cpu.get("postgres")
        pg_text = "-" if o.backend == "sqlite" or pg is None else f"{pg:.2f}"
        results = ", ".join(f"{k} {v:,}" for k, v in sorted(o.tally.results.items()))
        print(f"{o.name:14} {o.cpu['collectors']:10.2f} {o.cpu['client']:7.2f} "
              f"{pg_text:>8} {o.retries:7d} {o.tickets or 0:8,} {o.open_tickets or 0:8,}"
              f"  {results}")
        if o.tally.errors:
            print(f"{'':14} errors: {dict(o.tally.errors)}")
        if o.log_tail:
            print("\n".join(f"{'':14} {line}" for line in o.log_tail.splitlines()[-6:]))
    if any(o.alertmanager or o.floor for o in outcomes):
        print_ratios(outcomes)
    if any(o.store for o in outcomes):
        print_store(outcomes, args)
    print("\nNotes:")
    print("- Anchors: Alertmanager itself degrades near 50 single-alert POST/s in reported "
          "setups; PagerDuty's Events API accepts about 120 events/min (2/s) per "
          "integration key.")
    if args.rate is None:
        print(f"- Closed loop: latency includes queueing behind the other "
              f"{args.concurrency - 1} requests in flight; mean latency = concurrency / "
              "req/s (Little's law), so p99 <= 50 ms under saturation needs more than "
              f"{args.concurrency / TARGET_P99_MS * 1000:.0f} req/s. --rate measures latency "
              "at a given load.")
    print("- retried: batches applied again (warm-up included) because a concurrent "
          "transaction opened one of their tickets first, or a deadlock; dup open: dedup keys "
          "with more than one open/acknowledged ticket (must be 0).")
    print("- SQLite with two collectors is not a supported scale path (one writer at a time "
          "across processes); it is measured to show what happens.")
    print(f"\nTotal run time {elapsed:.0f} s.")


async def amain(args: argparse.Namespace) -> int:
    keys = args.scenarios
    versions = versions_of("Python", "SQLite", "aiohttp", "SQLAlchemy", "asyncpg")
    pg, pg_reason = None, ""
    if any(SCENARIOS[k][0] == "postgresql" for k in keys):
        pg, pg_reason = await reach(args.pg_url, versions)
    main_task = asyncio.current_task()

    def interrupt() -> None:
        if Stop.requested:
            main_task.cancel()
            return
        Stop.requested = True
        say("stopping: finishing the requests in flight, then cleaning up (again to abort)")

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, interrupt)
    started = time.monotonic()
    outcomes = []
    for key in keys:
        if Stop.requested:
            break
        outcomes.append(await scenario(key, args, args.dir, pg, pg_reason))
    print_report(outcomes, args, versions, time.monotonic() - started)
    return 130 if Stop.requested else 0


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_selection(parser, "--scenarios", list(SCENARIOS), what="scenario", dest="scenarios")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measured seconds per scenario (default 20)")
    parser.add_argument("--requests", type=int, help="measured requests per scenario "
                        "(instead of --seconds)")
    parser.add_argument("--warmup", type=int, default=40,
                        help="requests before measuring (default 40)")
    parser.add_argument("--batch", type=int, default=100, help="alerts per request (100)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="requests in flight at most (default 8)")
    parser.add_argument("--repeat", type=fraction, default=0.5,
                        help="share of alerts that repeat a firing one (default 0.5)")
    parser.add_argument("--resolve", type=fraction, default=0.05,
                        help="share of alerts that resolve a firing one (default 0.05)")
    parser.add_argument("--race", type=fraction, default=0.0,
                        help="share of new alerts sent again at once in the next request (to "
                             "the other collector when there are two), as an Alertmanager HA "
                             "pair does (default 0)")
    parser.add_argument("--rate", type=float, metavar="ALERTS_PER_S",
                        help="open loop at this rate instead of as fast as answered")
    parser.add_argument("--hosts", type=int, default=500, help="hosts alerts come from (500)")
    parser.add_argument("--seed", type=int, default=1, help="workload random seed (1)")
    add_database_options(parser, files="the SQLite files and logs")
    parser.add_argument("--sqlite-synchronous", choices=["FULL", "NORMAL"], default="FULL",
                        help="the collector's database.sqlite_synchronous (default FULL, "
                             "the collector's default)")
    parser.add_argument("--intake-writers", type=int, metavar="N",
                        help="the collector's database.intake_writers on PostgreSQL (default: "
                             "the collector's default)")
    parser.add_argument("--analyze", action="store_true",
                        help="ANALYZE the PostgreSQL database after the warm-up, as autovacuum "
                             "does within a minute in a running deployment (default: not, as "
                             "on a new database or in an alert storm)")
    parser.add_argument("--no-anchors", dest="anchors", action="store_false",
                        help="skip Alertmanager, the storage floor and the store alone "
                             "(measured by default, before each scenario, for --seconds "
                             "each)")
    parser.add_argument("--keep", action="store_true",
                        help="keep each scenario's directory (database, collector logs)")
    args = parser.parse_args()
    if args.repeat + args.resolve > 1:
        parser.error("--repeat and --resolve add up to more than 1")
    if args.batch < 1 or args.concurrency < 1:
        parser.error("--batch and --concurrency must be at least 1")
    try:
        return asyncio.run(amain(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("aborted")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
