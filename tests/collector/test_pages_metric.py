"""`regie_pages_total{person,channel}`: the on-call load, counted where notices are delivered.

The real collector application with on-call configured, its real store (SQLite and
PostgreSQL), a real webhook receiver verifying signatures; time comes from an injected clock
(tests/collector/oncall_harness.py), so escalation steps are clock steps, not waits. The
counter is read from the collector's own /metrics, as Prometheus reads it.
"""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families


def pages(metrics_text: str) -> dict[tuple[str, str], float]:
    out = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "regie_pages_total":
                out[(sample.labels["person"], sample.labels["channel"])] = sample.value
    return out


def test_each_page_delivered_to_a_person_counts_once_for_them(oncall):
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            assert pages(await c.call("GET", "/metrics", role="viewer")) == {}
            ticket = await c.open_ticket()          # P1 at night: alice now, bob after 5 min
            await c.settle()
            assert pages(await c.call("GET", "/metrics", role="viewer")) == {
                ("alice", "hook"): 1.0}
            clock.advance(minutes=5)
            await c.settle()
            assert receiver.told() == [("trigger", "alice"), ("escalate", "bob")]
            assert pages(await c.call("GET", "/metrics", role="viewer")) == {
                ("alice", "hook"): 1.0, ("bob", "hook"): 1.0}
            # Resolving tells both: information, not a page.
            await c.call("POST", f"/api/v1/tickets/{ticket}/resolve", body={"note": "fixed"},
                         expect=200)
            await c.settle()
            assert [kind for kind, _ in receiver.told()].count("resolve") == 2
            assert pages(await c.call("GET", "/metrics", role="viewer")) == {
                ("alice", "hook"): 1.0, ("bob", "hook"): 1.0}

    asyncio.run(main())


def test_a_notice_that_was_not_delivered_is_no_page(oncall):
    """A receiver refusing (a dead letter) and one answering 503 (retried later): nobody was
    paged until the retry goes through."""
    receiver, clock = oncall.receiver, oncall.clock

    async def main():
        async with oncall.running() as c:
            receiver.script = [(503, {})]
            await c.open_ticket()
            await c.settle()
            assert receiver.deliveries == []
            text = await c.call("GET", "/metrics", role="viewer")
            assert pages(text) == {}
            clock.advance(seconds=30)                 # past the first retry's backoff
            await c.settle()
            assert receiver.told() == [("trigger", "alice")]
            assert pages(await c.call("GET", "/metrics", role="viewer")) == {
                ("alice", "hook"): 1.0}

    asyncio.run(main())
