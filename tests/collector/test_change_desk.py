"""The change desk (collector/change_desk.py) on real SQLite and PostgreSQL databases, with an
injected clock (the only fake): freezes refuse approval without an override and record it,
nobody-on-call warnings from a real schedule, the risk score's inputs read from the store
(incidents in 90 days, criticality settings, end of support, maintenance hours), and the
incidents a failed change caused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerting.changes import (
    Action,
    ChangeRefused,
    ChangeStatus,
    ChangeType,
    Freeze,
    MaintenanceHours,
    Outcome,
)
from alerting.priority import assess
from alerting.schedule_file import parse_schedules
from alerting.ticket import Criticality, Urgency, UserReport
from collector.change_desk import BadChange, ChangeDesk, Draft, Request
from collector.change_settings import ChangeSettings
from collector.config import CriticalitySettings
from collector.store import changes as store
from collector.store.engine import create_engine, database_url
from collector.store.tickets import TicketStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FREEZE = Freeze(datetime(2026, 12, 21, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC),
                "year-end closing")
HOURS = MaintenanceHours(days=frozenset({5, 6}), start=time(2), end=time(6),
                         timezone=ZoneInfo("Europe/Amsterdam"))
# Team ops has a primary from 2026-12-10 only: before that, nobody is on call.
SCHEDULE = {
    "people": {"alice": {"email": "alice@example.org"}},
    "teams": [{"name": "ops", "timezone": "UTC",
               "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"],
                                  "start": "09:00", "end": "17:00"},
               "layers": {"primary": {"participants": ["alice"], "rotation": "daily",
                                      "handoff": "09:00", "start": "2026-12-10"}}}],
}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def run(db: str, scenario, *, settings: ChangeSettings | None = None, schedules=None,
        past=frozenset(), criticality: CriticalitySettings | None = None):
    async def main():
        engine = create_engine(database_url(db))
        clock = Clock()
        desk = ChangeDesk(engine, settings=settings or ChangeSettings(),
                          criticality=criticality or CriticalitySettings(),
                          past_end_of_support=lambda host: host in past,
                          schedules=schedules, clock=clock)
        try:
            return await scenario(desk, TicketStore(engine), clock)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def ticket(tickets: TicketStore, host: str, at: datetime, summary: str = "down") -> int:
    assessment = assess(criticality=Criticality.MEDIUM, urgency=Urgency.HIGH)
    made = await tickets.create_user_ticket(
        UserReport(summary=summary, reporter="mon", host=host), assessment=assessment, now=at)
    return made.id


def draft(start: datetime, hours: float = 2, **kw) -> Draft:
    return Draft(**{"type": ChangeType.NORMAL, "summary": "upgrade", "hosts": ("web-1",),
                    "planned_start": start, "planned_end": start + timedelta(hours=hours),
                    **kw})


def ask(action: Action, actor: str = "bob", role: str = "change_manager", **kw) -> Request:
    return Request(action=action, actor=actor, role=role, **kw)


def test_a_normal_change_in_a_freeze_needs_an_override_to_be_approved(collector_db):
    async def scenario(desk, tickets, clock):
        await ticket(tickets, "web-1", NOW - timedelta(days=200))
        change = await desk.create(draft(FREEZE.start + timedelta(days=1)), author="alice")
        assert "+2 window inside a change freeze (year-end closing, 2026-12-21 00:00 to " \
               "2027-01-04 00:00 UTC)" in change.risk["reasons"]
        found = (await desk.conflicts_of([change]))[change.id]
        assert [c.kind for c in found] == ["freeze"]
        await desk.act(change.id, ask(Action.SUBMIT, actor="alice", role="responder"))
        with pytest.raises(ChangeRefused, match="inside a change freeze") as refused:
            await desk.act(change.id, ask(Action.APPROVE))
        assert not refused.value.forbidden
        unchanged = await store.get_change(desk.engine, change.id)
        assert unchanged.status is ChangeStatus.SUBMITTED and unchanged.approver is None
        approved = await desk.act(change.id, ask(Action.APPROVE, reason="ok",
                                                 freeze_override="statutory deadline"))
        timeline = await store.timeline(desk.engine, change.id)
        return approved, timeline

    approved, timeline = run(collector_db, scenario,
                             settings=ChangeSettings(freezes=(FREEZE,)))
    assert approved.status is ChangeStatus.APPROVED
    assert approved.freeze_override_reason == "statutory deadline"
    assert [e.kind for e in timeline] == ["created", "submitted", "approved"]
    assert timeline[-1].message == ("approved by bob: ok (freeze overridden: statutory "
                                    "deadline)")


def test_nobody_on_call_is_a_warning_on_the_change(collector_db):
    schedules = parse_schedules(SCHEDULE, "oncall.yml")

    async def scenario(desk, tickets, clock):
        await ticket(tickets, "web-1", NOW - timedelta(days=200))
        before = await desk.create(draft(datetime(2026, 12, 9, 22, tzinfo=UTC), hours=12,
                                         team="ops"), author="alice")
        after = await desk.create(draft(datetime(2026, 12, 12, 2, tzinfo=UTC), team="ops"),
                                  author="alice")
        return await desk.conflicts_of([before, after]), before.id, after.id

    found, before, after = run(collector_db, scenario, schedules=schedules)
    assert [(c.kind, c.message) for c in found[before]] == [
        ("nobody_on_call", "nobody is primary on call for team ops from 2026-12-09 22:00 to "
                           "2026-12-10 09:00 UTC")]
    assert found[after] == ()


def test_risk_inputs_come_from_the_store_and_the_settings(collector_db):
    criticality = CriticalitySettings(hosts={"pay-*": Criticality.BUSINESS_CRITICAL})

    async def scenario(desk, tickets, clock):
        for days in (1, 30, 89):       # inside the last 90 days
            await ticket(tickets, "pay-1", NOW - timedelta(days=days))
        await ticket(tickets, "pay-2", NOW - timedelta(days=91))   # too old to count
        await ticket(tickets, "web-1", NOW - timedelta(days=3))    # another host
        # Saturday 5 December 2026, 03:00-05:00 Amsterdam: inside ops's hours.
        inside = await desk.create(draft(datetime(2026, 12, 5, 2, tzinfo=UTC),
                                         hosts=("pay-*",), team="ops",
                                         type=ChangeType.EMERGENCY), author="alice")
        # Monday: outside.
        outside = await desk.create(draft(datetime(2026, 12, 7, 2, tzinfo=UTC),
                                          hosts=("web-1",), team="ops"), author="alice")
        return inside, outside

    inside, outside = run(collector_db, scenario, criticality=criticality, past={"pay-2"},
                          settings=ChangeSettings(maintenance_hours={"ops": HOURS}))
    assert inside.hosts == ("pay-1", "pay-2")
    assert inside.risk["reasons"] == [
        "+3 most critical system: business-critical (host glob pay-*)",
        "+1 2 systems affected",
        "+2 past end of support: pay-2",
        "+2 3 incidents on these systems in the last 90 days",
        "+2 emergency change",
        "score 10: high"]
    assert inside.risk["level"] == "high"
    assert outside.risk["reasons"] == [
        "+1 most critical system: medium (default)",
        "+0 1 system affected",
        "+1 1 incident on these systems in the last 90 days",
        "+1 normal change",
        "+1 window outside team ops's maintenance hours (sat, sun 02:00-06:00 "
        "Europe/Amsterdam)",
        "score 4: medium"]


def test_unknown_hosts_and_tickets_are_refused_and_nothing_is_written(collector_db):
    async def scenario(desk, tickets, clock):
        await ticket(tickets, "web-1", NOW)
        for bad, reason in ((draft(NOW, hosts=("web-2",)), "hosts: 'web-2' is not a known"),
                            (draft(NOW, tickets=(999,)), "tickets: no ticket 999"),
                            (draft(NOW, hours=-1), "planned_end: must be after")):
            with pytest.raises(BadChange, match=f"^{reason}"):
                await desk.create(bad, author="alice")
        return await store.list_changes(desk.engine, store.ChangeFilter())

    assert run(collector_db, scenario) == []


def test_incidents_opened_during_and_after_a_failed_change_are_linked(collector_db):
    start = NOW + timedelta(days=1)

    async def scenario(desk, tickets, clock):
        for host in ("web-1", "web-2", "db-1"):
            await ticket(tickets, host, NOW - timedelta(days=100), "old")
        failed = await desk.create(draft(start, hosts=("web-1", "web-2")), author="alice")
        fine = await desk.create(draft(start, hosts=("db-1",)), author="alice")
        for change, outcome in ((failed, Outcome.ROLLED_BACK), (fine, Outcome.SUCCESSFUL)):
            await desk.act(change.id, ask(Action.SUBMIT, actor="alice"))
            await desk.act(change.id, ask(Action.APPROVE))
            clock.now = start
            await desk.act(change.id, ask(Action.START, actor="alice"))
            clock.now = start + timedelta(hours=3)     # ran an hour past its plan
            await desk.act(change.id, ask(Action.COMPLETE, actor="alice", outcome=outcome))
        linked = [
            await ticket(tickets, "web-1", start + timedelta(hours=1), "during"),
            await ticket(tickets, "web-2", start + timedelta(hours=26), "a day after"),
        ]
        await ticket(tickets, "web-1", start - timedelta(minutes=1), "before it started")
        await ticket(tickets, "web-1", start + timedelta(hours=27, minutes=1), "too late")
        await ticket(tickets, "mail-1", start + timedelta(hours=1), "another host")
        await ticket(tickets, "db-1", start + timedelta(hours=1), "the successful change")
        caused = await store.changes_with_incidents(
            desk.engine, NOW, NOW + timedelta(days=7), after=timedelta(hours=24))
        return failed.id, linked, caused

    failed, linked, caused = run(collector_db, scenario)
    assert [c.change.id for c in caused] == [failed]
    assert [i.ticket for i in caused[0].incidents] == linked
    assert [i.host for i in caused[0].incidents] == ["web-1", "web-2"]
    assert caused[0].change.outcome is Outcome.ROLLED_BACK
    assert caused[0].change.actual_end == start + timedelta(hours=3)


def test_two_approvals_at_once_one_wins_the_other_is_refused(collector_db):
    """Each move is decided on the change's row locked in the transaction that writes it."""
    async def scenario(desk, tickets, clock):
        await ticket(tickets, "web-1", NOW)
        change = await desk.create(draft(NOW + timedelta(days=2)), author="alice")
        await desk.act(change.id, ask(Action.SUBMIT, actor="alice"))
        results = await asyncio.gather(
            desk.act(change.id, ask(Action.APPROVE, actor="bob", reason="bob's")),
            desk.act(change.id, ask(Action.APPROVE, actor="carol", reason="carol's")),
            return_exceptions=True)
        return results, await store.timeline(desk.engine, change.id)

    results, timeline = run(collector_db, scenario)
    approved = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(approved) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], ChangeRefused)
    assert str(refused[0]).startswith("cannot approve a change that is approved")
    assert [e.kind for e in timeline].count("approved") == 1
    assert timeline[-1].actor == approved[0].approver
