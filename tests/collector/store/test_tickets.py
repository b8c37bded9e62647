"""User tickets, what people do to tickets, and reading the queue, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import pytest

from alerting.lifecycle import InvalidTransition
from alerting.priority import assess
from alerting.ticket import Criticality, Priority, Source, Status, Urgency
from collector.store.tickets import TicketFilter, TicketNotFound, TimelineEntry
from tests.collector.store.signals import T0, Assessor, at, report, resolve, trigger

ASSESSMENT = assess(criticality=Criticality.HIGH, urgency=Urgency.MEDIUM)   # P2


def test_user_ticket(db):
    async def scenario(s):
        ticket = await s.tickets.create_user_ticket(
            report(description="since the update", host="vpn-01", component="vpn"),
            assessment=ASSESSMENT, now=T0)
        assert (ticket.source, ticket.dedup_key, ticket.origin, ticket.reporter) == (
            Source.USER, None, "user", "alice")
        assert (ticket.status, ticket.priority, ticket.impact, ticket.urgency) == (
            Status.OPEN, Priority.P2, Criticality.HIGH, Urgency.MEDIUM)
        assert (ticket.summary, ticket.description) == ("VPN drops every hour",
                                                        "since the update")
        assert (ticket.host, ticket.component, ticket.recovery) == ("vpn-01", "vpn", None)
        assert (ticket.created_at, ticket.first_seen, ticket.occurrences) == (T0, T0, 1)
        assert await s.tickets.get(ticket.id) == ticket
        [created] = await s.tickets.timeline(ticket.id)
        assert (created.kind, created.actor) == ("created", "alice")
        assert created.data["reasons"] == list(ASSESSMENT.reasons)
        # Reports have no dedup key: two alike are two tickets.
        other = await s.tickets.create_user_ticket(report(), assessment=ASSESSMENT, now=T0)
        assert other.id != ticket.id

    db.run(scenario)


def test_lifecycle_with_timeline(db):
    async def scenario(s):
        ticket = await s.tickets.create_user_ticket(report(), assessment=ASSESSMENT, now=T0)
        acked = await s.tickets.acknowledge(ticket.id, actor="bob", now=at(60))
        assert (acked.status, acked.acknowledged_at, acked.updated_at) == (
            Status.ACKNOWLEDGED, at(60), at(60))
        resolved = await s.tickets.resolve(ticket.id, actor="bob", now=at(120),
                                           note="router replaced")
        assert (resolved.status, resolved.resolved_at) == (Status.RESOLVED, at(120))
        closed = await s.tickets.close(ticket.id, actor="carol", now=at(180))
        assert (closed.status, closed.closed_at) == (Status.CLOSED, at(180))
        assert await s.tickets.get(ticket.id) == closed
        timeline = await s.tickets.timeline(ticket.id)
        assert [(e.kind, e.actor, e.at) for e in timeline] == [
            ("created", "alice", T0), ("acknowledged", "bob", at(60)),
            ("resolved", "bob", at(120)), ("closed", "carol", at(180))]
        assert "router replaced" in timeline[2].message
        assert timeline[2].data == {"note": "router replaced", "from": "acknowledged",
                                    "to": "resolved"}

    db.run(scenario)


def test_a_person_can_resolve_an_open_ticket_directly(db):
    async def scenario(s):
        [opened] = await s.tickets.apply_signals([trigger("k")], now=T0, assess=Assessor())
        ticket = await s.tickets.resolve(opened.ticket_id, actor="bob", now=at(1))
        assert ticket.status is Status.RESOLVED
        # The key is free again: the next trigger opens a new ticket.
        [again] = await s.tickets.apply_signals([trigger("k")], now=at(2), assess=Assessor())
        assert again.result == "created"

    db.run(scenario)


@pytest.mark.parametrize(
    ("moves", "refused", "status"),
    [
        ((), "close", Status.OPEN),
        (("acknowledge",), "acknowledge", Status.ACKNOWLEDGED),
        (("resolve",), "acknowledge", Status.RESOLVED),
        (("resolve", "close"), "resolve", Status.CLOSED),
    ],
)
def test_refused_moves_change_nothing(db, moves, refused, status):
    async def scenario(s):
        ticket = await s.tickets.create_user_ticket(report(), assessment=ASSESSMENT, now=T0)
        for move in moves:
            await getattr(s.tickets, move)(ticket.id, actor="bob", now=at(1))
        before = await s.tickets.get(ticket.id)
        entries = len(await s.tickets.timeline(ticket.id))
        with pytest.raises(InvalidTransition) as refusal:
            await getattr(s.tickets, refused)(ticket.id, actor="bob", now=at(2))
        assert (refusal.value.status, refusal.value.event.value) == (status, refused)
        assert await s.tickets.get(ticket.id) == before
        assert len(await s.tickets.timeline(ticket.id)) == entries

    db.run(scenario)


def test_missing_tickets(db):
    async def scenario(s):
        assert await s.tickets.get(404) is None
        calls = [
            s.tickets.acknowledge(404, actor="bob", now=T0),
            s.tickets.resolve(404, actor="bob", now=T0),
            s.tickets.close(404, actor="bob", now=T0),
            s.tickets.add_note(404, actor="bob", text="hello", now=T0),
            s.tickets.override_priority(404, priority=Priority.P1, reason="x", actor="bob",
                                        now=T0),
            s.tickets.timeline(404),
            s.tickets.children(404),
        ]
        for call in calls:
            with pytest.raises(TicketNotFound, match="no ticket 404"):
                await call

    db.run(scenario)


def test_notes_and_priority_override(db):
    async def scenario(s):
        ticket = await s.tickets.create_user_ticket(report(), assessment=ASSESSMENT, now=T0)
        entry = await s.tickets.add_note(ticket.id, actor="bob", text="ISP contacted",
                                         now=at(10))
        assert entry == TimelineEntry(at(10), "note", "bob", "ISP contacted", {})
        changed = await s.tickets.override_priority(
            ticket.id, priority=Priority.P1, reason="CEO on the road", actor="carol",
            now=at(20))
        assert (changed.priority, changed.priority_override_reason, changed.updated_at) == (
            Priority.P1, "CEO on the road", at(20))
        timeline = await s.tickets.timeline(ticket.id)
        assert timeline[1:] == [
            entry,
            TimelineEntry(at(20), "priority_overridden", "carol",
                          "priority P2 -> P1: CEO on the road",
                          {"from": "P2", "to": "P1", "reason": "CEO on the road"}),
        ]

    db.run(scenario)


def test_times_come_back_in_utc(db):
    async def scenario(s):
        paris = T0.astimezone(timezone(timedelta(hours=2)))
        ticket = await s.tickets.create_user_ticket(report(), assessment=ASSESSMENT, now=paris)
        assert ticket.created_at == T0 and ticket.created_at.utcoffset() == timedelta(0)
        stored = await s.tickets.get(ticket.id)
        assert stored.created_at.tzinfo is not None and stored.created_at == T0
        with pytest.raises(ValueError, match="timezone-aware"):
            await s.tickets.acknowledge(ticket.id, actor="bob", now=T0.replace(tzinfo=None))

    db.run(scenario)


def test_concurrent_acknowledgements_are_serialised(db):
    async def scenario(s):
        ticket = await s.tickets.create_user_ticket(report(), assessment=ASSESSMENT, now=T0)
        results = await asyncio.gather(
            *(s.tickets.acknowledge(ticket.id, actor=f"responder-{i}", now=at(i))
              for i in range(4)), return_exceptions=True)
        assert sum(not isinstance(r, Exception) for r in results) == 1
        assert all(isinstance(r, InvalidTransition) for r in results
                   if isinstance(r, Exception))
        kinds = [e.kind for e in await s.tickets.timeline(ticket.id)]
        assert kinds == ["created", "acknowledged"]

    db.run(scenario)


async def _queue(s):
    """Six tickets: ids in creation order."""
    made = []
    assess = Assessor()
    for key, host, component in [("a", "web-01", "web"), ("b", "web-02", "web"),
                                 ("c", "db-01", "db")]:
        [o] = await s.tickets.apply_signals([trigger(key, host=host, component=component)],
                                            now=T0, assess=assess)
        made.append(o.ticket_id)
    [down] = await s.tickets.apply_signals([trigger("down", host="db-02", host_down=True)],
                                           now=T0, assess=assess)
    made.append(down.ticket_id)
    [child] = await s.tickets.apply_signals([trigger("child", host="db-02")], now=T0,
                                            assess=assess)
    made.append(child.ticket_id)
    user = await s.tickets.create_user_ticket(report(host="web-01"), assessment=ASSESSMENT,
                                              now=T0)
    made.append(user.id)
    await s.tickets.apply_signals([resolve("c")], now=at(1), assess=assess)
    await s.tickets.acknowledge(made[0], actor="bob", now=at(2))
    return made


def test_list_filters(db):
    async def scenario(s):
        a, b, c, down, child, user = await _queue(s)

        async def ids(**criteria):
            return [t.id for t in await s.tickets.list(TicketFilter(**criteria))]

        assert await ids() == [user, down, c, b, a]                 # newest first, no child
        assert await ids(include_attached=True) == [user, child, down, c, b, a]
        assert await ids(status=(Status.OPEN,)) == [user, down, b]
        assert await ids(status=(Status.OPEN, Status.ACKNOWLEDGED)) == [user, down, b, a]
        assert await ids(status=(Status.RESOLVED,)) == [c]
        assert await ids(priority=(Priority.P2,)) == [user, b]      # b: 2 web systems
        assert await ids(host="web-01") == [user, a]
        assert await ids(component="web") == [b, a]
        assert await ids(source=Source.USER) == [user]
        assert await ids(source=Source.MONITORING, status=(Status.OPEN,)) == [down, b]
        assert await ids(host="db-02", include_attached=True) == [child, down]

    db.run(scenario)


def test_list_pages_with_a_cursor(db):
    async def scenario(s):
        await s.tickets.apply_signals([trigger(f"k{i}") for i in range(7)], now=T0,
                                      assess=Assessor())
        everything = [t.id for t in await s.tickets.list(TicketFilter(limit=100))]
        pages, before = [], None
        for _ in range(len(everything) + 1):   # 7 tickets: at most 7 pages and an empty one
            page = await s.tickets.list(TicketFilter(limit=3, before_id=before))
            if not page:
                break
            pages.append([t.id for t in page])
            before = page[-1].id
        else:
            raise AssertionError(f"pages never ended: {pages}")
        assert [len(p) for p in pages] == [3, 3, 1]
        assert [i for p in pages for i in p] == everything == sorted(everything, reverse=True)
        with pytest.raises(ValueError, match="limit"):
            await s.tickets.list(TicketFilter(limit=0))

    db.run(scenario)


def test_children_and_timeline_order(db):
    async def scenario(s):
        a, _, _, down, child, _ = await _queue(s)
        assert [t.id for t in await s.tickets.children(down)] == [child]
        assert await s.tickets.children(a) == []
        await s.tickets.add_note(a, actor="x", text="first", now=at(3))
        await s.tickets.add_note(a, actor="x", text="second", now=at(3))
        kinds = [(e.kind, e.message) for e in await s.tickets.timeline(a)]
        assert [k for k, _ in kinds] == ["created", "acknowledged", "note", "note"]
        assert [m for _, m in kinds[2:]] == ["first", "second"]

    db.run(scenario)


def test_open_counts(db):
    async def scenario(s):
        assert await s.tickets.open_counts() == {}
        await _queue(s)
        # a (acknowledged, P3), b (P2), down (P3), user (P2); c resolved, child attached.
        assert await s.tickets.open_counts() == {
            (Priority.P3, Source.MONITORING): 2, (Priority.P2, Source.MONITORING): 1,
            (Priority.P2, Source.USER): 1}

    db.run(scenario)
