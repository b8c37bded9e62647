"""Inhibit rules applied by the store (`TicketStore.apply_signals`), on SQLite and PostgreSQL:
an inhibited alert attaches to its inhibitor's ticket and gets no escalation; when the
inhibitor resolves while it still fires, it is released and pages on its own."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from alerting.escalation_policy import parse_policies
from alerting.inhibition import InhibitRule, parse_inhibit_rules
from alerting.ticket import Priority, Status, Urgency
from collector.rules_file import load_rule_set
from collector.store.escalations import ESCALATIONS, EscalationPlan, EscalationStore
from tests.collector.store.signals import T0, Assessor, at, resolve, trigger

POLICIES = Path(__file__).resolve().parents[3] / "collector" / "data" / "default_escalation.yml"
SHIPPED = load_rule_set(None).inhibit_rules


def fs(rule: str, host: str, mountpoint: str = "/var", urgency: Urgency = Urgency.MEDIUM,
       origin: str = "evaluator"):
    """A filesystem alert as the embedded evaluator sends it (rule name and series labels in
    details)."""
    labels = {"device": "/dev/sda2", "fstype": "ext4", "mountpoint": mountpoint}
    return trigger(f"evaluator:{rule}:{host}:mountpoint={mountpoint}", host=host,
                   component="filesystem", urgency=urgency, origin=origin,
                   details={"rule": rule, "labels": labels})


def am_fs(alertname: str, host: str, mountpoint: str = "/var"):
    """The same alert as Alertmanager delivers it (its labels in details)."""
    labels = {"alertname": alertname, "instance": f"{host}:9847", "host": host,
              "device": "/dev/sda2", "mountpoint": mountpoint}
    return trigger(f"alertmanager/{alertname}{host}{mountpoint}", host=host,
                   component="filesystem", details={"labels": labels})


async def with_rules(s, rules: tuple[InhibitRule, ...] = SHIPPED, *, escalation: bool = False):
    s.tickets.inhibit_rules = rules
    if escalation:
        document = yaml.safe_load(POLICIES.read_text())
        ids = await EscalationStore(s.engine).register(
            parse_policies(document, source=str(POLICIES)), now=T0)
        s.tickets.escalation = EscalationPlan(policy_ids=ids, team_for=lambda facts: None)


async def escalated(s) -> set[int]:
    async with s.engine.connect() as connection:
        return set((await connection.execute(select(ESCALATIONS.c.ticket_id))).scalars())


def test_the_graver_tier_holds_the_lesser_back_and_it_never_pages(db):
    async def scenario(s):
        await with_rules(s, escalation=True)
        assess = Assessor()
        [full] = await s.tickets.apply_signals(
            [fs("FilesystemAlmostFull", "web-01", urgency=Urgency.HIGH)], now=T0, assess=assess)
        outcomes = await s.tickets.apply_signals(
            [fs("FilesystemFilling", "web-01"),                    # same mount: inhibited
             fs("FilesystemFilling", "web-01", mountpoint="/"),    # another mount: pages
             fs("FilesystemFilling", "web-02"),                    # another host: pages
             am_fs("FilesystemFilling", "web-03")],
            now=at(600), assess=assess)
        assert [o.result for o in outcomes] == ["attached", "created", "created", "created"]
        child = await s.tickets.get(outcomes[0].ticket_id)
        assert (child.parent_id, child.status) == (full.ticket_id, Status.OPEN)
        assert [(e.kind, e.data["ticket_id"]) for e in await s.tickets.timeline(full.ticket_id)
                if e.kind == "attached"] == [("attached", child.id)]
        # Paging: the inhibitor and the tickets of their own, never the attached one.
        assert await escalated(s) == {full.ticket_id, *(o.ticket_id for o in outcomes[1:])}

    db.run(scenario)


def test_alertmanager_labels_inhibit_too(db):
    async def scenario(s):
        await with_rules(s)
        outcomes = await s.tickets.apply_signals(
            [am_fs("FilesystemAlmostFull", "db-01"), am_fs("FilesystemFilling", "db-01"),
             # An evaluator alert of the same host and mount: the same problem, either path.
             fs("FilesystemFilling", "db-01")],
            now=T0, assess=Assessor())
        assert [o.result for o in outcomes] == ["created", "attached", "attached"]
        assert {(await s.tickets.get(o.ticket_id)).parent_id for o in outcomes[1:]} == {
            outcomes[0].ticket_id}

    db.run(scenario)


def test_the_lesser_tier_first_is_not_taken_back(db):
    """It paged already; the graver alert that follows opens (and pages) as usual."""
    async def scenario(s):
        await with_rules(s)
        outcomes = await s.tickets.apply_signals(
            [fs("FilesystemFilling", "web-01"), fs("FilesystemAlmostFull", "web-01")],
            now=T0, assess=Assessor())
        assert [o.result for o in outcomes] == ["created", "created"]
        assert (await s.tickets.get(outcomes[0].ticket_id)).parent_id is None

    db.run(scenario)


def test_without_rules_only_host_down_inhibits(db):
    async def scenario(s):
        await with_rules(s, ())
        outcomes = await s.tickets.apply_signals(
            [fs("FilesystemAlmostFull", "web-01"), fs("FilesystemFilling", "web-01")],
            now=T0, assess=Assessor())
        assert [o.result for o in outcomes] == ["created", "created"]

    db.run(scenario)


def test_inhibitor_resolving_releases_what_still_fires(db):
    async def scenario(s):
        await with_rules(s, escalation=True)
        assess = Assessor()
        full, filling = await s.tickets.apply_signals(
            [fs("FilesystemAlmostFull", "web-01"), fs("FilesystemFilling", "web-01")],
            now=T0, assess=assess)
        assert (full.result, filling.result) == ("created", "attached")
        assert filling.ticket_id not in await escalated(s)
        # Down to 93%: the 97% tier resolves, the 90% one still fires and pages now.
        [done] = await s.tickets.apply_signals([resolve(full.dedup_key)], now=at(60),
                                               assess=assess)
        assert done.result == "resolved"
        released = await s.tickets.get(filling.ticket_id)
        assert (released.parent_id, released.status) == (None, Status.OPEN)
        assert [e.kind for e in await s.tickets.timeline(released.id)] == ["created",
                                                                            "released"]
        assert filling.ticket_id in await escalated(s)
        # It is a ticket of its own now: a repeat is a repeat of it.
        [again] = await s.tickets.apply_signals([fs("FilesystemFilling", "web-01")],
                                                now=at(70), assess=assess)
        assert (again.result, again.ticket_id) == ("repeated", filling.ticket_id)

    db.run(scenario)


def test_released_alert_moves_to_another_inhibitor_of_its_host(db):
    """Host down and the 97% tier both active: when the host-down resolves, the 90% alert
    that hung under it is still held back by the 97% one."""
    async def scenario(s):
        await with_rules(s, escalation=True)
        assess = Assessor()
        down, full, filling = await s.tickets.apply_signals(
            [trigger("evaluator:RegieAgentDown:web-01", host="web-01", host_down=True,
                     details={"rule": "RegieAgentDown", "labels": {}}),
             fs("FilesystemAlmostFull", "web-01"), fs("FilesystemFilling", "web-01")],
            now=T0, assess=assess)
        assert [o.result for o in (down, full, filling)] == ["created", "attached",
                                                              "attached"]
        # The host answers again: the 97% alert is released, the 90% one moves under it.
        await s.tickets.apply_signals([resolve(down.dedup_key)], now=at(60), assess=assess)
        assert (await s.tickets.get(full.ticket_id)).parent_id is None
        assert (await s.tickets.get(filling.ticket_id)).parent_id == full.ticket_id
        assert await escalated(s) == {down.ticket_id, full.ticket_id}
        # ... and a trigger and its inhibitor's resolve in one batch work the same way.
        await s.tickets.apply_signals([resolve(full.dedup_key)], now=at(120), assess=assess)
        assert (await s.tickets.get(filling.ticket_id)).parent_id is None
        assert await escalated(s) == {down.ticket_id, full.ticket_id, filling.ticket_id}

    db.run(scenario)


def test_rules_from_the_file_apply_to_any_labels(db):
    rules = parse_inhibit_rules([{"source_matchers": ['severity="critical"'],
                                  "target_matchers": ['severity=~"warning|info"'],
                                  "equal": ["host", "service"]}], source="t")

    def alert(name: str, severity: str, service: str):
        return trigger(f"alertmanager/{name}", host="app-01", details={"labels": {
            "alertname": name, "severity": severity, "service": service}})

    async def scenario(s):
        await with_rules(s, rules)
        outcomes = await s.tickets.apply_signals(
            [alert("ApiDown", "critical", "api"), alert("ApiSlow", "warning", "api"),
             alert("DbSlow", "warning", "db"), alert("ApiErrors", "critical", "api")],
            now=T0, assess=Assessor())
        assert [o.result for o in outcomes] == ["created", "attached", "created", "created"]
        assert [o.priority for o in outcomes][:1] == [Priority.P3]

    db.run(scenario)


def test_a_person_resolving_the_inhibitor_releases_what_still_fires(db):
    async def scenario(s):
        await with_rules(s, escalation=True)
        assess = Assessor()
        full, filling = await s.tickets.apply_signals(
            [fs("FilesystemAlmostFull", "web-01"), fs("FilesystemFilling", "web-01")],
            now=T0, assess=assess)
        assert filling.result == "attached"
        await s.tickets.resolve(full.ticket_id, actor="alice", now=at(60), note="cleaned up")
        released = await s.tickets.get(filling.ticket_id)
        assert (released.parent_id, released.status) == (None, Status.OPEN)
        assert [e.kind for e in await s.tickets.timeline(released.id)] == ["created",
                                                                            "released"]
        assert filling.ticket_id in await escalated(s)
        # Its alert resolving later finds nothing attached any more.
        [done] = await s.tickets.apply_signals([resolve(full.dedup_key)], now=at(70),
                                               assess=assess)
        assert done.result == "ignored"

    db.run(scenario)
