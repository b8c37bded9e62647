"""Patch lag at fleet scale, and what the update history adds to each inventory push.

    python bench/patch_lag.py [--hosts 10000] [--days 90] [--packages 2000]
                              [--push-hosts 20] [--push-days 15] [--seed 1]
                              [--backend sqlite|postgresql|both]

1. report: a fresh database holds the update history of --hosts hosts over --days days of
   daily inventory pushes, and the patch changes of that period; the lag report
   (`collector.patching.report`, what `regie patch lag` and GET /api/v1/patch/lag run) is
   timed by month, by host and by change, beside the floor: the plain SQL aggregation of the
   same installed updates (count, mean and max of installed - first seen, grouped by month
   and security) in one statement. Target: <= 5 s.

   The history is written with the store's bulk insert, not through 900,000 HTTP pushes: each
   row is what the pushes would have recorded (first seen = the day the update was first
   offered; installed = the first daily push after the host installed it). Churn: about
   1.3 updates released per day fleet-wide (a third from the security archive), each for
   the ~70% of hosts that have the package; hosts patch as fleets do: 40% install security
   updates the next day (unattended-upgrades) and the rest at their monthly window, 45%
   only at their monthly patch window (a patch change, a few days either side), 10% weekly,
   5% not at all in the period. Patch changes: one per month for the monthly hosts (every
   security update pending at its start, no version named) and two emergency changes naming
   a version, on every host.

2. push: what the history adds to ingesting an inventory push. The push path as the handler
   runs it, in this process (the JSON body decoded and checked, the document's observations
   matched against end-of-support data, the push stored and the host's matched software
   replaced in one transaction), with and without the history step, on two fresh databases,
   for --push-hosts hosts over --push-days daily pushes (--packages packages each, a
   realistic number pending: 5-40, some installed and new ones offered every day), the two
   interleaved push by push. HTTP (aiohttp's request handling)
   is left out of both, so the added share is, if anything, overstated. Target: <= 10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from databases import BACKENDS, Workspace, chosen_backends, reach
from machine import print_machine, versions_of
from options import add_database_options
from progress import say
from tables import print_head

CHUNK = 10_000
NOW = datetime(2026, 12, 1, tzinfo=UTC)


# -- the fleet's history -------------------------------------------------------------------


def releases(rng: random.Random, days: int, packages: int) -> list[tuple[int, str, str, bool]]:
    """(day, package, version, security): the updates the archive publishes."""
    out = []
    for day in range(days):
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
            name = f"pkg{rng.randrange(packages):04d}"
            security = rng.random() < 0.33
            out.append((day, name, f"1.{day}.{rng.randrange(100)}-1+deb12u{day}", security))
    return out


def behaviour(rng: random.Random) -> str:
    draw = rng.random()
    return ("unattended" if draw < 0.40 else "monthly" if draw < 0.85
            else "weekly" if draw < 0.95 else "laggard")


def windows(days: int) -> list[int]:
    """The monthly patch windows' days."""
    return list(range(12, days, 30))


def install_day(kind: str, window_jitter: int, weekday: int, day: int, security: bool,
                month_windows: list[int]) -> int | None:
    if kind == "laggard":
        return None
    if kind == "unattended" and security:
        return day + 1
    if kind == "weekly":
        return day + ((weekday - day) % 7 or 7)
    for window in month_windows:   # unattended's other updates, and the monthly hosts
        if window > day:
            return window + window_jitter
    return None


def history(args, rng: random.Random, start: datetime):
    """The rows, host by host, and the patch changes' (type, hosts, packages, planned)."""
    released = releases(rng, args.days, args.packages)
    month_windows = windows(args.days)
    emergency_days = (args.days // 3, 2 * args.days // 3)
    emergencies = [(d, f"openssl{i}", f"3.0.{d}-1~deb12u1") for i, d in
                   enumerate(emergency_days)]
    urgent = {(n, v) for _, n, v in emergencies}
    monthly_hosts: list[str] = []
    everyone: list[str] = []
    rows: list[dict] = []
    for index in range(args.hosts):
        host = f"host-{index:05d}"
        everyone.append(host)
        kind = behaviour(rng)
        if kind == "monthly":
            monthly_hosts.append(host)
        jitter, weekday = rng.randint(-1, 5), rng.randrange(7)
        offered = [(d, n, v, s) for d, n, v, s in released if rng.random() < 0.7]
        offered += [(d, n, v, True) for d, n, v in emergencies]
        for day, name, version, security in offered:
            if (name, version) in urgent:
                done = None if kind == "laggard" else day + rng.randint(0, 3)
            else:
                done = install_day(kind, jitter, weekday, day, security, month_windows)
            installed = None if done is None or done >= args.days else start + timedelta(
                days=done, hours=6)
            rows.append({"host": host, "manager": "apt", "package": name,
                         "architecture": "amd64", "version": version, "security": security,
                         "first_seen_at": start + timedelta(days=day, hours=6),
                         "installed_at": installed,
                         "installed_version": version if installed else None,
                         "exposure_seconds": (done - day) * 86400.0 if installed else None,
                         "withdrawn_at": None})
    changes = []
    for window in month_windows:
        # The month's five most common security updates, named (a patch change lists its
        # packages; "everything pending" is the hosts' own unattended or weekly runs).
        names = sorted({n for d, n, _, s in released if s and window - 30 <= d < window})
        changes.append(("normal", monthly_hosts, [(n, None) for n in names[:5]],
                        start + timedelta(days=window)))
    for day, name, version in emergencies:
        changes.append(("emergency", everyone, [(name, version)], start + timedelta(days=day)))
    return rows, changes


async def fill(url: str, args) -> int:
    from sqlalchemy import insert

    from alerting.changes import ChangeType
    from collector.store.changes import NewChange, Package, insert_change
    from collector.store.engine import create_engine, database_url
    from collector.store.patches import UPDATES

    rng = random.Random(args.seed)
    start = NOW - timedelta(days=args.days)
    rows, changes = history(args, rng, start)
    engine = create_engine(database_url(url))
    try:
        for first in range(0, len(rows), CHUNK):
            async with engine.begin() as connection:
                await connection.execute(insert(UPDATES), rows[first:first + CHUNK])
        for type_, hosts, packages, planned in changes:
            await insert_change(engine, NewChange(
                type=ChangeType(type_), summary="patch window", author="bench",
                host_patterns=("*",), hosts=tuple(hosts), services=(),
                planned_start=planned, planned_end=planned + timedelta(hours=4),
                timezone="UTC", packages=tuple(Package(n, v) for n, v in packages), risk={}),
                planned - timedelta(days=2))
        async with engine.begin() as connection:   # the planner's statistics, as in service
            await connection.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return len(rows)


FLOOR = {
    "sqlite": ("SELECT substr(installed_at, 1, 7), security, count(*), "
               "avg(exposure_seconds), max(exposure_seconds) "
               "FROM package_updates WHERE installed_at >= :since AND installed_at < :now "
               "GROUP BY 1, 2"),
    "postgresql": ("SELECT to_char(installed_at AT TIME ZONE 'UTC', 'YYYY-MM'), security, "
                   "count(*), avg(exposure_seconds), max(exposure_seconds) "
                   "FROM package_updates WHERE installed_at >= :since AND installed_at < :now "
                   "GROUP BY 1, 2"),
}


async def measure_report(url: str, args, rounds: int = 3) -> dict[str, float]:
    from sqlalchemy import text

    from collector.patching import report
    from collector.store.engine import create_engine, database_url

    engine = create_engine(database_url(url))
    since = NOW - timedelta(days=args.days)
    times: dict[str, float] = {}
    try:
        for _ in range(rounds):
            begun = time.perf_counter()
            async with engine.connect() as connection:
                groups = (await connection.execute(
                    text(FLOOR[engine.dialect.name]),
                    {"since": _bind(engine, since), "now": _bind(engine, NOW)})).all()
            spent = time.perf_counter() - begun
            times["floor"] = min(times.get("floor", spent), spent)
            for by in ("month", "host", "change"):
                begun = time.perf_counter()
                found = await report(engine, since=since, now=NOW, by=by)
                spent = time.perf_counter() - begun
                times[by] = min(times.get(by, spent), spent)
        say(f"floor groups {len(groups)}; report: {len(found.changes)} changes, "
            f"{sum(g.figures.count for g in found.exposure)} updates in exposure, "
            f"{sum(g.applied.count for g in found.lag)} host lags")
    finally:
        await engine.dispose()
    return times


def _bind(engine, moment: datetime):
    # The stored form of a time: SQLite's text, PostgreSQL's timestamptz.
    if engine.dialect.name == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment


# -- the push path ------------------------------------------------------------------------


def base_packages(count: int, rng: random.Random) -> dict[str, str]:
    """This machine's dpkg packages (names and versions), padded with generated ones."""
    import subprocess

    found: dict[str, str] = {}
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\n"],
                             capture_output=True, text=True, timeout=60, check=False).stdout
        for line in out.splitlines():
            name, _, version = line.partition("\t")
            if name and version:
                found[name] = version
    except FileNotFoundError:
        pass
    names = sorted(found)[:count]
    packages = {n: found[n] for n in names}
    while len(packages) < count:
        packages[f"lib{len(packages):04d}-extra"] = f"{rng.randrange(1, 9)}.{rng.randrange(30)}-1"
    return packages


class PushingHost:
    """One host's daily documents: packages installed, updates offered and applied."""

    def __init__(self, name: str, packages: dict[str, str], rng: random.Random) -> None:
        self.name = name
        self.installed = dict(packages)
        self.offered: dict[str, tuple[str, bool]] = {}
        self.rng = rng
        for package in rng.sample(sorted(packages), rng.randint(5, 40)):
            self.offer(package)

    def offer(self, package: str) -> None:
        self.offered[package] = (self.installed[package] + "+b1", self.rng.random() < 0.3)

    def day(self, day: int) -> dict:
        for package in [p for p in self.offered if self.rng.random() < 0.15]:
            self.installed[package] = self.offered.pop(package)[0]    # installed
        for package in self.rng.sample(sorted(self.installed), self.rng.randint(0, 3)):
            if package not in self.offered:
                self.offer(package)
        at = NOW - timedelta(days=30 - day)
        return {
            "schema": "regie.inventory/v1", "collected_at": at.isoformat(),
            "host": {"hostname": self.name},
            "os": {"ID": "debian", "VERSION_ID": "12"},
            "packages": [{"manager": "dpkg", "name": n, "version": v, "architecture": "amd64"}
                         for n, v in self.installed.items()],
            "updates": [{"manager": "apt", "package": n, "architecture": "amd64",
                         "current_version": self.installed[n], "version": v,
                         "origin": "Debian-Security:12/stable-security" if s else "Debian:12",
                         "security": s, "advisories": []} for n, (v, s) in self.offered.items()],
            "observations": [{"source": "os-release", "raw": {"ID": "debian",
                                                               "VERSION_ID": "12"}}]
            + [{"source": "dpkg", "raw": {"package": n, "version": v, "architecture": "amd64"}}
               for n, v in self.installed.items()],
            "errors": []}


async def measure_push(urls: dict[str, str], args) -> dict[str, list[float]]:
    """Seconds per push with and without the history step, interleaved."""
    from collector.payloads.inventory import parse_inventory
    from collector.registry import Registry
    from collector.store.engine import create_engine, database_url
    from collector.store.inventory import InventoryStore
    from collector.store.patches import record_push
    from collector.store.registry import RegistryStore

    rng = random.Random(args.seed)
    packages = base_packages(args.packages, rng)
    hosts = [PushingHost(f"push-{i:03d}", packages, random.Random(args.seed + i))
             for i in range(args.push_hosts)]
    engines = {k: create_engine(database_url(u)) for k, u in urls.items()}
    times: dict[str, list[float]] = {k: [] for k in urls}
    try:
        registries = {}
        for variant, engine in engines.items():
            registries[variant] = Registry(RegistryStore(engine), clock=lambda: NOW)
            await registries[variant].load()
        for day in range(args.push_days):
            for host in hosts:
                # As the agent sends it: the handler decodes and checks the body first.
                body = json.dumps({"idempotency_key": f"{host.name}-{day}",
                                   "document": host.day(day)})
                order = ["without", "with"] if (day + hash(host.name)) % 2 else ["with",
                                                                                   "without"]
                for variant in order:
                    registry = registries[variant]
                    store = InventoryStore(engines[variant])
                    begun = time.perf_counter()
                    push = parse_inventory(json.loads(body), header_key=None)
                    document = push.document
                    rows, _asset = registry.match(host.name, document, NOW)

                    async def also(connection, variant=variant, registry=registry,
                                   rows=rows, host=host, document=document) -> None:
                        await registry.store.replace_host_software(connection, host.name, rows)
                        if variant == "with":
                            await record_push(connection, host.name, document, NOW)

                    await store.store(host.name, push.idempotency_key, document, NOW,
                                      also=also)
                    times[variant].append(time.perf_counter() - begun)
            say(f"push day {day + 1}/{args.push_days}")
    finally:
        for engine in engines.values():
            await engine.dispose()
    return times


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--packages", type=int, default=2_000)
    parser.add_argument("--push-hosts", type=int, default=20)
    parser.add_argument("--push-days", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parts", default="report,push")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    add_database_options(parser, files="the databases")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    versions = versions_of("Python", "SQLite", "SQLAlchemy", "asyncpg")
    pg, reason = (None, "")
    if "postgresql" in chosen_backends(args.backend):
        pg, reason = await reach(args.pg_url, versions)
    print_machine(versions)
    for backend in chosen_backends(args.backend):
        if backend == "postgresql" and pg is None:
            print(f"\n{backend}: skipped ({reason})")
            continue
        if "report" in parts:
            async with Workspace(f"patch-lag-{backend}", backend, args.dir, pg,
                                 prefix="regie-bench-patch-") as space:
                say(f"{backend}: writing the history of {args.hosts} hosts")
                count = await fill(space.url, args)
                times = await measure_report(space.url, args)
            print(f"\n{backend}: lag report, {args.hosts} hosts x {args.days} days, "
                  f"{count} history rows (best of 3, s; target <= 5 s)")
            print_head(f"{'':44} {'seconds':>8} {'x floor':>8}")
            floor = times["floor"]
            for by in ("month", "host", "change"):
                print(f"{'regie patch lag --by ' + by:44} {times[by]:8.2f} "
                      f"{times[by] / floor:8.1f}")
            print(f"{'floor: one SQL GROUP BY (month, security)':44} {floor:8.2f} {1:8.1f}")
        if "push" in parts:
            async with Workspace(f"push-without-{backend}", backend, args.dir, pg,
                                 prefix="regie-bench-patch-") as without, \
                    Workspace(f"push-with-{backend}", backend, args.dir, pg,
                              prefix="regie-bench-patch-") as with_:
                times = await measure_push({"without": without.url, "with": with_.url}, args)
            print(f"\n{backend}: one inventory push, {args.packages} packages, "
                  f"{len(times['with'])} pushes each (ms; target <= +10 %)")
            print_head(f"{'':44} {'median':>8} {'mean':>8}")
            for variant in ("without", "with"):
                print(f"{'push path ' + variant + ' the history':44} "
                      f"{statistics.median(times[variant]) * 1e3:8.2f} "
                      f"{statistics.fmean(times[variant]) * 1e3:8.2f}")
            # Paired: each document pushed both ways back to back, so load on the machine
            # moves both of a pair alike; the median of the differences over the median
            # push without.
            added = statistics.median(w - o for w, o in zip(times["with"], times["without"],
                                                            strict=True))
            print(f"{'added by the history (median of pairs)':44} {added * 1e3:8.2f} "
                  f"{added / statistics.median(times['without']) * 100:7.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
