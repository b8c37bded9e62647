"""The inhibitor lookup's SQL filter (collector/store/inhibitors.py), on SQLite and PostgreSQL:
it leaves out tickets that cannot inhibit, and never one that can, whatever form the
matched label takes in the stored ticket (Alertmanager labels, the evaluator's rule name,
the component column, a label value that is not a string)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from alerting.inhibition import parse_inhibit_rules
from collector.store.inhibitors import may_inhibit
from collector.store.ticket_rows import TICKETS
from tests.collector.store.signals import T0, Assessor, at, trigger


def rules(*sources: str):
    return parse_inhibit_rules([{"source_matchers": [source],
                                 "target_matchers": ['alertname="Target"'],
                                 "equal": ["host"]} for source in sources], source="t")


@pytest.mark.parametrize(("source", "narrowed"), [
    ('alertname="FilesystemAlmostFull"', True),
    ('severity="critical"', True),
    ('alertname="Disk.Full:v2-a_b"', True),
    ('alertname=~"Filesystem.*"', False),      # a regex: every ticket of the host is read
    ('alertname!="Other"', False),
    ('code="500"', False),                     # a number's string form: stored unquoted
    ('ratio="1e-05"', False),
    ('flag="True"', False),                    # str() of a JSON true
    ('flag="none"', False),
    ('summary="two words"', False),            # not written verbatim in every JSON text
    ('path="/var"', False),
])
def test_which_matchers_narrow_the_lookup(source, narrowed):
    assert (may_inhibit(rules(source)) is not None) is narrowed
    # One rule that cannot be narrowed widens the lookup for all.
    assert may_inhibit(rules('alertname="A"', source)) is None or narrowed


def test_no_rules_still_finds_host_down_tickets():
    assert str(may_inhibit(())) == "tickets.host_down IS true"


def source_alert(key: str, labels: dict, *, host: str = "app-01", **fields):
    return trigger(f"alertmanager/{key}", host=host, details={"labels": labels}, **fields)


def target_alert(key: str):
    return trigger(f"alertmanager/{key}", host="app-01",
                   details={"labels": {"alertname": "Target"}})


# (rule's source matcher, the stored inhibitor as a signal): each must inhibit a later batch's
# target of the same host, so the filter (or its absence) let the inhibitor through.
STORED_SOURCES = [
    ('alertname="DiskFull"', source_alert("a", {"alertname": "DiskFull"})),
    ('alertname="DiskFull"', trigger("evaluator:DiskFull:app-01", host="app-01",
                                     details={"rule": "DiskFull", "labels": {}})),
    ('component="filesystem"', source_alert("b", {"alertname": "X"}, component="filesystem")),
    ('host="app-01"', source_alert("c", {"alertname": "X"})),
    ('code="500"', source_alert("d", {"alertname": "X", "code": 500})),
    ('flag="True"', source_alert("e", {"alertname": "X", "flag": True})),
    ('severity="critical"', source_alert("f", {"severity": "critical"})),
]


@pytest.mark.parametrize(("source", "inhibitor"), STORED_SOURCES,
                         ids=[s for s, _ in STORED_SOURCES])
def test_a_stored_source_still_inhibits(db, source, inhibitor):
    async def scenario(s):
        s.tickets.inhibit_rules = rules(source)
        assess = Assessor()
        [first] = await s.tickets.apply_signals([inhibitor], now=T0, assess=assess)
        assert first.result == "created"
        [later] = await s.tickets.apply_signals([target_alert("t")], now=at(60),
                                                assess=assess)
        assert later.result == "attached"
        assert (await s.tickets.get(later.ticket_id)).parent_id == first.ticket_id

    db.run(scenario)


def test_the_filter_leaves_out_what_cannot_inhibit(db):
    """Of a host's stored tickets, the lookup reads the rule's sources and host-down tickets
    only (a busy host's other tickets were read and decoded for every batch before)."""
    async def scenario(s):
        s.tickets.inhibit_rules = rules('alertname="DiskFull"')
        outcomes = await s.tickets.apply_signals(
            [source_alert("src", {"alertname": "DiskFull"}),
             source_alert("other", {"alertname": "DiskFilling"}),
             source_alert("near", {"alertname": "x", "note": "DiskFull soon"}),
             trigger("evaluator:HostDown:app-01", host="app-01", host_down=True),
             source_alert("elsewhere", {"alertname": "DiskFull"}, host="app-02")],
            now=T0, assess=Assessor())
        term = may_inhibit(s.tickets.inhibit_rules)
        async with s.engine.connect() as connection:
            found = set((await connection.execute(
                select(TICKETS.c.id).where(TICKETS.c.host == "app-01", term))).scalars())
        # src and the host-down ticket; "near" holds the text but not as a whole string.
        assert found == {outcomes[0].ticket_id, outcomes[3].ticket_id}

    db.run(scenario)


def test_hosts_without_targets_still_find_their_host_down_ticket(db):
    """A batch reads rule inhibitors only on hosts where something opening is a rule's
    target; every other host still finds its stored host-down ticket."""
    async def scenario(s):
        s.tickets.inhibit_rules = rules('alertname="DiskFull"')
        assess = Assessor()
        down, source = await s.tickets.apply_signals(
            [trigger("evaluator:HostDown:db-01", host="db-01", host_down=True),
             source_alert("src", {"alertname": "DiskFull"})], now=T0, assess=assess)
        outcomes = await s.tickets.apply_signals(
            [trigger("alertmanager/cpu", host="db-01",
                     details={"labels": {"alertname": "CpuHigh"}}),     # no rule's target
             target_alert("t1"),                                        # app-01, a target
             source_alert("other", {"alertname": "CpuHigh"})],          # app-01, no target
            now=at(60), assess=assess)
        assert [o.result for o in outcomes] == ["attached", "attached", "created"]
        assert [(await s.tickets.get(o.ticket_id)).parent_id for o in outcomes[:2]] == [
            down.ticket_id, source.ticket_id]

    db.run(scenario)
