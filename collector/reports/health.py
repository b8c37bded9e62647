"""The monthly health report per system (docs/reports.md, "Health report").

Per host matching a glob, for one calendar month: availability (from host-down tickets),
incidents by priority, end-of-support status (registry/lifecycle.py through the registry
store), pending security updates (collector/patching.py), and capacity (filesystems' days
until full, memory and CPU percentiles) read from a Prometheus when one is given: every series
carries the `host` label (deploy/prometheus/prometheus.yml). Without a Prometheus, or when it
does not answer, the report is still made and the capacity section says why it is missing.
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store.models import TicketRow
from regie.inputs import url_problem
from registry.lifecycle import Status, near_end, software_items

TICKETS = TicketRow.__table__
_MONTH = re.compile(r"(\d{4})-(\d{2})")
MONTH_TEXT = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
PROMETHEUS_TIMEOUT_SECONDS = 10.0

# Capacity queries (PromQL), evaluated at the month's end; `host` selects the systems.
CAPACITY_QUERIES = {
    # Days until a filesystem is full at the last week's rate (absent when it is not filling).
    "filesystem_days_to_full": (
        "regie_filesystem_avail_bytes{{host=~\"{hosts}\"}} / "
        "(-deriv(regie_filesystem_avail_bytes{{host=~\"{hosts}\"}}[7d]) > 0) / 86400"),
    "filesystem_used_ratio": "regie_filesystem_used_ratio{{host=~\"{hosts}\"}}",
    "memory_used_p95": (
        "quantile_over_time(0.95, regie_memory_used_ratio{{host=~\"{hosts}\"}}[{days}d])"),
    "cpu_utilisation_p95": (
        "quantile_over_time(0.95, regie_cpu_utilisation_ratio{{host=~\"{hosts}\"}}[{days}d])"),
    "cpu_utilisation_p50": (
        "quantile_over_time(0.5, regie_cpu_utilisation_ratio{{host=~\"{hosts}\"}}[{days}d])"),
}


@dataclass(frozen=True, slots=True)
class Month:
    label: str
    start: datetime
    end: datetime


def month(text: str | None, today: date) -> Month:
    """"2026-11" (default: the last complete month); a month after this one is refused."""
    if text is None:
        first = date(today.year, today.month, 1) - timedelta(days=1)
        text = f"{first.year}-{first.month:02d}"
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"{text!r} is not a month such as 2026-11")
    year, number = int(match[1]), int(match[2])
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    if start.date() > today:
        raise ValueError(f"{text} is in the future (today is {today}): nothing to report yet")
    return Month(f"{year}-{number:02d}", start, end)


def group(text: str) -> tuple[str, str]:
    """"role=web" -> ("role", "web"): a label the agents push (`[push] labels`, their
    scrape target's labels) and its value."""
    name, equals, value = text.partition("=")
    if not equals or not name or not value:
        raise ValueError(f"{text[:80]!r} is not LABEL=VALUE, e.g. role=web")
    return name, value


async def _hosts(engine: AsyncEngine, pattern: str) -> list[str]:
    from collector.store.changes import known_hosts

    return sorted(h for h in await known_hosts(engine) if fnmatch.fnmatchcase(h, pattern))


class NoSuchGroup(ValueError):
    """No host's agent pushes the label asked for with that value."""


async def _group_hosts(engine: AsyncEngine, name: str, value: str) -> list[str]:
    """The hosts whose latest push carries the label `name` = `value` in its scrape target
    (collector/store/hosts.py, as GET /api/v1/prometheus/targets reads them); ValueError when
    no host carries that label with that value, naming the values it has."""
    from collector.store.hosts import scrape_endpoints

    values: dict[str, list[str]] = {}
    for host, scrape in await scrape_endpoints(engine):
        labels = scrape.get("labels") if isinstance(scrape, dict) else None
        if isinstance(labels, dict) and isinstance(labels.get(name), str):
            values.setdefault(labels[name], []).append(host)
    if value not in values:
        known = ", ".join(sorted(values)[:20]) or "none"
        raise NoSuchGroup(f"no host pushes the label {name}={value} (values of {name}: {known})")
    return sorted(values[value])


async def _tickets(engine: AsyncEngine, hosts: list[str], period: Month) -> list[Any]:
    if not hosts:
        return []
    query = (select(TICKETS.c.host, TICKETS.c.priority, TICKETS.c.host_down,
                    TICKETS.c.created_at, TICKETS.c.resolved_at, TICKETS.c.closed_at)
             .where(TICKETS.c.host.in_(hosts), TICKETS.c.parent_id.is_(None),
                    TICKETS.c.created_at < period.end,
                    or_(TICKETS.c.created_at >= period.start, TICKETS.c.host_down.is_(True))))
    async with engine.connect() as connection:
        return (await connection.execute(query)).all()


def availability(tickets: list[Any], period: Month, now: datetime) -> tuple[float, float]:
    """(share of the month up, seconds down): host-down tickets' open time, overlaps merged."""
    end = min(period.end, now)
    spans = []
    for t in tickets:
        if not t.host_down:
            continue
        finished = t.resolved_at or t.closed_at or end
        start, stop = max(t.created_at, period.start), min(finished, end)
        if stop > start:
            spans.append((start, stop))
    down, reach = 0.0, period.start
    for start, stop in sorted(spans):
        start = max(start, reach)
        if stop > start:
            down += (stop - start).total_seconds()
            reach = stop
    total = (end - period.start).total_seconds()
    return (1.0 - down / total if total > 0 else 1.0), down


def prometheus(url: str, promql: str, at: datetime) -> list[dict[str, Any]]:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    query = urllib.parse.urlencode({"query": promql, "time": f"{at.timestamp():.0f}"})
    address = f"{url.rstrip('/')}/api/v1/query?{query}"
    # The scheme is checked above: http(s) only, never file:.
    try:
        with urllib.request.urlopen(address, timeout=PROMETHEUS_TIMEOUT_SECONDS) as answer:  # noqa: S310
            body = json.loads(answer.read())
    except urllib.error.HTTPError as exc:   # Prometheus says why in its JSON body
        try:
            said = json.loads(exc.read()).get("error")
        except ValueError:
            said = None
        raise ValueError(f"HTTP {exc.code}: {said or exc.reason}") from None
    except http.client.HTTPException as exc:   # no answer, or not HTTP
        raise ValueError(f"no answer ({exc!r})") from None
    if not isinstance(body, dict):
        raise ValueError("the answer is not the Prometheus API's")
    if body.get("status") != "success":
        raise ValueError(body.get("error") or "query failed")
    return body["data"]["result"]


def capacity(url: str | None, hosts: list[str], period: Month,
             now: datetime) -> dict[str, Any]:
    """Per host: filesystems (used share, days until full) and memory/CPU percentiles; or,
    without a Prometheus or when it fails, why not."""
    if url is None:
        return {"available": False, "reason": "no Prometheus given (--prometheus URL)"}
    if not url.startswith(("http://", "https://")):
        return {"available": False,
                "reason": f"Prometheus {url!r} is not an http:// or https:// URL"}
    if problem := url_problem(url):   # one urllib fails on, with no error message
        return {"available": False, "reason": f"the Prometheus URL {problem}"}
    if not hosts:
        return {"available": True, "hosts": {}}
    at = min(period.end, now)
    days = max(1, round((at - period.start).total_seconds() / 86400))
    # A regular expression inside a PromQL string: its backslashes doubled.
    pattern = "|".join(re.escape(h) for h in hosts).replace("\\", "\\\\")
    found: dict[str, dict[str, Any]] = {h: {"filesystems": {}} for h in hosts}
    try:
        for name, template in CAPACITY_QUERIES.items():
            for sample in prometheus(url, template.format(hosts=pattern, days=days), at):
                labels, value = sample["metric"], float(sample["value"][1])
                host = labels.get("host")
                if host not in found:
                    continue
                if name.startswith("filesystem_"):
                    mount = labels.get("mountpoint", "?")
                    found[host]["filesystems"].setdefault(mount, {})[name[11:]] = round(
                        value, 3)
                else:
                    found[host][name] = round(value, 4)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return {"available": False,
                "reason": f"Prometheus at {url} could not be asked: {reason}"}
    return {"available": True, "hosts": found}


async def build(engine: AsyncEngine, period: Month, *, host: str = "*", now: datetime,
                group: tuple[str, str] | None = None, near_horizon: str = "8m",
                prometheus_url: str | None = None) -> dict[str, Any]:
    """The report's JSON body (the HTML is drawn from it): the hosts matching the glob
    `host`, or, with `group` (LABEL, VALUE), those whose agent pushes that label
    (NoSuchGroup when none does)."""
    from collector.patching import status
    from collector.store.registry import RegistryStore

    hosts = (await _hosts(engine, host) if group is None
             else await _group_hosts(engine, *group))
    tickets = await _tickets(engine, hosts, period)
    today = min((period.end - timedelta(days=1)).date(), now.date())
    near = near_end(today, near_horizon)
    software = await RegistryStore(engine).software()
    eos = [i for i in software_items([s for s in software if s.host in hosts], today, near,
                                     near=near)
           if i.status in (Status.PAST, Status.NEAR, Status.EXTENDED)]
    pending = {s.host: s for s in await status(engine, security=True) if s.host in hosts}
    systems = []
    for name in hosts:
        mine = [t for t in tickets if t.host == name]
        up, down = availability(mine, period, now)
        incidents = Counter(t.priority.value for t in mine if t.created_at >= period.start)
        update = pending.get(name)
        systems.append({
            "host": name, "availability": round(up, 5), "down_seconds": round(down),
            "incidents": {p: incidents.get(p, 0) for p in ("P1", "P2", "P3", "P4")},
            "end_of_support": [{"what": i.what, "version": i.version, "status": i.status.value,
                                "date": i.applies.isoformat() if i.applies else None}
                               for i in eos if i.host == name],
            "security_updates": 0 if update is None else update.security,
            "oldest_security_update": None if update is None or not update.oldest_security
            else update.oldest_security.astimezone(UTC).isoformat()})
    return {"month": period.label, "host": host if group is None else None,
            "group": None if group is None else f"{group[0]}={group[1]}",
            "as_of": today.isoformat(),
            "generated_at": now.astimezone(UTC).isoformat(), "systems": systems,
            "capacity": capacity(prometheus_url, hosts, period, now)}
