"""Monitoring signals into tickets (`TicketStore.apply_signals`), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import insert, select

from alerting.ticket import Criticality, Priority, Recovery, Source, Status, Urgency
from collector.store import tickets as tickets_module
from collector.store.models import TicketRow
from collector.store.tickets import Outcome, TicketFilter
from tests.collector.store.signals import T0, Assessor, acknowledge, at, resolve, trigger

TICKETS = TicketRow.__table__


def test_trigger_opens_a_ticket(db):
    async def scenario(s):
        signal = trigger("disk-full@web-01", component="web", urgency=Urgency.HIGH,
                         details={"labels": {"alertname": "DiskFull"}}, seconds=-30)
        [outcome] = await s.tickets.apply_signals([signal], now=T0, assess=Assessor())
        assert outcome.result == "created"
        assert (outcome.dedup_key, outcome.priority, outcome.component, outcome.opened_at) == (
            "disk-full@web-01", Priority.P2, "web", T0)
        ticket = await s.tickets.get(outcome.ticket_id)
        assert ticket.status is Status.OPEN
        assert (ticket.priority, ticket.impact, ticket.urgency) == (
            Priority.P2, Criticality.MEDIUM, Urgency.HIGH)
        assert (ticket.source, ticket.origin, ticket.reporter) == (
            Source.MONITORING, "alertmanager", None)
        assert (ticket.host, ticket.component, ticket.summary) == (
            "web-01", "web", "disk-full@web-01 firing")
        assert ticket.occurrences == 1
        assert (ticket.first_seen, ticket.last_seen) == (at(-30), at(-30))
        assert (ticket.created_at, ticket.updated_at) == (T0, T0)
        assert ticket.first_seen.tzinfo is not None
        assert ticket.recovery is Recovery.RESOLVE
        assert ticket.details == {"labels": {"alertname": "DiskFull"}}
        assert ticket.parent_id is None and ticket.host_down is False
        [created] = await s.tickets.timeline(ticket.id)
        assert (created.kind, created.actor, created.at) == ("created", "alertmanager", T0)
        assert created.data["reasons"] == [
            "system criticality medium", "impact medium x urgency high = P2"]
        assert created.data["systems_affected"] == 1
        assert "impact medium x urgency high = P2" in created.message

    db.run(scenario)


def test_repeats_are_counted_not_logged(db):
    async def scenario(s):
        assess = Assessor()
        [first] = await s.tickets.apply_signals([trigger("k", seconds=0)], now=at(1),
                                                assess=assess)
        again = await s.tickets.apply_signals(
            [trigger("k", seconds=60), trigger("k", seconds=30)], now=at(61), assess=assess)
        assert [o.result for o in again] == ["repeated", "repeated"]
        assert {o.ticket_id for o in again} == {first.ticket_id}
        ticket = await s.tickets.get(first.ticket_id)
        assert ticket.occurrences == 3
        assert ticket.last_seen == at(60)       # an older repeat does not move it back
        assert ticket.first_seen == at(0)
        assert ticket.updated_at == at(61)
        assert [e.kind for e in await s.tickets.timeline(first.ticket_id)] == ["created"]
        assert assess.calls == [("k", 1)]       # assessed once, when opened

    db.run(scenario)


def test_same_new_key_twice_in_one_batch_is_one_ticket(db):
    async def scenario(s):
        outcomes = await s.tickets.apply_signals([trigger("k"), trigger("k", seconds=5)],
                                                 now=T0, assess=Assessor())
        assert [o.result for o in outcomes] == ["created", "repeated"]
        assert outcomes[0].ticket_id == outcomes[1].ticket_id
        [ticket] = await s.tickets.list(TicketFilter())
        assert (ticket.occurrences, ticket.last_seen) == (2, at(5))

    db.run(scenario)


def test_resolve(db):
    async def scenario(s):
        [opened] = await s.tickets.apply_signals([trigger("k")], now=T0, assess=Assessor())
        [outcome] = await s.tickets.apply_signals([resolve("k", seconds=50)], now=at(60),
                                                  assess=Assessor())
        assert outcome == Outcome("k", opened.ticket_id, "resolved", priority=Priority.P3,
                                  component=None, opened_at=T0)
        ticket = await s.tickets.get(opened.ticket_id)
        assert (ticket.status, ticket.resolved_at, ticket.updated_at) == (
            Status.RESOLVED, at(60), at(60))
        entry = (await s.tickets.timeline(opened.ticket_id))[-1]
        assert (entry.kind, entry.actor, entry.at) == ("resolved", "alertmanager", at(60))

    db.run(scenario)


def test_resolve_or_acknowledge_without_a_ticket_is_ignored(db):
    async def scenario(s):
        outcomes = await s.tickets.apply_signals([resolve("nothing"), acknowledge("nothing")],
                                                 now=T0, assess=Assessor())
        assert outcomes == [Outcome("nothing", None, "ignored")] * 2
        assert await s.tickets.list(TicketFilter()) == []

    db.run(scenario)


def test_confirm_recovery_marks_the_ticket_and_waits_for_a_person(db):
    async def scenario(s):
        assess = Assessor()
        [opened] = await s.tickets.apply_signals(
            [trigger("k", recovery=Recovery.CONFIRM)], now=T0, assess=assess)
        # The resolve says "resolve", but the rule that opened the ticket said "confirm".
        [recovered] = await s.tickets.apply_signals([resolve("k")], now=at(10), assess=assess)
        assert (recovered.result, recovered.ticket_id) == ("recovered", opened.ticket_id)
        ticket = await s.tickets.get(opened.ticket_id)
        assert (ticket.status, ticket.recovered_at, ticket.resolved_at) == (
            Status.OPEN, at(10), None)
        # It fires again: no longer recovered; recovers again later.
        [again] = await s.tickets.apply_signals([trigger("k")], now=at(20), assess=assess)
        assert again.result == "repeated"
        assert (await s.tickets.get(opened.ticket_id)).recovered_at is None
        await s.tickets.apply_signals([resolve("k", recovery=Recovery.CONFIRM)], now=at(30),
                                      assess=assess)
        ticket = await s.tickets.get(opened.ticket_id)
        assert (ticket.status, ticket.recovered_at) == (Status.OPEN, at(30))
        kinds = [e.kind for e in await s.tickets.timeline(opened.ticket_id)]
        assert kinds == ["created", "recovered", "recovered"]
        # A person resolves it.
        resolved = await s.tickets.resolve(opened.ticket_id, actor="bob", now=at(40))
        assert resolved.status is Status.RESOLVED

    db.run(scenario)


def test_a_confirm_resolve_signal_on_a_resolve_rule_also_only_recovers(db):
    async def scenario(s):
        await s.tickets.apply_signals([trigger("k")], now=T0, assess=Assessor())
        [outcome] = await s.tickets.apply_signals([resolve("k", recovery=Recovery.CONFIRM)],
                                                  now=at(1), assess=Assessor())
        assert outcome.result == "recovered"

    db.run(scenario)


def test_acknowledge_signal(db):
    async def scenario(s):
        [opened] = await s.tickets.apply_signals([trigger("k")], now=T0, assess=Assessor())
        outcomes = await s.tickets.apply_signals([acknowledge("k"), acknowledge("k")],
                                                 now=at(5), assess=Assessor())
        assert [o.result for o in outcomes] == ["acknowledged", "ignored"]
        ticket = await s.tickets.get(opened.ticket_id)
        assert (ticket.status, ticket.acknowledged_at) == (Status.ACKNOWLEDGED, at(5))
        entry = (await s.tickets.timeline(opened.ticket_id))[-1]
        assert (entry.kind, entry.actor) == ("acknowledged", "events")
        # Acknowledged is still active: a trigger repeats it, a resolve resolves it.
        outcomes = await s.tickets.apply_signals([trigger("k"), resolve("k")], now=at(9),
                                                 assess=Assessor())
        assert [(o.result, o.ticket_id) for o in outcomes] == [
            ("repeated", opened.ticket_id), ("resolved", opened.ticket_id)]

    db.run(scenario)


def test_trigger_after_resolve_opens_a_new_ticket(db):
    async def scenario(s):
        [first] = await s.tickets.apply_signals([trigger("k")], now=T0, assess=Assessor())
        await s.tickets.apply_signals([resolve("k")], now=at(1), assess=Assessor())
        [second] = await s.tickets.apply_signals([trigger("k")], now=at(2), assess=Assessor())
        assert second.result == "created"
        assert second.ticket_id > first.ticket_id
        assert (await s.tickets.get(first.ticket_id)).status is Status.RESOLVED
        assert (await s.tickets.get(second.ticket_id)).status is Status.OPEN

    db.run(scenario)


def test_trigger_resolve_trigger_in_one_batch(db):
    async def scenario(s):
        outcomes = await s.tickets.apply_signals(
            [trigger("k"), trigger("k"), resolve("k"), trigger("k"), acknowledge("k")],
            now=T0, assess=Assessor())
        assert [o.result for o in outcomes] == [
            "created", "repeated", "resolved", "created", "acknowledged"]
        first, second = outcomes[0].ticket_id, outcomes[3].ticket_id
        assert outcomes[1].ticket_id == outcomes[2].ticket_id == first
        assert outcomes[4].ticket_id == second
        assert first < second                   # the older ticket has the smaller id
        old, new = await s.tickets.get(first), await s.tickets.get(second)
        assert (old.status, old.occurrences, old.resolved_at) == (Status.RESOLVED, 2, T0)
        assert (new.status, new.occurrences) == (Status.ACKNOWLEDGED, 1)
        assert [e.kind for e in await s.tickets.timeline(first)] == ["created", "resolved"]
        assert [e.kind for e in await s.tickets.timeline(second)] == [
            "created", "acknowledged"]

    db.run(scenario)


def test_alerts_of_a_down_host_attach_to_its_ticket(db):
    async def scenario(s):
        assess = Assessor()
        [down] = await s.tickets.apply_signals(
            [trigger("down@db-01", host="db-01", host_down=True)], now=T0, assess=assess)
        outcomes = await s.tickets.apply_signals(
            [trigger("disk@db-01", host="db-01", summary="disk slow"),
             trigger("disk@db-02", host="db-02"),
             trigger("ping@db-01", host="db-01", host_down=True),   # itself host-down
             trigger("loose", host=None)],
            now=at(5), assess=assess)
        assert [o.result for o in outcomes] == ["attached", "created", "created", "created"]
        child = await s.tickets.get(outcomes[0].ticket_id)
        assert (child.parent_id, child.status) == (down.ticket_id, Status.OPEN)
        parent_timeline = await s.tickets.timeline(down.ticket_id)
        assert [(e.kind, e.message) for e in parent_timeline] == [
            ("created", parent_timeline[0].message), ("attached", "attached: disk slow")]
        assert parent_timeline[1].data["ticket_id"] == child.id
        assert [t.id for t in await s.tickets.children(down.ticket_id)] == [child.id]
        # The queue shows the host-down ticket, not what hangs under it.
        listed = {t.id for t in await s.tickets.list(TicketFilter())}
        assert child.id not in listed and down.ticket_id in listed
        everything = {t.id for t in await s.tickets.list(TicketFilter(include_attached=True))}
        assert child.id in everything
        # A repeat of the child stays a repeat; once the host is back, alerts open tickets.
        [repeat] = await s.tickets.apply_signals([trigger("disk@db-01", host="db-01")],
                                                 now=at(6), assess=assess)
        assert (repeat.result, repeat.ticket_id) == ("repeated", child.id)
        outcomes = await s.tickets.apply_signals(
            [resolve("down@db-01"), resolve("ping@db-01"), trigger("cpu@db-01", host="db-01")],
            now=at(7), assess=assess)
        assert [o.result for o in outcomes] == ["resolved", "resolved", "created"]

    db.run(scenario)


def test_host_down_and_its_alerts_in_one_batch(db):
    async def scenario(s):
        outcomes = await s.tickets.apply_signals(
            [trigger("down@db-01", host="db-01", host_down=True),
             trigger("disk@db-01", host="db-01"),
             resolve("down@db-01"),
             trigger("cpu@db-01", host="db-01")],
            now=T0, assess=Assessor())
        assert [o.result for o in outcomes] == ["created", "attached", "resolved", "created"]
        # The host came back while the disk alert still fires: it is released, on its own now.
        child = await s.tickets.get(outcomes[1].ticket_id)
        assert (child.parent_id, child.status) == (None, Status.OPEN)
        assert [e.kind for e in await s.tickets.timeline(child.id)] == ["created", "released"]
        assert (await s.tickets.get(outcomes[3].ticket_id)).parent_id is None

    db.run(scenario)


def test_systems_affected_counts_hosts_of_a_component(db):
    async def scenario(s):
        assess = Assessor()
        outcomes = await s.tickets.apply_signals(
            [trigger("mail@a", host="a", component="mail"),
             trigger("mail@b", host="b", component="mail"),
             trigger("queue@a", host="a", component="mail"),     # same host: still 2
             trigger("dns@a", host="a", component="dns"),
             trigger("nohost", host=None, component="mail"),
             trigger("nocomponent", host="c")],
            now=T0, assess=assess)
        assert assess.calls == [("mail@a", 1), ("mail@b", 2), ("queue@a", 2), ("dns@a", 1),
                                ("nohost", 1), ("nocomponent", 1)]
        # More than one system: impact raised from medium to high, P3 -> P2.
        assert [o.priority for o in outcomes] == [
            Priority.P3, Priority.P2, Priority.P2, Priority.P3, Priority.P3, Priority.P3]
        # Later batches count the active tickets; resolved ones no longer count.
        await s.tickets.apply_signals([resolve("mail@b")], now=at(1), assess=assess)
        await s.tickets.apply_signals(
            [trigger("mail@c", host="c", component="mail"),
             resolve("mail@c"),
             trigger("mail@d", host="d", component="mail")],
            now=at(2), assess=assess)
        assert assess.calls[-2:] == [("mail@c", 2), ("mail@d", 2)]
        created = (await s.tickets.timeline(outcomes[1].ticket_id))[0]
        assert created.data["systems_affected"] == 2
        assert "2 systems affected: impact raised to high" in created.data["reasons"]

    db.run(scenario)


def test_outcomes_follow_the_batch_order(db):
    async def scenario(s):
        await s.tickets.apply_signals([trigger("a"), trigger("b")], now=T0, assess=Assessor())
        batch = [resolve("b"), trigger("c"), trigger("a"), resolve("zzz"), acknowledge("c")]
        outcomes = await s.tickets.apply_signals(batch, now=at(1), assess=Assessor())
        assert [(o.dedup_key, o.result) for o in outcomes] == [
            ("b", "resolved"), ("c", "created"), ("a", "repeated"), ("zzz", "ignored"),
            ("c", "acknowledged")]

    db.run(scenario)


def test_a_batch_is_one_transaction(db):
    def failing(signal, systems):
        if signal.dedup_key == "third":
            raise RuntimeError("registry unavailable")
        return Assessor()(signal, systems)

    async def scenario(s):
        await s.tickets.apply_signals([trigger("first")], now=T0, assess=Assessor())
        with pytest.raises(RuntimeError, match="registry unavailable"):
            await s.tickets.apply_signals(
                [trigger("first"), trigger("second"), trigger("third")], now=at(1),
                assess=failing)
        [ticket] = await s.tickets.list(TicketFilter())
        assert (ticket.dedup_key, ticket.occurrences) == ("first", 1)

    db.run(scenario)


def test_empty_batch_and_naive_times(db):
    async def scenario(s):
        assert await s.tickets.apply_signals([], now=T0, assess=Assessor()) == []
        with pytest.raises(ValueError, match="timezone-aware"):
            await s.tickets.apply_signals([trigger("k")], now=T0.replace(tzinfo=None),
                                          assess=Assessor())

    db.run(scenario)


def test_many_keys_are_read_in_chunks(db, monkeypatch):
    monkeypatch.setattr(tickets_module, "IN_CHUNK", 3)

    async def scenario(s):
        keys = [f"k{i}" for i in range(10)]
        await s.tickets.apply_signals([trigger(k) for k in keys], now=T0, assess=Assessor())
        outcomes = await s.tickets.apply_signals([trigger(k) for k in keys], now=at(1),
                                                 assess=Assessor())
        assert {o.result for o in outcomes} == {"repeated"}
        assert len({o.ticket_id for o in outcomes}) == 10

    db.run(scenario)


def test_a_ticket_opened_meanwhile_turns_the_trigger_into_a_repeat(db, caplog):
    """Another writer inserts the key after the batch would have read it: no second ticket.

    On PostgreSQL the batch's INSERT waits on the other transaction's uncommitted row, finds
    the key taken when it commits (ON CONFLICT DO NOTHING) and applies the batch again; on
    SQLite the batch waits for the write lock and then reads the other ticket.
    """

    async def scenario(s):
        async with s.engine.connect() as other:
            await other.begin()
            other_id = (await other.execute(insert(TICKETS).values(
                dedup_key="k", status=Status.OPEN, priority=Priority.P1,
                impact=Criticality.HIGH, urgency=Urgency.HIGH, summary="from elsewhere",
                description="", source=Source.MONITORING, origin="events", occurrences=1,
                first_seen=T0, last_seen=T0, created_at=T0, updated_at=T0, host_down=False,
                details={}).returning(TICKETS.c.id))).scalar_one()
            batch = asyncio.create_task(s.tickets.apply_signals(
                [trigger("k", seconds=5), trigger("fresh")], now=at(5), assess=Assessor()))
            await asyncio.sleep(0.5)
            assert not batch.done()             # blocked by the other writer
            await other.commit()
        outcomes = await batch
        assert [(o.result, o.ticket_id == other_id) for o in outcomes] == [
            ("repeated", True), ("created", False)]
        async with s.engine.connect() as connection:
            rows = (await connection.execute(
                select(TICKETS.c.dedup_key, TICKETS.c.occurrences).order_by(TICKETS.c.id))).all()
        assert [tuple(r) for r in rows] == [("k", 2), ("fresh", 1)]

    with caplog.at_level(logging.INFO, logger="regie.collector.store"):
        db.run(scenario)
    if db.kind == "postgresql":
        assert "opened meanwhile by another collector" in caplog.text
