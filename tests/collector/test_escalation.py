"""Escalation end to end through the collector, on SQLite and PostgreSQL.

Real collector application, real database, real webhook receiver verifying signatures; time
comes from an injected clock (tests/collector/oncall_harness.py), so "after 5 minutes" is a
clock step and nothing here depends on timing.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.collector.conftest import create_tokens
from tests.collector.oncall_harness import Clock, Receiver, collector, write_config
from tests.services import free_port


def run(coroutine):
    return asyncio.run(coroutine)


def test_p1_unacknowledged_goes_primary_secondary_manager(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            ticket = await c.open_ticket()
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            clock.advance(minutes=4, seconds=59)
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            clock.advance(seconds=1)
            await c.settle()
            assert receiver.told() == [("trigger", "alice"), ("escalate", "bob")]
            clock.advance(minutes=10)
            await c.settle()
            assert receiver.told()[-1] == ("escalate", "carol")
            assert len(receiver.told()) == 3
            clock.advance(hours=5)
            await c.settle()
            assert len(receiver.told()) == 3      # no steps left: nothing more
            kinds = [e["kind"] for e in await c.timeline(ticket)]
            assert kinds.count("escalated") == 3
            assert kinds.count("notified") == 3
            metrics = await c.call("GET", "/metrics", role="viewer")
            for step in ("1", "2", "3"):
                assert f'regie_escalation_steps_total{{step="{step}"}} 1.0' in metrics
            assert "regie_acknowledgements_expired_total 0.0" in metrics
            first = receiver.deliveries[0]
            assert first["priority"] == "P1" and first["ticket_id"] == ticket
            assert first["links"]["ack"].startswith(c.url + "/api/v1/actions/")
            assert receiver.refused == 0

    run(main())


def test_acknowledgement_stops_escalation_until_it_expires(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            ticket = await c.open_ticket()
            await c.settle()
            clock.advance(minutes=2)
            await c.call("POST", f"/api/v1/tickets/{ticket}/ack", expect=200)
            await c.settle()
            clock.advance(minutes=30)
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]     # no secondary: acknowledged
            # P1's default: an acknowledgement expires after 1h without resolution.
            clock.advance(minutes=31)
            await c.settle()
            assert receiver.told()[-1] == ("reacknowledge", "alice")
            shown = await c.call("GET", f"/api/v1/tickets/{ticket}")
            assert shown["status"] == "open"
            kinds = [e["kind"] for e in shown["timeline"]]
            assert "escalation_paused" in kinds and "acknowledgement_expired" in kinds
            metrics = await c.call("GET", "/metrics", role="viewer")
            assert "regie_acknowledgements_expired_total 1.0" in metrics
            # The re-page starts again from the first step.
            assert 'regie_escalation_steps_total{step="1"} 2.0' in metrics
            # Resolving ends it: everyone told hears of the resolution, trigger first.
            await c.call("POST", f"/api/v1/tickets/{ticket}/resolve", expect=200)
            await c.settle()
            assert receiver.told()[-1] == ("resolve", "alice")
            clock.advance(hours=2)
            await c.settle()
            assert [k for k, _ in receiver.told()].count("resolve") == 1

    run(main())


def test_restart_mid_escalation_fires_the_next_step_on_time(oncall):
    """The timers are in the database: a new collector process (here: a new application on
    the same database, with the background loop running) fires the step that fell due while
    the first one was gone, in its first sweep."""
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        await oncall.prepare()
        async with oncall.collector() as c:
            await c.open_ticket()
            await c.settle()
        assert receiver.told() == [("trigger", "alice")]
        clock.advance(minutes=5, seconds=0.5)      # down across the secondary's due time
        async with oncall.collector(run_loops=True):
            for _ in range(200):
                if len(receiver.told()) == 2:
                    break
                await asyncio.sleep(0.05)
        assert receiver.told() == [("trigger", "alice"), ("escalate", "bob")]
        await receiver.stop()

    run(main())


def test_retries_honour_retry_after_and_keep_order(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            receiver.script = [(429, {"Retry-After": "120"}), (503, {})]
            ticket = await c.open_ticket()
            await c.settle()                        # trigger: 429, retry in >= 120 s
            await c.call("POST", f"/api/v1/tickets/{ticket}/resolve", expect=200)
            await c.settle()                        # the resolve waits behind its trigger
            assert receiver.told() == []
            pending = (await c.call("GET", f"/api/v1/notifications?ticket={ticket}"))[
                "notifications"]
            assert {n["kind"] for n in pending} == {"trigger", "resolve"}
            assert all(n["status"] == "pending" for n in pending)
            clock.advance(seconds=100)
            await c.settle()
            assert receiver.told() == []            # Retry-After: 120 s not yet over
            clock.advance(seconds=25)
            await c.settle()                        # 503: backoff 20 s (+-10%)
            assert receiver.told() == []
            clock.advance(seconds=17)
            await c.settle()
            assert receiver.told() == []
            clock.advance(seconds=6)
            await c.settle()
            assert receiver.told() == [("trigger", "alice"), ("resolve", "alice")]
            done = (await c.call("GET", f"/api/v1/notifications?ticket={ticket}"))[
                "notifications"]
            assert {n["status"] for n in done} == {"delivered"}
            trigger = next(n for n in done if n["kind"] == "trigger")
            assert trigger["attempts"] == 3

    run(main())


def test_a_refusing_receiver_makes_a_visible_dead_letter(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            receiver.script = [(400, {})]
            ticket = await c.open_ticket()
            await c.settle()
            dead = (await c.call("GET", "/api/v1/notifications?status=dead"))["notifications"]
            assert [(n["ticket_id"], n["kind"], n["recipient"]) for n in dead] == [
                (ticket, "trigger", "alice")]
            assert "400" in dead[0]["last_error"]
            timeline = await c.timeline(ticket)
            assert any(e["kind"] == "notification_failed" for e in timeline)
            metrics = await c.call("GET", "/metrics", role="viewer")
            assert 'regie_notifications_queued{channel="hook",status="dead"} 1.0' in metrics
            assert 'regie_notification_outcomes_total{channel="hook",outcome="dead"} 1.0' \
                in metrics
            # Other steps still go out.
            clock.advance(minutes=5)
            await c.settle()
            assert receiver.told() == [("escalate", "bob")]

    run(main())


def test_one_click_links_act_once_and_only_as_signed(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            ticket = await c.open_ticket()
            await c.settle()
            links = receiver.deliveries[0]["links"]
            ack_path = links["ack"].removeprefix(c.url)
            page = await c.call("GET", ack_path, role="")
            assert f'<form method="post" action="{links["ack"]}">' in page
            assert "Acknowledge" in page
            assert (await c.call("GET", f"/api/v1/tickets/{ticket}"))["status"] == "open"
            acked = await c.call("POST", ack_path, role="", expect=200)
            assert acked["status"] == "acknowledged"
            # The link was issued to alice (the primary): the act is recorded as hers, and
            # the ticket is hers (the person, not the way she acted).
            assert acked["assignee"] == "alice"
            timeline = (await c.call("GET", f"/api/v1/tickets/{ticket}"))["timeline"]
            assert [e["actor"] for e in timeline if e["kind"] == "acknowledged"] == \
                ["alice (one-click link)"]
            again = await c.call("POST", ack_path, role="", expect=409)
            assert "used already: acknowledged by alice (one-click link)" in again["error"]
            tampered = ack_path.replace(f".{ticket}.", f".{ticket + 1}.")
            await c.call("POST", tampered, role="", expect=403)
            clock.advance(days=2)                    # past the 24 h expiry
            resolve_path = links["resolve"].removeprefix(c.url)
            expired = await c.call("POST", resolve_path, role="", expect=403)
            assert "expired" in expired["error"]

    run(main())


def test_impact_beyond_one_system_calls_the_escalation_manager_at_once(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            await c.open_ticket(host="db1")
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            clock.advance(minutes=1)
            second = await c.open_ticket(host="db2")
            await c.settle()
            told = receiver.told()
            assert ("escalate", "carol") in told[1:]       # at once, not after 15 minutes
            notice = next(d for d in receiver.deliveries if d.get("recipient") == "carol")
            assert "2 systems" in notice["reason"]
            timeline = await c.timeline(second)
            assert any("impact spans 2 systems" in e["message"] for e in timeline)
            told_carol = [e["message"] for e in timeline if e["kind"] == "escalated"
                          and e["data"].get("role") == "escalation_manager"]
            assert told_carol == ["multi-system impact: queued for carol via hook: impact "
                                  "spans 2 systems: escalation_manager decides"]

    run(main())


P3_POLICIES = """\
policies:
  P1: {steps: [{after: 0m, notify: primary}]}
  P2: {steps: [{after: 0m, notify: primary}]}
  P3:
    business_hours_only: true
    steps:
      - {after: 0m, notify: primary}
      - {after: 4h, notify: secondary, reason: "acknowledgement SLA (4h) breached"}
  P4: {steps: []}
"""


def test_p3_waits_for_business_hours_and_escalates_on_sla_breach(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running(policies=P3_POLICIES) as c:  # Wednesday 03:00 UTC
            ticket = await c.open_ticket(impact="medium", urgency="medium")   # P3
            await c.settle()
            assert receiver.told() == []           # no night paging
            escalation = await c.call("GET", f"/api/v1/tickets/{ticket}/escalation",
                                      role="viewer")
            assert escalation["due_at"].startswith("2026-12-02T09:00")
            clock.advance(hours=6)                 # 09:00: business hours begin
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            # The SLA counts from the first notice (09:00), not from the night.
            clock.advance(hours=3, minutes=59)
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            clock.advance(minutes=1)
            await c.settle()
            assert receiver.told() == [("trigger", "alice"), ("escalate", "bob")]
            assert "SLA" in receiver.deliveries[-1]["reason"]

    run(main())


@pytest.fixture
def pg_setup(tmp_path):
    from tests.collector.conftest import migrated, throwaway_database

    with throwaway_database("postgresql", tmp_path) as url:
        migrated(url)
        yield url, tmp_path, create_tokens(url)


def test_two_collectors_on_postgresql_fire_each_step_once(pg_setup):
    """Two collector applications (two engines, two connection pools) sweep and deliver the
    same database at once, in small claims so that they interleave: row locks with SKIP
    LOCKED must give every step, and every delivery, to exactly one of them."""
    db, tmp_path, tokens = pg_setup
    receiver = Receiver()
    tickets = 40

    # 40 due steps at a time, claimed 3 at a time by 4 sweeps a round: 4 rounds do it. A bound
    # well above that turns a step that stays due (fired again at every sweep) into a failure
    # that says so, where an unbounded loop would hang.
    rounds = 100

    async def sweep_both(a, b) -> None:
        for _ in range(rounds):
            counts = await asyncio.gather(*(
                c.oncall.escalator.store.sweep(c.clock(), c.oncall.escalator.planned,
                                               window_seconds=900, limit=3)
                for c in (a, b) for _ in range(2)))
            if not any(r.claimed for r in counts):
                return
        raise AssertionError(f"escalations still due after {rounds} sweep rounds at "
                             f"{a.clock().isoformat()}: a step fires again and again")

    async def deliver_both(a, b) -> None:
        for _ in range(rounds):
            if not sum(await asyncio.gather(a.deliver(), b.deliver(), a.deliver(),
                                            b.deliver())):
                return
        raise AssertionError(f"notifications still queued after {rounds} delivery rounds")

    async def main():
        await receiver.start()
        port_a, port_b = free_port(), free_port()
        config = write_config(tmp_path, receiver_url=receiver.url, port=port_a)
        clock = Clock()
        async with (collector(config, db, clock, tokens, port=port_a) as a,
                    collector(config, db, clock, tokens, port=port_b) as b):
            ids = [await (a if i % 2 else b).open_ticket(host=f"h{i}", component=f"c{i}")
                   for i in range(tickets)]
            await sweep_both(a, b)
            await deliver_both(a, b)
            clock.advance(minutes=5)
            await sweep_both(a, b)
            await deliver_both(a, b)
            for ticket in ids:
                timeline = await a.timeline(ticket)
                steps = [e["data"]["step"] for e in timeline if e["kind"] == "escalated"]
                assert steps == [1, 2], (ticket, steps)
        per_ticket = {}
        for d in receiver.deliveries:
            per_ticket.setdefault(d["ticket_id"], []).append((d["kind"], d["recipient"]))
        assert set(per_ticket) == set(ids)
        assert all(v == [("trigger", "alice"), ("escalate", "bob")]
                   for v in per_ticket.values()), per_ticket
        await receiver.stop()

    run(main())


def test_pages_reach_people_by_email_over_starttls(oncall):
    """A real SMTP server (aiosmtpd, STARTTLS required, AUTH) on loopback: an `email` channel
    without `to` writes to each on-call person's address from the schedule."""
    from tests.alerting.notify.peers import PASSWORD, USER, smtp_server
    from tests.tls import make_tls

    tmp_path, clock = oncall.tmp_path, oncall.clock
    (tmp_path / "tls").mkdir()
    tls = make_tls(tmp_path / "tls")
    (tmp_path / "smtp.password").write_text(PASSWORD + "\n")
    (tmp_path / "smtp.password").chmod(0o600)   # secret files other users can read are refused

    async def main(box):
        async with oncall.running(extra=f"""
[[oncall.channels]]
name = "mail"
kind = "email"
host = "127.0.0.1"
port = {box.port}
mode = "starttls"
ca_file = "{tls.ca}"
username = "{USER}"
password_file = "{tmp_path / 'smtp.password'}"
from_address = "Regie <regie@example.org>"
""") as c:
            ticket = await c.open_ticket()
            await c.settle()
            clock.advance(minutes=5)
            await c.settle()
            told = await c.call("GET", f"/api/v1/notifications?ticket={ticket}")
            mails = [n for n in told["notifications"] if n["channel"] == "mail"]
            assert {n["status"] for n in mails} == {"delivered"}

    with smtp_server(tls=tls, mode="starttls") as box:
        run(main(box))
        assert [rcpt for _, rcpt, _ in box.messages] == [["alice@example.org"],
                                                         ["bob@example.org"]]
        assert all(box.tls_seen) and box.logins == [(USER, True), (USER, True)]
        first = box.messages[0][2]
        assert first["Subject"].startswith("[P1]") and "postgres down on db1" in first["Subject"]
        body = first.get_body(preferencelist=("plain",)).get_content()
        assert "/api/v1/actions/" in body


def test_monitoring_acknowledge_and_resolve_drive_the_escalation(oncall):
    """The Events API path (bulk ingest) changes tickets too: its acknowledge stops the
    escalation, its resolve sends the resolve notice."""
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            event = {"routing_key": oncall.tokens["ingest"], "dedup_key": "db1/replication",
                     "event_action": "trigger",
                     "payload": {"summary": "replication broken", "source": "db1",
                                 "severity": "critical", "component": "postgres"}}
            await c.call("POST", "/api/v1/events", role="", body=event, expect=202)
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            await c.call("POST", "/api/v1/events", role="", expect=202,
                         body={**event, "event_action": "acknowledge"})
            clock.advance(minutes=10)
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            await c.call("POST", "/api/v1/events", role="", expect=202,
                         body={**event, "event_action": "resolve"})
            await c.settle()
            assert receiver.told() == [("trigger", "alice"), ("resolve", "alice")]

    run(main())


def test_a_priority_override_restarts_under_the_new_policy(oncall):
    receiver = oncall.receiver

    async def main():
        async with oncall.running() as c:  # 03:00: a P3 waits for business hours
            ticket = await c.open_ticket(impact="medium", urgency="medium")
            await c.settle()
            assert receiver.told() == []
            await c.call("POST", f"/api/v1/tickets/{ticket}/priority", expect=200,
                         body={"priority": "P1", "reason": "payroll runs tonight",
                               "actor": "dave"})
            await c.settle()
            # Not a new ticket: the notice says the priority changed, by whom and why.
            assert receiver.told() == [("priority_changed", "alice")]
            reason = "priority changed P3 → P1 by dave: payroll runs tonight"
            assert receiver.deliveries[0]["reason"] == reason
            escalation = await c.call("GET", f"/api/v1/tickets/{ticket}/escalation")
            assert escalation["policy"]["priority"] == "P1"
            escalated = [e["message"] for e in await c.timeline(ticket)
                         if e["kind"] == "escalated"]
            assert escalated == [f"step 1 (primary): queued for alice via hook: {reason}"]
            # Said once: the next step (the secondary, 5 minutes later) is an escalation.
            oncall.clock.advance(minutes=5)
            await c.settle()
            assert receiver.told()[1:] == [("escalate", "bob")]
            assert receiver.deliveries[1]["reason"] == "not acknowledged after 5m"

    run(main())


def test_a_channel_rate_limit_delays_and_never_drops(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        # 6 a minute: one token at a time, the next one 10 s later.
        async with oncall.running(hook_rate=6) as c:
            fake = [0.0]
            c.oncall.notifier._monotonic = lambda: fake[0]
            for i in range(3):
                await c.open_ticket(host=f"h{i}", component=f"c{i}")
            await c.settle()
            assert len(receiver.told()) == 1
            for expected in (2, 3):
                fake[0] += 10.5
                clock.advance(seconds=10.5)
                await c.settle()
                assert len(receiver.told()) == expected
            metrics = await c.call("GET", "/metrics", role="viewer")
            assert 'regie_notification_outcomes_total{channel="hook",outcome="rate_limited"}' \
                in metrics

    run(main())


def test_a_correlated_group_is_raised_per_the_matrix_and_told_once(oncall):
    """Two monitoring tickets on one component, on two hosts: the second one crosses the
    threshold. The escalation manager is told once, and the first ticket (opened at P2, when
    one system was affected) is raised to what the matrix gives for two systems (P1)."""
    receiver, clock = oncall.receiver, oncall.clock

    def event(host: str) -> dict:
        return {"routing_key": oncall.tokens["ingest"], "dedup_key": f"{host}/replication",
                "event_action": "trigger",
                "payload": {"summary": f"replication broken on {host}", "source": host,
                            "severity": "critical", "component": "postgres"}}

    async def main():
        async with oncall.running() as c:
            await c.call("POST", "/api/v1/events", role="", body=event("db1"), expect=202)
            await c.settle()
            first = (await c.call("GET", "/api/v1/tickets"))["tickets"][0]
            assert first["priority"] == "P2"       # medium system x high urgency
            clock.advance(minutes=2)
            await c.call("POST", "/api/v1/events", role="", body=event("db2"), expect=202)
            await c.settle()
            second = (await c.call("GET", "/api/v1/tickets"))["tickets"][0]
            assert second["priority"] == "P1"      # two systems: impact raised at opening
            raised = await c.call("GET", f"/api/v1/tickets/{first['id']}")
            assert (raised["priority"], raised["impact"]) == ("P1", "high")
            row = next(e for e in raised["timeline"] if e["kind"] == "priority_raised")
            assert row["message"] == (f"priority P2 -> P1: impact spans 2 systems "
                                      f"(correlated with ticket {second['id']})")
            # The first ticket's next step (P2: secondary after 15 min, at 15:00) does not
            # tell the escalation manager again (the second's own 15-minute step would, at
            # 17:00: that is its policy).
            clock.advance(minutes=13, seconds=30)
            await c.settle()
            first_steps = [e["data"].get("step") for e in (await c.timeline(first["id"]))
                           if e["kind"] == "escalated"]
            assert first_steps == [1, 2]
            assert [r for _, r in receiver.told() if r == "carol"] == ["carol"]

    run(main())
