"""`regie demo --history 90d`: a realistic, reproducible history for the demo, made through
the collector's public API with an injected clock, and the governance review written for it.

Nothing is written into the tables directly: the real collector application (the same
make_app, stores, intake, escalation sweep and notification delivery as `regie collector run`)
serves on a loopback port inside this process, and the history is a sequence of HTTP calls
made at simulated instants: inventory pushes (about 50 hosts, Debian and Ubuntu releases of
every age, some past or near end of support, Dell and HPE hardware), monitoring alerts through
the Events API with a daily and weekly rhythm (busier on weekdays and in working hours) and
one component that keeps failing, user reports, acknowledgements and resolutions after
plausible delays. The escalation sweep runs at each instant, so unacknowledged P1s climb to
the escalation manager and acknowledgements expire as they would; the pages it sends go to the
demo's notification file. Same seed and same end day, same history.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from regie.progress import Progress

# Loggers whose INFO lines the history's play keeps quiet (WARNING and worse still show).
_CHATTY = ("aiohttp.access", "regie.collector", "regie.collector.tickets",
           "regie.collector.notify", "regie.collector.registry")

# (name prefix, count, (os id, version), (vendor, model)): ~50 hosts of mixed age.
FLEET = (
    ("web", 12, ("debian", "12"), ("Dell Inc.", "PowerEdge R650")),
    ("app", 10, ("ubuntu", "22.04"), ("Dell Inc.", "PowerEdge R650")),
    ("db", 6, ("debian", "11"), ("Dell Inc.", "PowerEdge R730")),
    ("cache", 4, ("ubuntu", "24.04"), ("HPE", "ProLiant DL380 Gen10")),
    ("batch", 6, ("ubuntu", "20.04"), ("HPE", "ProLiant DL380 Gen10")),
    ("legacy", 3, ("debian", "10"), ("Dell Inc.", "PowerEdge R730")),
    ("ci", 5, ("debian", "12"), ("HPE", "ProLiant DL380 Gen10")),
    ("edge", 4, ("ubuntu", "24.04"), ("Dell Inc.", "PowerEdge R650")),
)
# Components and how often each fails (relative); storage keeps failing.
COMPONENTS = (("storage", 9), ("disk", 3), ("memory", 2), ("nginx", 3), ("postgres", 2),
              ("dns", 1), ("backup", 2), ("certificates", 1), ("network", 2))
# Events API severity -> how often (a medium-criticality host: critical is P2, warning P3).
SEVERITIES = (("critical", 3), ("error", 2), ("warning", 4), ("info", 1))
# Alerts a day on a weekday and on a weekend day (means).
WEEKDAY_ALERTS, WEEKEND_ALERTS = 6.0, 2.5
USER_REPORTS_PER_WEEKDAY = 1.2
# Security patching: a new openssl every PATCH_CYCLE_DAYS (offered to every host the day it
# is released); these groups are patched by a standard change PATCH_WINDOW_DAYS later, the
# others outside any change, whenever their owners get to it.
PATCH_CYCLE_DAYS, PATCH_WINDOW_DAYS = 14, 4
PATCHED_BY_CHANGE = ("web", "app", "cache", "edge")
# Share of a patch change's hosts installed days or weeks after the window (the team fell
# behind), and how late (days, uniform).
LATE_SHARE, LATE_DAYS = 0.25, (3.0, 24.0)
# Vendor cases (at this share of the history: vendor, case, summary, host, still open).
VENDOR_CASES = (
    (0.15, "Dell", "SR-1048213", "PERC H730 controller resets under load", "db-02", True),
    (0.45, "HPE", "5371902284", "DL380 fan module reports failure", "batch-03", False),
    (0.8, "Canonical", "00384217", "kernel soft lockups on 24.04", "cache-02", True),
)
# Minutes to acknowledge (median) per priority; resolution hours (median).
ACK_MINUTES = {"P1": 5, "P2": 8, "P3": 45, "P4": 180}
FIX_HOURS = {"P1": 0.75, "P2": 1.5, "P3": 2.5, "P4": 12}


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    action: Callable[[], Any] = field(compare=False)


def parse_days(text: str) -> int:
    """"90d" -> 90 (1 to 366 days)."""
    value = text.strip().lower().removesuffix("d")
    if not value.isdigit() or not 1 <= int(value) <= 366:
        raise ValueError(f"{text!r} is not a history length such as 90d (1d to 366d)")
    return int(value)


def hosts() -> list[tuple[str, tuple[str, str], tuple[str, str]]]:
    return [(f"{prefix}-{n:02d}", os_, hardware)
            for prefix, count, os_, hardware in FLEET for n in range(1, count + 1)]


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], [w for _, w in table])[0]


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count


def _moment_of_day(rng: random.Random, day: datetime, *, working: bool) -> datetime:
    """A time of day, most in working hours (alerts: also at night, less often)."""
    hour = rng.uniform(8, 18) if working or rng.random() < 0.65 else rng.uniform(0, 24)
    return day + timedelta(hours=hour)


def _delay(rng: random.Random, median: float) -> float:
    return median * rng.lognormvariate(0, 0.6)


class History:
    """The calls to make, in time order, against a running collector."""

    def __init__(self, call: Callable[..., Any], *, seed: int, start: datetime, days: int,
                 token: str) -> None:
        self.call = call
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible simulation, no secret)
        self.start, self.days, self.token = start, days, token
        self.queue: list[Step] = []
        self.order = 0
        self.counts: dict[str, int] = {"alerts": 0, "user_reports": 0, "changes": 0,
                                       "vendor_cases": 0}
        # Changes, patches and vendor cases draw from their own sequence: the alerts and
        # reports of a seed stay what they were before these joined the history.
        self.work_rng = random.Random(f"{seed}-work")  # noqa: S311 (as above)
        self.installed = {host: 0 for host, _, _ in hosts()}   # openssl release per host

    def at(self, moment: datetime, action: Callable[[], Any]) -> None:
        self.order += 1
        heapq.heappush(self.queue, Step(moment, self.order, action))

    def plan(self) -> None:
        rng = self.rng
        fleet = hosts()
        for day_number in range(self.days):
            day = self.start + timedelta(days=day_number)
            weekday = day.weekday() < 5
            for _ in range(_poisson(rng, WEEKDAY_ALERTS if weekday else WEEKEND_ALERTS)):
                host = rng.choice(fleet)[0]
                component = _weighted(rng, COMPONENTS)
                self._alert(_moment_of_day(rng, day, working=False), host, component,
                            _weighted(rng, SEVERITIES))
            if weekday:
                for _ in range(_poisson(rng, USER_REPORTS_PER_WEEKDAY)):
                    self._report(_moment_of_day(rng, day, working=True), rng.choice(fleet)[0])
        for cycle in range(1, (self.days - 1) // PATCH_CYCLE_DAYS + 2):
            released = self.start + timedelta(days=1 + (cycle - 1) * PATCH_CYCLE_DAYS, hours=9)
            if released < self.start + timedelta(days=self.days):
                self._patch_cycle(cycle, released)
        self._rolled_back_change(self.start + timedelta(days=self.days * 0.45, hours=21))
        for share, vendor, number, summary, host, still_open in VENDOR_CASES:
            self._vendor_case(self.start + timedelta(days=self.days * share, hours=10),
                              vendor, number, summary, host, still_open)

    def _alert(self, moment: datetime, host: str, component: str, severity: str) -> None:
        key = f"{host}/{component}/{moment.timestamp():.0f}"
        priority = {"critical": "P2", "error": "P3", "warning": "P3", "info": "P4"}[severity]
        self.counts["alerts"] += 1

        async def trigger() -> None:
            await self.call("POST", "/api/v1/events", body={
                "routing_key": self.token, "event_action": "trigger", "dedup_key": key,
                "payload": {"summary": f"{component} problem on {host}", "source": host,
                            "severity": severity, "component": component}})

        async def act(action: str) -> None:
            await self.call("POST", "/api/v1/events", body={
                "routing_key": self.token, "event_action": action, "dedup_key": key})

        acked = moment + timedelta(minutes=_delay(self.rng, ACK_MINUTES[priority]))
        fixed = acked + timedelta(hours=_delay(self.rng, FIX_HOURS[priority]))
        self.at(moment, trigger)
        self.at(acked, lambda: act("acknowledge"))
        self.at(fixed, lambda: act("resolve"))

    def _report(self, moment: datetime, host: str) -> None:
        rng = self.rng
        impact = rng.choices(["business-critical", "high", "medium", "low"], [1, 3, 4, 2])[0]
        urgency = rng.choices(["high", "medium", "low"], [2, 3, 2])[0]
        what = rng.choice(["cannot log in to", "slow responses from", "errors from",
                           "no answer from"])
        component = rng.choice(["portal", "reporting", "mail", "storage", "vpn"])
        ack = _delay(rng, 8 if impact == "business-critical" else 40)
        # Some P1s are missed for a while: the escalation climbs to the escalation manager.
        if impact == "business-critical" and rng.random() < 0.3:
            ack = rng.uniform(16, 30)
        fix = _delay(rng, 0.75 if impact == "business-critical" else 6)
        self.counts["user_reports"] += 1
        ticket: dict[str, int] = {}

        async def open_() -> None:
            body = await self.call("POST", "/api/v1/tickets", body={
                "summary": f"{what} {component}", "host": host, "component": component,
                "impact": impact, "urgency": urgency, "reporter": "service-desk"})
            ticket["id"] = body["id"]

        async def move(action: str) -> None:
            await self.call("POST", f"/api/v1/tickets/{ticket['id']}/{action}", body={})

        self.at(moment, open_)
        self.at(moment + timedelta(minutes=ack), lambda: move("ack"))
        self.at(moment + timedelta(minutes=ack, hours=fix), lambda: move("resolve"))


    # -- patching, changes, vendor cases ------------------------------------------------

    def _push(self, moment: datetime, host: str, os_: tuple[str, str],
              hardware: tuple[str, str], *, offered: int = 0, installs: int = 0) -> None:
        """An inventory push at `moment`: openssl as installed by then (`installs`: that
        release is installed just before), and release `offered` pending as a security
        update unless that is installed already."""
        async def push() -> None:
            self.installed[host] = max(self.installed[host], installs)
            await self.call("POST", "/api/v1/inventory", body={
                "idempotency_key": f"demo-history-{host}-{moment.isoformat()}",
                "document": inventory(host, os_, hardware, moment,
                                      installed=self.installed[host], offered=offered)})

        self.at(moment, push)

    def _patch_cycle(self, cycle: int, released: datetime) -> None:
        """openssl release `cycle`: offered to every host at `released`; a standard change
        patches PATCHED_BY_CHANGE in a window PATCH_WINDOW_DAYS later (most hosts in it,
        some late); the other hosts install it days or weeks later, outside any change."""
        rng = self.work_rng
        fleet = hosts()
        for host, os_, hardware in fleet:
            self._push(released + timedelta(minutes=rng.uniform(0, 50)), host, os_, hardware,
                       offered=cycle)
        window = released.replace(hour=21) + timedelta(days=PATCH_WINDOW_DAYS)
        groups = [host for host, _, _ in fleet if host.split("-")[0] in PATCHED_BY_CHANGE]
        self.counts["changes"] += 1
        change: dict[str, int] = {}

        async def plan() -> None:
            body = await self.call("POST", "/api/v1/changes", body={
                "type": "standard", "summary": f"Security patching {cycle}: openssl",
                "hosts": [f"{group}-*" for group in PATCHED_BY_CHANGE],
                "services": ["web", "api"], "packages": [{"name": "openssl", "version": None}],
                "planned_start": window.isoformat(),
                "planned_end": (window + timedelta(hours=3)).isoformat(), "timezone": "UTC",
                "risk_assessment": "Library update; services restart one host at a time.",
                "implementation_plan": "unattended-upgrades run per host, then restarts.",
                "rollback_plan": "Reinstall the previous openssl from the local mirror."})
            change["id"] = body["id"]
            await self.call("POST", f"/api/v1/changes/{change['id']}/submit", body={})

        async def move(action: str, body: dict[str, Any]) -> None:
            await self.call("POST", f"/api/v1/changes/{change['id']}/{action}", body=body)

        self.at(released + timedelta(hours=2), plan)
        self.at(window, lambda: move("start", {}))
        self.at(window + timedelta(hours=3), lambda: move("complete",
                                                           {"outcome": "successful"}))
        for host, os_, hardware in fleet:
            if host in groups:
                late = rng.random() < LATE_SHARE
                at = window + (timedelta(days=rng.uniform(*LATE_DAYS)) if late
                               else timedelta(minutes=rng.uniform(10, 170)))
            else:
                at = released + timedelta(days=rng.uniform(2, 30))
            self._push(at, host, os_, hardware, installs=cycle)

    def _rolled_back_change(self, moment: datetime) -> None:
        """An emergency kernel upgrade on db-03 that a user's report during its window
        rolls back: a change that caused an incident."""
        self.counts["changes"] += 1
        change: dict[str, int] = {}

        async def start() -> None:
            body = await self.call("POST", "/api/v1/changes", body={
                "type": "emergency", "summary": "Kernel upgrade on db-03 (storage driver fix)",
                "hosts": ["db-03"], "services": ["postgres"],
                "planned_start": moment.isoformat(),
                "planned_end": (moment + timedelta(hours=2)).isoformat(), "timezone": "UTC",
                "risk_assessment": "Reboot of a database replica.",
                "rollback_plan": "Boot the previous kernel from GRUB."})
            change["id"] = body["id"]
            await self.call("POST", f"/api/v1/changes/{change['id']}/submit", body={})
            await self.call("POST", f"/api/v1/changes/{change['id']}/start", body={})

        async def report() -> None:
            await self.call("POST", "/api/v1/tickets", body={
                "summary": "reporting database unreachable", "host": "db-03",
                "component": "postgres", "impact": "high", "urgency": "high",
                "reporter": "service-desk"})

        async def roll_back() -> None:
            await self.call("POST", f"/api/v1/changes/{change['id']}/complete", body={
                "outcome": "rolled_back", "reason": "replica did not rejoin after reboot"})

        self.at(moment, start)
        self.at(moment + timedelta(minutes=40), report)
        self.at(moment + timedelta(minutes=95), roll_back)

    def _vendor_case(self, moment: datetime, vendor: str, number: str, summary: str,
                     host: str, still_open: bool) -> None:
        self.counts["vendor_cases"] += 1
        case: dict[str, int] = {}

        async def open_() -> None:
            body = await self.call("POST", "/api/v1/vendor-cases", body={
                "vendor": vendor, "case_number": number, "summary": summary, "hosts": [host],
                "severity": "high", "follow_up_days": 3, "note": "logs uploaded"})
            case["id"] = body["id"]

        async def update(body: dict[str, Any]) -> None:
            await self.call("POST", f"/api/v1/vendor-cases/{case['id']}/update", body=body)

        async def close() -> None:
            await self.call("POST", f"/api/v1/vendor-cases/{case['id']}/close",
                            body={"note": "fixed by the replacement part"})

        self.at(moment, open_)
        self.at(moment + timedelta(hours=2), lambda: update({"status": "waiting_on_vendor"}))
        self.at(moment + timedelta(days=2), lambda: update({
            "vendor_update": True, "note": "vendor asks for another diagnostics bundle",
            "status": "waiting_on_us"}))
        if not still_open:
            self.at(moment + timedelta(days=6), lambda: update({"status": "resolved"}))
            self.at(moment + timedelta(days=7), close)


OPENSSL = {"debian": "3.0.{n}-1~deb{major}u1", "ubuntu": "3.0.{n}-0ubuntu1.{r}"}


def openssl(os_: tuple[str, str], release: int) -> str:
    """openssl's version in `release` (0: as installed when the history starts)."""
    return OPENSSL[os_[0]].format(n=11 + release, major=os_[1].split(".")[0], r=release + 1)


def inventory(host: str, os_: tuple[str, str], hardware: tuple[str, str],
              at: datetime, *, installed: int = 0, offered: int = 0) -> dict[str, Any]:
    """An agent's inventory document: openssl release `installed`, and release `offered`
    pending as a security update (none when 0)."""
    updates = [{"manager": "apt", "package": "openssl", "architecture": "amd64",
                "current_version": openssl(os_, installed), "version": openssl(os_, offered),
                "origin": f"{os_[0].capitalize()}-Security", "security": True,
                "advisories": []}] if offered > installed else []
    return {"schema": "regie.inventory/v1", "collected_at": at.isoformat(),
            "host": {"hostname": host},
            "hardware": {"dmi": {"sys_vendor": hardware[0], "product_name": hardware[1]}},
            "observations": [{"source": "os-release",
                              "raw": {"ID": os_[0], "VERSION_ID": os_[1]}}],
            "packages": [{"manager": "dpkg", "name": "openssl",
                          "version": openssl(os_, installed), "architecture": "amd64"}],
            "updates": updates, "errors": []}


async def make(settings: Any, *, days: int, seed: int, end: date, token: str,
               port: int) -> dict[str, int]:
    """Play the history into the installation's database through its own API."""
    import aiohttp
    from aiohttp import web

    from collector.app import ONCALL, make_app
    from collector.service import load_oncall, oncall_context, stores_context

    end_at = datetime(end.year, end.month, end.day, tzinfo=UTC)
    start = end_at - timedelta(days=days)
    clock_now = [start]

    def clock() -> datetime:
        return clock_now[0]

    app = make_app(settings, stores_ctx=stores_context(settings, clock=clock),
                   extra_ctx=[oncall_context(settings, load_oncall(settings), clock=clock,
                                             run_loops=False)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    headers = {"Authorization": f"Bearer {token}"}
    # Thousands of requests and pages in a minute: their INFO lines (access log, tickets,
    # deliveries) would bury the demo's own output; a progress line per day stands for them.
    quieted = {name: logging.getLogger(name).level for name in _CHATTY}
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}",
                                         headers=headers) as session:
            async def call(method: str, path: str, *, body: Any = None) -> Any:
                async with session.request(method, path, json=body) as response:
                    text = await response.text()
                    if response.status >= 300:
                        raise RuntimeError(f"{method} {path}: {response.status} {text[:300]}")
                    return json.loads(text) if text else None

            for host, os_, hardware in hosts():
                await call("POST", "/api/v1/inventory", body={
                    "idempotency_key": f"demo-history-{host}-{start.date()}",
                    "document": inventory(host, os_, hardware, start)})
            history = History(call, seed=seed, start=start, days=days, token=token)
            history.plan()
            oncall = app.get(ONCALL)
            steps = 0
            progress = Progress("history", days, unit="days")
            shown = start
            while history.queue:
                step = heapq.heappop(history.queue)
                if step.at >= end_at:
                    continue   # after the history's end: left undone, as today's work is
                while step.at - shown >= timedelta(days=1):
                    shown += timedelta(days=1)
                    progress.advance()
                clock_now[0] = step.at
                if oncall is not None:
                    await oncall.escalator.sweep_once()
                await step.action()
                if oncall is not None:
                    await oncall.escalator.sweep_once()
                    await oncall.notifier.deliver_once()
                steps += 1
            progress.advance(days - progress.done)
            progress.close()
        return {**history.counts, "hosts": len(hosts()), "calls": steps}
    finally:
        for name, level in quieted.items():
            logging.getLogger(name).setLevel(level)
        await runner.cleanup()


async def ensure(settings: Any, state: Path, *, days: int, seed: int, token: str,
                 port: int, today: date) -> tuple[Path, str]:
    """Play the history once per installation (history.json records it), then write the
    governance review of its days; (the report's path, a one-line summary)."""
    from collector.reports.governance import build, report_json
    from collector.reports.html import render
    from collector.reports.period import choose
    from collector.store.engine import create_engine, database_url

    record = state / "history.json"
    if record.exists():
        made = json.loads(record.read_text())
    else:
        counts = await make(settings, days=days, seed=seed, end=today, token=token, port=port)
        made = {"days": days, "seed": seed, "end": today.isoformat(), **counts}
        record.write_text(json.dumps(made, indent=2) + "\n")
    end = date.fromisoformat(made["end"])
    period = choose(quarter=None, start=end - timedelta(days=made["days"]),
                    end=end - timedelta(days=1), today=today)
    engine = create_engine(database_url(settings.database.url))
    try:
        body = report_json(await build(engine, period, now=datetime.now(UTC),
                                       near_horizon=settings.registry.near_horizon))
    finally:
        await engine.dispose()
    path = state / "governance-review.html"
    path.write_text(render(body), encoding="utf-8")
    return path, (f"{made['days']} days, seed {made['seed']}: {made['hosts']} hosts, "
                  f"{made['alerts']} alerts, {made['user_reports']} user reports; "
                  f"{len(body['signals'])} signals")
