"""The quarterly governance review from the store: gather the facts, compute the signals,
shape the sections (docs/reports.md).

The report reads the collector's data through the same store functions the API uses: the
registry (collector/store/registry.py with registry/lifecycle.py), patch lag
(collector/patching.py), vendor cases (collector/store/vendor_cases.py) and changes that
caused incidents (collector/store/changes.py). Tickets, their timelines and the notification
queue are read here, a period at a time. The signals are pure (collector/reports/signals.py);
`report_json` is the API's and `--format json`'s body, and the HTML is drawn from it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import mean
from typing import Any

from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.reports.period import Period
from collector.reports.signals import (
    CaseFact,
    ChangeFact,
    Facts,
    Signal,
    TicketFact,
    component_shares,
    mtt,
    signals,
)
from collector.store.models import NotificationRow, TicketEventRow, TicketRow
from registry.lifecycle import (
    Item,
    Status,
    contract_items,
    hardware_items,
    near_end,
    parse_horizon,
    software_items,
)

TICKETS = TicketRow.__table__
EVENTS = TicketEventRow.__table__
NOTIFICATIONS = NotificationRow.__table__
PRIORITIES = ("P1", "P2", "P3", "P4")
MANAGER = "escalation_manager"   # the on-call role (alerting/escalation_policy.py ROLES)
_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    previous: Period
    following: Period
    generated_at: datetime
    facts: Facts
    signals: tuple[Signal, ...]


def as_of(period: Period, now: datetime) -> date:
    """The day the report's "already past" and "within 8 months" count from: the period's
    last day, or today while the period runs."""
    return min(period.end - timedelta(days=1), now.astimezone(UTC).date())


def _aggregate(dialect: str) -> tuple[Any, Any, Any]:
    """(day of opening as 'YYYY-MM-DD' in UTC, seconds to acknowledgement, seconds to
    resolution) as SQL expressions of the dialect."""
    created = TICKETS.c.created_at
    if dialect == "sqlite":
        # Times are stored as UTC text, "2026-07-01 09:30:00.000000".
        day = func.substr(created, 1, 10, type_=String)

        def seconds(column: Any) -> Any:
            return (func.julianday(column) - func.julianday(created)) * 86400.0
    else:
        day = func.to_char(func.timezone("UTC", created), "YYYY-MM-DD", type_=String)

        def seconds(column: Any) -> Any:
            return func.extract("epoch", column - created)
    return day, seconds(TICKETS.c.acknowledged_at), seconds(TICKETS.c.resolved_at)


async def _tickets(engine: AsyncEngine, start: datetime, end: datetime) -> list[TicketFact]:
    """The tickets opened in [start, end) (attached alerts not counted), counted by the
    database per priority, component, source and day, with the sums of their response
    times: a year of a large fleet is a few thousand groups, not half a million rows."""
    day, ack, fix = _aggregate(engine.dialect.name)
    query = (select(TICKETS.c.priority, TICKETS.c.component, TICKETS.c.source,
                    day.label("day"), func.count().label("count"),
                    func.count(TICKETS.c.acknowledged_at).label("acknowledged"),
                    func.sum(ack).label("ack_seconds"),
                    func.count(TICKETS.c.resolved_at).label("resolved"),
                    func.sum(fix).label("fix_seconds"))
             .where(TICKETS.c.created_at >= start, TICKETS.c.created_at < end,
                    TICKETS.c.parent_id.is_(None))
             .group_by(TICKETS.c.priority, TICKETS.c.component, TICKETS.c.source, day))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return sorted((TicketFact(priority=r.priority.value, component=r.component,
                              source=r.source.value, day=date.fromisoformat(r.day),
                              count=r.count, acknowledged=r.acknowledged,
                              ack_seconds=float(r.ack_seconds or 0), resolved=r.resolved,
                              fix_seconds=float(r.fix_seconds or 0)) for r in rows),
                  key=lambda t: (t.day, t.priority, t.component or "", t.source))


async def _timeline_counts(engine: AsyncEngine, start: datetime,
                           end: datetime) -> tuple[tuple[int, ...], int]:
    """(tickets escalated to the escalation manager, acknowledgements expired) in [start, end)."""
    query = (select(EVENTS.c.ticket_id, EVENTS.c.kind, EVENTS.c.data)
             .where(EVENTS.c.kind.in_(("escalated", "acknowledgement_expired")),
                    EVENTS.c.at >= start, EVENTS.c.at < end))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    # A step's role is its `target`; the multi-system notice names its `role`.
    manager = tuple(sorted({r.ticket_id for r in rows if r.kind == "escalated"
                            and MANAGER in ((r.data or {}).get("target"),
                                            (r.data or {}).get("role"))}))
    expired = sum(1 for r in rows if r.kind == "acknowledgement_expired")
    return manager, expired


async def _dead_letters(engine: AsyncEngine, start: datetime, end: datetime) -> int:
    query = (select(func.count()).select_from(NOTIFICATIONS)
             .where(NOTIFICATIONS.c.status == "dead", NOTIFICATIONS.c.finished_at >= start,
                    NOTIFICATIONS.c.finished_at < end))
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar_one()


async def _patch_lags(engine: AsyncEngine, period: Period,
                      now: datetime) -> tuple[tuple[float, ...] | None, int]:
    from collector.patching import report

    lag = await report(engine, since=period.start_at, now=now, by="change")
    changes = [c for c in lag.changes if c.change.planned_start < period.end_at]
    if not changes:
        return None, 0
    return tuple(v for c in changes for v in c.lags), len(changes)


async def _cases(engine: AsyncEngine, today: date) -> tuple[CaseFact, ...] | None:
    from collector.store.vendor_cases import CaseFilter, VendorCaseStore

    store, found, before = VendorCaseStore(engine), [], None
    while True:
        page = await store.list(CaseFilter(limit=500, before_id=before))
        found += page
        if len(page) < 500:
            break
        before = page[-1].id
    if not found:
        return None
    return tuple(CaseFact(vendor=c.vendor, case_number=c.case_number, summary=c.summary,
                          status=c.status, age_days=(today - c.opened_at.date()).days)
                 for c in found)


async def _changes(engine: AsyncEngine, period: Period) -> tuple[ChangeFact, ...] | None:
    from collector.store.changes import changes_with_incidents

    found = await changes_with_incidents(engine, period.start_at, period.end_at)
    if not found:
        return None
    return tuple(ChangeFact(id=c.change.id, summary=c.change.summary,
                            outcome=getattr(c.change.outcome, "value", str(c.change.outcome)),
                            incidents=len(c.incidents)) for c in found)


def near_label(horizon: str) -> str:
    count, unit = parse_horizon(horizon)
    return f"{count} {_UNITS[unit][:-1] if count == 1 else _UNITS[unit]}"


async def build(engine: AsyncEngine, period: Period, *, now: datetime,
                near_horizon: str = "8m") -> Report:
    """Gather the period's facts and compute its signals."""
    from collector.store.registry import RegistryStore

    today = as_of(period, now)
    previous, following = period.previous(), period.following_quarter()
    current = await _tickets(engine, period.start_at, period.end_at)
    before = await _tickets(engine, previous.start_at, previous.end_at)
    manager, expired = await _timeline_counts(engine, period.start_at, period.end_at)
    registry = RegistryStore(engine)
    near = near_end(today, near_horizon)
    eos = [i for i in software_items(await registry.software(), today, near, near=near)
           if i.status in (Status.PAST, Status.NEAR)]
    last_day = following.end - timedelta(days=1)
    hardware = hardware_items(await registry.hardware(), today, last_day, near=near)
    contracts = contract_items(await registry.contracts(), today, last_day, near=near)
    report_now = min(now, period.end_at)
    lags, patch_changes = await _patch_lags(engine, period, report_now)
    facts = Facts(
        period_label=period.label, previous_label=previous.label, next_label=following.label,
        as_of=today, near_label=near_label(near_horizon), tickets=tuple(current),
        previous=tuple(before), escalated_to_manager=manager, expired_acks=expired,
        dead_letters=await _dead_letters(engine, period.start_at, period.end_at),
        eos=tuple(eos), hardware_next=tuple(hardware), contracts_next=tuple(contracts),
        patch_lags=lags, patch_changes=patch_changes, cases=await _cases(engine, today),
        changes=await _changes(engine, period))
    return Report(period=period, previous=previous, following=following, generated_at=now,
                  facts=facts, signals=tuple(signals(facts)))


# -- the sections' data (JSON, tables, charts) ------------------------------------------------

def week_of(day: date) -> str:
    """The ISO week's Monday."""
    return (day - timedelta(days=day.weekday())).isoformat()


def _mean(count: int, total: float) -> float | None:
    return round(total / count, 1) if count else None


def response_times(tickets: tuple[TicketFact, ...]) -> list[dict[str, Any]]:
    """MTTA and MTTR (mean seconds) per priority per month of opening."""
    months: dict[tuple[str, str], list[TicketFact]] = defaultdict(list)
    for t in tickets:
        months[(t.day.strftime("%Y-%m"), t.priority)].append(t)
    out = []
    for (month, priority), members in sorted(months.items()):
        out.append({"month": month, "priority": priority,
                    "tickets": sum(t.count for t in members),
                    "mtta_seconds": _mean(*mtt(members, priority, "mtta")),
                    "mttr_seconds": _mean(*mtt(members, priority, "mttr"))})
    return out


def weekly_volume(tickets: tuple[TicketFact, ...]) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for t in tickets:
        counts[(week_of(t.day), t.source, t.priority)] += t.count
    return [{"week": w, "source": s, "priority": p, "tickets": n}
            for (w, s, p), n in sorted(counts.items())]


def top_components(tickets: tuple[TicketFact, ...], limit: int = 10) -> list[dict[str, Any]]:
    by_component: dict[str, Counter] = defaultdict(Counter)
    for t in tickets:
        by_component[t.component or "(none)"][t.priority] += t.count
    rows = [{"component": c, "tickets": sum(n.values()), **{p: n[p] for p in PRIORITIES}}
            for c, n in by_component.items()]
    return sorted(rows, key=lambda r: (-r["tickets"], r["component"]))[:limit]


def pareto(tickets: tuple[TicketFact, ...], priority: str = "P2") -> list[dict[str, Any]]:
    shares = component_shares(tickets, priority)
    total, running, out = sum(n for _, n in shares), 0, []
    for component, count in shares:
        running += count
        out.append({"component": component, "tickets": count,
                    "share": round(count / total, 4), "cumulative": round(running / total, 4)})
    return out


def _item(item: Item) -> dict[str, Any]:
    return {"host": item.host, "what": item.what, "version": item.version,
            "date": item.applies.isoformat() if item.applies else None,
            "status": item.status.value, "days_remaining": item.days_remaining}


def _mtt_summary(tickets: tuple[TicketFact, ...]) -> dict[str, Any]:
    return {priority: {"tickets": sum(t.count for t in tickets if t.priority == priority),
                       "mtta_seconds": _mean(*mtt(tickets, priority, "mtta")),
                       "mttr_seconds": _mean(*mtt(tickets, priority, "mttr"))}
            for priority in PRIORITIES}


def _sum_by(tickets: tuple[TicketFact, ...], key: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for t in tickets:
        counts[getattr(t, key)] += t.count
    return dict(counts)


def report_json(report: Report) -> dict[str, Any]:
    """The API's and `regie report governance --format json`'s body; the HTML is drawn
    from it."""
    facts = report.facts

    def period(p: Period) -> dict[str, str]:
        return {"label": p.label, "start": p.start.isoformat(),
                "end": (p.end - timedelta(days=1)).isoformat()}

    lags = facts.patch_lags
    return {
        "period": period(report.period), "previous": period(report.previous),
        "next": period(report.following), "as_of": facts.as_of.isoformat(),
        "generated_at": report.generated_at.astimezone(UTC).isoformat(),
        "signals": [{"rule": s.rule, "number": s.number, "sentence": s.sentence,
                     "how": s.how, "weight": round(s.weight, 3)} for s in report.signals],
        "tickets": {"total": sum(t.count for t in facts.tickets),
                    "previous_total": sum(t.count for t in facts.previous),
                    "by_source": _sum_by(facts.tickets, "source"),
                    "by_priority": _sum_by(facts.tickets, "priority")},
        "response_times": {"current": _mtt_summary(facts.tickets),
                           "previous": _mtt_summary(facts.previous),
                           "by_month": response_times(facts.tickets)},
        "weekly_volume": weekly_volume(facts.tickets),
        "top_components": top_components(facts.tickets),
        "pareto_p2": pareto(facts.tickets, "P2"),
        "escalations": {"to_escalation_manager": len(facts.escalated_to_manager),
                        "acknowledgements_expired": facts.expired_acks,
                        "dead_letters": facts.dead_letters},
        "end_of_support": [_item(i) for i in facts.eos],
        "hardware_due": [_item(i) for i in facts.hardware_next],
        "contracts_due": [_item(i) | {"contract": i.field("contract"),
                                      "vendor": i.field("vendor"),
                                      "renewal": i.field("renewal"), "owner": i.field("owner")}
                          for i in facts.contracts_next],
        "patch_lag": None if lags is None else {
            "changes": facts.patch_changes, "hosts_applied": len(lags),
            "mean_days": round(mean(lags) / 86400, 2) if lags else None},
        "vendor_cases": None if facts.cases is None else [
            {"vendor": c.vendor, "case_number": c.case_number, "summary": c.summary,
             "status": c.status, "age_days": c.age_days} for c in facts.cases],
        "changes_with_incidents": None if facts.changes is None else [
            {"id": c.id, "summary": c.summary, "outcome": c.outcome, "incidents": c.incidents}
            for c in facts.changes],
    }
