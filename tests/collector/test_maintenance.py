"""Maintenance windows end to end through the collector, on SQLite and PostgreSQL.

Real collector application, real database, real webhook receiver verifying signatures (the
on-call harness); only time is injected (tests/collector/oncall_harness.py `Clock`), so "when
the window ends" is a clock step and nothing here depends on timing. Alerts arrive through the
Events API, the Alertmanager webhook and the embedded evaluator (a real agent scraped with the
bundled rules; elsewhere its intake call, `Intake.signals` with evaluator signals).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.collector.conftest import create_tokens
from tests.collector.oncall_harness import OnCall, Running


def run(coroutine):
    return asyncio.run(coroutine)


def iso(moment) -> str:
    return moment.isoformat()


async def add_window(c: Running, **fields: Any) -> dict[str, Any]:
    body = {"name": "db1 kernel update", "start": iso(c.clock.now - timedelta(minutes=1)),
            "end": iso(c.clock.now + timedelta(hours=1)), "hosts": ["db1"], **fields}
    return await c.call("POST", "/api/v1/maintenance", body=body, expect=201)


async def event(c: Running, action: str, *, host: str = "db1", key: str = "disk-db1",
                severity: str = "critical") -> None:
    await c.call("POST", "/api/v1/events", role="ingest", expect=202, body={
        "routing_key": "r", "event_action": action, "dedup_key": key,
        "payload": {"summary": f"disk full on {host}", "source": host,
                    "severity": severity}})


async def ticket_of(c: Running, host: str) -> dict[str, Any]:
    tickets = (await c.call("GET", f"/api/v1/tickets?host={host}&status=open,acknowledged,"
                                   f"resolved&source=monitoring", role="viewer"))["tickets"]
    assert len(tickets) == 1, tickets
    return await c.call("GET", f"/api/v1/tickets/{tickets[0]['id']}", role="viewer")


def told_about(receiver, host: str) -> list[tuple[str, str | None]]:
    return [(d["kind"], d.get("recipient")) for d in receiver.deliveries if d["host"] == host]


def kinds(ticket: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in ticket["timeline"]]


def test_an_alert_in_a_window_does_not_page_and_pages_at_its_end_if_still_firing(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            window = await add_window(c)
            assert window["active"] is True
            await event(c, "trigger")
            await event(c, "trigger", host="db2", key="disk-db2")   # outside the scope
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            assert receiver.deliveries[0]["host"] == "db2"
            held = await ticket_of(c, "db1")
            assert held["maintenance"]["name"] == "db1 kernel update"
            assert held["maintenance"]["window"] == str(window["id"])
            assert "maintenance" in kinds(held)
            assert "during maintenance: db1 kernel update" in held["timeline"][1]["message"]
            assert (await ticket_of(c, "db2"))["maintenance"] is None
            metrics = await c.call("GET", "/metrics", role="viewer")
            assert 'regie_maintenance_windows_active{source="window"} 1.0' in metrics
            assert "regie_maintenance_alerts_held 1.0" in metrics
            # Repeats inside the window change nothing; up to its last second nobody is told.
            clock.advance(minutes=30)
            await event(c, "trigger")
            await c.settle()
            clock.advance(minutes=29, seconds=59)
            await c.settle()
            assert told_about(receiver, "db1") == []
            clock.advance(seconds=1)                      # the window's end: still firing
            await c.settle()
            assert told_about(receiver, "db1") == [("trigger", "alice")]
            assert "maintenance_ended" in kinds(await ticket_of(c, "db1"))
            # The escalation counts from the window's end: the secondary 15 minutes later
            # (P2), not at once for the hour it waited.
            clock.advance(minutes=14)
            await c.settle()
            assert told_about(receiver, "db1") == [("trigger", "alice")]
            clock.advance(minutes=1)
            await c.settle()
            assert told_about(receiver, "db1") == [("trigger", "alice"), ("escalate", "bob")]
            metrics = await c.call("GET", "/metrics", role="viewer")
            assert 'regie_maintenance_windows_active{source="window"} 0.0' in metrics
            assert "regie_maintenance_alerts_held 0.0" in metrics

    run(main())


def test_an_alert_that_recovers_inside_the_window_resolves_without_a_notice(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            await add_window(c)
            await event(c, "trigger")
            await c.settle()
            clock.advance(minutes=20)
            await event(c, "resolve")
            await c.settle()
            ticket = await ticket_of(c, "db1")
            assert ticket["status"] == "resolved"
            clock.advance(hours=2)                        # past the window's end
            await c.settle()
            assert receiver.told() == []                  # never paged: no resolve notice
            notifications = await c.call("GET", "/api/v1/notifications", role="viewer")
            assert notifications["notifications"] == []

    run(main())


def test_a_paged_alert_resolving_inside_a_window_tells_who_was_paged(oncall):
    """A window does not swallow the resolve notice of an alert that paged before it."""
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            await event(c, "trigger")
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            await add_window(c)
            clock.advance(minutes=20)     # P2 secondary would be due: held by the window
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            assert "escalation_held" in kinds(await ticket_of(c, "db1"))
            await event(c, "resolve")
            await c.settle()
            assert receiver.told() == [("trigger", "alice"), ("resolve", "alice")]

    run(main())


def test_ending_a_window_early_releases_the_steps_it_held(oncall):
    """An alert paged before the window: its next step, held by the window, fires when the
    window is ended early, not at the window's planned end."""
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            await event(c, "trigger")
            await c.settle()
            window = await add_window(c)
            clock.advance(minutes=20)     # P2's secondary is due: held by the window
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            await c.call("POST", f"/api/v1/maintenance/{window['id']}/end", expect=200)
            await c.settle()
            assert receiver.told() == [("trigger", "alice"), ("escalate", "bob")]

    run(main())


def test_the_webhook_and_the_evaluator_paths_are_held_too(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        from alerting.ticket import Action, Signal, Urgency
        from collector.app import INTAKE

        async with oncall.running() as c:
            await add_window(c, hosts=[], matchers=['alertname=~"Disk.*"'],
                             name="storage work")
            alert = {"status": "firing", "fingerprint": "f1",
                     "labels": {"alertname": "DiskFull", "host": "web1", "severity": "critical"},
                     "annotations": {"summary": "disk full"},
                     "startsAt": iso(clock.now)}
            other = {**alert, "fingerprint": "f2", "annotations": {"summary": "load high"},
                     "labels": {"alertname": "LoadHigh", "host": "web1",
                                "severity": "critical"}}
            await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200,
                         body={"version": "4", "status": "firing", "alerts": [alert, other]})
            await c.app[INTAKE].signals([Signal(
                dedup_key="evaluator/DiskFilling/web2", action=Action.TRIGGER,
                origin="evaluator", summary="disk filling", occurred_at=clock.now,
                host="web2", urgency=Urgency.HIGH,
                details={"rule": "DiskFilling", "labels": {"mountpoint": "/"}})])
            await c.settle()
            tickets = (await c.call("GET", "/api/v1/tickets", role="viewer"))["tickets"]
            held = {t["summary"]: t["maintenance"] is not None for t in tickets}
            assert held == {"disk full": True, "disk filling": True, "load high": False}
            assert [d["summary"] for d in receiver.deliveries] == ["load high"]
            clock.advance(hours=1)
            await c.settle()
            triggers = sorted(d["summary"] for d in receiver.deliveries
                              if d["kind"] == "trigger")
            assert triggers == ["disk filling", "disk full", "load high"]  # still firing

    run(main())


def test_ending_a_window_early_pages_what_it_held_now(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            window = await add_window(c)
            await event(c, "trigger")
            await c.settle()
            clock.advance(minutes=5)
            ended = await c.call("POST", f"/api/v1/maintenance/{window['id']}/end",
                                 expect=200, body={})
            assert ended["active"] is False and ended["ended_by"]
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            assert "maintenance_ended" in kinds(await ticket_of(c, "db1"))
            # A new alert of the scope pages at once now.
            await event(c, "trigger", key="other-db1")
            await c.settle()
            assert len(receiver.told()) == 2

    run(main())


def test_a_held_alert_pages_after_a_restart_past_the_window_end(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        await oncall.prepare()
        try:
            async with oncall.collector() as c:
                await add_window(c)
                await event(c, "trigger")
                await c.settle()
            assert receiver.told() == []
            clock.advance(hours=1, minutes=5)  # the window ended while no collector ran
            async with oncall.collector() as c:
                await c.settle()
                assert receiver.told() == [("trigger", "alice")]
        finally:
            await oncall.receiver.stop()

    run(main())


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"end": "+1h", "start": "+2h"}, 409, "end: must be after the start"),
    ({"timezone": "Mars/Olympus"}, 409, "timezone: unknown time zone"),
    # Names ZoneInfo looks up as files that are no zone: a directory of the time zone
    # database raised IsADirectoryError, answered 503 ("the database is unavailable; retry
    # later": a sender retries for ever); posixrules is a file of the database, no zone.
    ({"timezone": "Europe"}, 409, "timezone: unknown time zone 'Europe'"),
    ({"timezone": "Etc"}, 409, "timezone: unknown time zone 'Etc'"),
    ({"timezone": "posixrules"}, 409, "timezone: unknown time zone 'posixrules'"),
    ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, 409, "rrule: never occurs"),
    ({"rrule": "FREQ=SECONDLY"}, 409, "rrule: FREQ must be one of"),
    ({"matchers": ['alertname~"x"']}, 409, "matchers[0]: "),
    ({"hosts": []}, 409, "hosts: give at least one host, service or label matcher"),
    ({"start": "-3h", "end": "-2h"}, 409, "end: is in the past"),
    ({"start": "tomorrow"}, 409, "start: 'tomorrow' is not an ISO 8601 time"),
    ({"hosts": "db1"}, 400, "hosts: must be an array"),
    ({"hosts": ["db1", 7]}, 400, "hosts[1]: must be a string"),
    ({"colour": "red"}, 400, "colour: unknown field"),
    ({"name": None}, 400, "name: is required"),
])
def test_bad_windows_are_refused_with_a_reason_and_nothing_is_written(oncall, body, status,
                                                                      reason):
    async def main(body=body):
        async with oncall.running() as c:
            now = c.clock.now
            sent = {"name": "w", "start": iso(now), "end": iso(now + timedelta(hours=1)),
                    "hosts": ["db1"]}
            for key in ("start", "end"):
                value = body.get(key)
                if isinstance(value, str) and value[:1] in "+-" and value.endswith("h"):
                    body = {**body, key: iso(now + timedelta(hours=int(value[:-1])))}
            sent.update(body)
            answer = await c.call("POST", "/api/v1/maintenance", body=sent, expect=status)
            assert answer["error"].startswith(reason), answer
            listed = await c.call("GET", "/api/v1/maintenance?all=true", role="viewer")
            assert listed["windows"] == []

    run(main())


def test_reading_needs_a_token_and_adding_a_responder(oncall):
    async def main():
        async with oncall.running() as c:
            await c.call("GET", "/api/v1/maintenance", role=None, expect=401)
            await c.call("POST", "/api/v1/maintenance", role="viewer", expect=403,
                         body={"name": "w", "start": iso(c.clock.now), "duration": "1h",
                               "hosts": ["db1"]})
            await c.call("POST", "/api/v1/maintenance/1/end", role="viewer", expect=403)
            await c.call("GET", "/api/v1/maintenance/1", role="viewer", expect=404)

    run(main())


def test_a_recurring_window_holds_each_occurrence(oncall):
    """Every night 02:00-04:00 Europe/Amsterdam (CET in December: 01:00-03:00 UTC)."""
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:            # the clock starts Wed 03:00 UTC
            window = await add_window(c, start="2026-11-30T02:00", end="2026-11-30T04:00",
                                      timezone="Europe/Amsterdam", rrule="FREQ=DAILY")
            assert window["active"] is False           # 04:00 local: just ended
            assert window["next"] == {"start": "2026-12-03T01:00:00+00:00",
                                      "end": "2026-12-03T03:00:00+00:00"}
            clock.advance(hours=22, minutes=30)        # Thu 01:30 UTC = 02:30 CET
            await event(c, "trigger")
            await c.settle()
            assert receiver.told() == []
            clock.advance(hours=1, minutes=30)         # 03:00 UTC: the occurrence ends
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]

    run(main())


def test_an_approved_changes_window_holds_alerts_until_it_completes(oncall):
    """A standard change (approved when submitted) on db1: its planned window is a maintenance
    window; completing the change early pages what it held and still fires."""
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        from collector.app import MAINTENANCE

        async with oncall.running() as c:
            await c.call("POST", "/api/v1/tickets", expect=201,
                         body={"summary": "db1 is known", "host": "db1"})   # host resolution
            await c.settle()
            receiver.deliveries.clear()
            change = await c.call("POST", "/api/v1/changes", role="admin", expect=201, body={
                "type": "standard", "summary": "postgres minor upgrade", "hosts": ["db1"],
                "planned_start": iso(clock.now + timedelta(minutes=10)),
                "planned_end": iso(clock.now + timedelta(hours=2)), "timezone": "UTC"})
            path = f"/api/v1/changes/{change['id']}"
            approved = await c.call("POST", path + "/submit", role="admin", expect=200)
            assert approved["status"] == "approved", approved
            clock.advance(minutes=15)
            await c.app[MAINTENANCE].reload()     # what the refresh loop does every 10 s
            listed = await c.call("GET", "/api/v1/maintenance", role="viewer")
            assert [(a["source"], a["window"]) for a in listed["active"]] == [
                ("change", f"change-{change['id']}")]
            await event(c, "trigger")
            await c.settle()
            assert receiver.told() == []
            assert (await ticket_of(c, "db1"))["maintenance"]["name"] == \
                f"change {change['id']}: postgres minor upgrade"
            await c.call("POST", path + "/start", role="admin", expect=200)
            await c.app[MAINTENANCE].reload()      # in progress: still a window
            await c.settle()
            assert receiver.told() == []
            await c.call("POST", path + "/complete", role="admin", expect=200,
                         body={"outcome": "successful"})
            await c.app[MAINTENANCE].reload()      # completed early: the window is gone
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]

    run(main())


def test_the_embedded_evaluators_alerts_are_held(tmp_path, sqlite_db):
    """The evaluator's own path: a real `regie agent run` watching a certificate that expires
    in three days, scraped by the embedded evaluator with the bundled rules, whose signals go
    to this collector's intake; the agent's host is in maintenance. Time is the clock the
    evaluator and the collector share, started at the real time (the certificate's)."""
    import socket
    from datetime import UTC, datetime

    import aiohttp

    from collector.app import INTAKE
    from collector.evaluator import Evaluator, EvaluatorTarget
    from collector.rules_file import load_rule_set
    from tests.agent.certs import make_ca, make_leaf
    from tests.agent.conftest import agent_process

    oncall = OnCall(db=sqlite_db, tmp_path=tmp_path, tokens=create_tokens(sqlite_db))
    clock, receiver = oncall.clock, oncall.receiver
    clock.now = datetime.now(UTC).replace(microsecond=0)
    host = socket.gethostname()
    leaf = make_leaf(tmp_path, make_ca(tmp_path, "Regie Test CA"), "shop.example.net",
                     not_after=clock.now + timedelta(days=3))

    async def main(port: int):
        async with oncall.running() as c:
            await add_window(c, hosts=[host], name="certificate rotation")
            async with aiohttp.ClientSession() as session:
                evaluator = Evaluator([EvaluatorTarget(f"127.0.0.1:{port}", host)],
                                      load_rule_set(None).rules, interval_seconds=60,
                                      ingest=c.app[INTAKE].signals, session=session,
                                      clock=clock)
                fired = await evaluator.evaluate_once()
            assert "CertificateExpiresVerySoon" in {s.details["rule"] for s in fired}
            await c.settle()
            assert receiver.told() == []
            tickets = (await c.call("GET", f"/api/v1/tickets?host={host}",
                                    role="viewer"))["tickets"]
            assert tickets and all(t["origin"] == "evaluator" for t in tickets)
            assert all(t["maintenance"]["name"] == "certificate rotation" for t in tickets)
            clock.advance(hours=1)                   # the window ends; still firing
            await c.settle()
            assert ("trigger", "alice") in receiver.told()

    with agent_process(tmp_path, f'[health]\ncertificate_files = ["{leaf.cert}"]\n') as agent:
        run(main(agent.port))


def test_a_weekly_window_across_the_spring_dst_change(oncall):
    """Every Sunday 02:00-04:00 Europe/Amsterdam: 01:00-03:00 UTC the week before clocks go
    forward, 01:00-02:00 UTC on that night (last Sunday of March 2027: 02:00 CET is 03:00
    CEST), so an alert at 02:30 UTC (04:30 local) that night pages at once."""
    from datetime import UTC, datetime

    receiver, clock = oncall.receiver, oncall.clock
    clock.now = datetime(2027, 3, 21, 2, 30, tzinfo=UTC)     # 03:30 CET, inside

    async def main():
        async with oncall.running() as c:
            await add_window(c, name="Sunday patching", hosts=["db*"],
                             start="2027-03-07T02:00", end="2027-03-07T04:00",
                             timezone="Europe/Amsterdam", rrule="FREQ=WEEKLY;BYDAY=SU")
            await event(c, "trigger", host="db1", key="a")
            await c.settle()
            assert told_about(receiver, "db1") == []
            clock.now = datetime(2027, 3, 21, 3, 0, tzinfo=UTC)   # 04:00 CET: the end
            await c.settle()
            assert told_about(receiver, "db1") == [("trigger", "alice")]
            clock.now = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST, inside
            await event(c, "trigger", host="db2", key="b")
            await c.settle()
            assert told_about(receiver, "db2") == []
            clock.now = datetime(2027, 3, 28, 2, 0, tzinfo=UTC)   # 04:00 CEST: the end
            await c.settle()
            assert told_about(receiver, "db2") == [("trigger", "alice")]
            clock.now = datetime(2027, 3, 28, 2, 30, tzinfo=UTC)  # 04:30 CEST: outside
            await event(c, "trigger", host="db3", key="c")
            await c.settle()
            assert told_about(receiver, "db3") == [("trigger", "alice")]

    run(main())


def test_two_collectors_on_postgresql_share_the_windows_and_page_once(tmp_path):
    """A window added through one collector holds an alert that arrives at the other (after
    its refresh); at the window's end both sweep, and the alert pages once."""
    from collector.app import MAINTENANCE
    from tests.collector.conftest import migrated, throwaway_database
    from tests.collector.oncall_harness import collector
    from tests.services import free_port

    async def main(oncall: OnCall):
        db = oncall.db
        await oncall.prepare()
        other = free_port()
        try:
            async with oncall.collector() as a, collector(
                    oncall.config, db, oncall.clock, oncall.tokens, port=other) as b:
                await add_window(a)
                await b.app[MAINTENANCE].reload()   # what b's refresh loop does
                await event(b, "trigger")
                await b.settle()
                await a.settle()
                assert oncall.receiver.told() == []
                assert (await ticket_of(a, "db1"))["maintenance"] is not None
                oncall.clock.advance(hours=1)
                await asyncio.gather(a.sweep(), b.sweep())
                await a.settle()
                await b.settle()
                assert oncall.receiver.told() == [("trigger", "alice")]
        finally:
            await oncall.receiver.stop()

    with throwaway_database("postgresql", tmp_path) as url:
        db = migrated(url)
        run(main(OnCall(db=db, tmp_path=tmp_path, tokens=create_tokens(db))))
