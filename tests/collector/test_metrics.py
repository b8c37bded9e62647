"""The collector's /metrics: ticket counts that move with the queue, clean for promtool."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
from datetime import timedelta

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from collector.app import make_app
from collector.config import load_settings
from collector.service import stores_context
from tests.collector.conftest import create_tokens
from tests.collector.oncall_harness import Clock
from tests.services import free_port, require_binary, wait_for


def scrape(collector) -> tuple[bytes, dict]:
    request = urllib.request.Request(f"{collector.url}/metrics",
                                     headers={"Authorization":
                                              f"Bearer {collector.tokens['viewer']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    values = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return text, values


def test_metrics_follow_the_queue_and_pass_promtool(collector):
    """The collector process is shared across tests: counters are compared as deltas."""
    created = ("regie_tickets_created_total",
               (("component", "mail"), ("priority", "P1"), ("source", "user")))
    resolved = ("regie_tickets_resolved_total", (("component", "mail"), ("priority", "P1")))
    acked = ("regie_ticket_time_to_acknowledge_seconds_count", (("priority", "P1"),))
    to_resolve = ("regie_ticket_time_to_resolve_seconds_count", (("priority", "P1"),))
    _, before = scrape(collector)
    for summary in ("a", "b"):
        collector.call("POST", "/api/v1/tickets", {"summary": summary, "impact": "high",
                                                   "urgency": "high", "component": "mail"},
                       token="responder")
    _, first = collector.call("GET", "/api/v1/tickets", token="viewer")
    tid = first["tickets"][0]["id"]
    collector.call("POST", f"/api/v1/tickets/{tid}/ack", token="responder")
    collector.call("POST", f"/api/v1/tickets/{tid}/resolve", token="responder")
    # The open-ticket gauge is read from the store and cached for 5 s: wait it out by polling.
    wait_for(lambda: scrape(collector)[1][("regie_tickets_open",
                                           (("priority", "P1"), ("source", "user")))] == 1,
             timeout=30, what="the open-ticket gauge to show the one ticket left")
    text, after = scrape(collector)

    def delta(key) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert (delta(created), delta(resolved), delta(acked), delta(to_resolve)) == (2, 1, 1, 1)
    promtool = require_binary("promtool")
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          timeout=60, check=False)
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


# MTTA and MTTR: the histograms' values, not only their counts.
#
# The collector application in this process (make_app with the real stores, on each backend)
# serving HTTP on a loopback port, scraped over HTTP like Prometheus does; time comes from an
# injected clock (tests/collector/oncall_harness.Clock), so every duration is known exactly.

# The buckets the dashboards' MTTA/MTTR quantiles read, in seconds (30 s .. 3 days).
BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)

# (impact, urgency) -> priority under the default matrix, and for each ticket of that
# priority: seconds from creation to its acknowledgement (None: resolved without one) and to
# its resolution (None: still open at the scrape). Each lands in a different bucket.
TICKETS = {
    ("high", "high", "P1"): [(45, 1500), (10, 90), (None, 250)],
    ("medium", "high", "P2"): [(200, 5000)],
    ("low", "high", "P3"): [(700, 20000), (2000, None)],
    ("low", "low", "P4"): [(3000, 100000)],
}

# Events API tickets (dedup key -> seconds to its `acknowledge` and `resolve` events), whose
# priority comes from the default criticality and the events' severity.
EVENTS = {"events-mtta-1": (400, 9000), "events-mtta-2": (35, 130)}


def histogram(values: dict, name: str, priority: str) -> tuple[float, float, dict[str, float]]:
    """(_count, _sum, {le: cumulative count}) of one priority's series."""
    prefix = (("priority", priority),)
    buckets = {dict(labels)["le"]: v for (n, labels), v in values.items()
               if n == f"{name}_bucket" and dict(labels).get("priority") == priority}
    return (values.get((f"{name}_count", prefix), 0.0), values.get((f"{name}_sum", prefix), 0.0),
            buckets)


def expected(durations: list[int]) -> tuple[float, float, dict[str, float]]:
    cumulative = {f"{float(le)}": float(sum(d <= le for d in durations)) for le in BUCKETS}
    cumulative["+Inf"] = float(len(durations))
    return float(len(durations)), float(sum(durations)), cumulative


def test_time_to_acknowledge_and_resolve_are_the_clock_durations(collector_db, tmp_path):
    """Tickets of every priority opened at one instant, acknowledged and resolved through the
    API (and, for two, through the Events API's acknowledge and resolve) as the clock reaches
    each one's offsets; /metrics then holds exactly those durations
    per priority: count, sum and the bucket each fell in, for acknowledgement and resolution."""
    tokens = create_tokens(collector_db)
    clock = Clock()
    port = free_port()
    conf = tmp_path / "collector.toml"
    conf.write_text("")

    async def main() -> dict:
        settings = load_settings(conf, db=collector_db, listen=f"127.0.0.1:{port}")
        app = make_app(settings, stores_ctx=stores_context(settings, clock=clock))
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                async def call(method: str, path: str, body=None, role="responder"):
                    async with session.request(method, url + path, json=body, headers={
                            "Authorization": f"Bearer {tokens[role]}"}) as response:
                        text = await response.text()
                        assert response.status in (200, 201), (method, path, text)
                        return json.loads(text) if path != "/metrics" else text

                async def event(action: str, key: str) -> None:
                    body = {"routing_key": tokens["ingest"], "event_action": action,
                            "dedup_key": key}
                    if action == "trigger":
                        body["payload"] = {"summary": f"event {key}", "source": "events-host",
                                           "severity": "critical"}
                    async with session.post(url + "/api/v1/events", json=body) as response:
                        assert response.status == 202, await response.text()

                moves = []   # (offset, ticket id, act)
                for (impact, urgency, priority), plans in TICKETS.items():
                    for ack, resolve in plans:
                        ticket = await call("POST", "/api/v1/tickets", {
                            "summary": f"{priority} ticket", "impact": impact,
                            "urgency": urgency})
                        assert ticket["priority"] == priority
                        moves += [(ack, ticket["id"], "ack"), (resolve, ticket["id"], "resolve")]
                # Through the Events API (PagerDuty's shape): trigger, then acknowledge and
                # resolve by dedup key, as a monitoring tool does.
                for key in EVENTS:
                    await event("trigger", key)
                start = clock.now
                for offset, ticket_id, act in sorted(m for m in moves if m[0] is not None):
                    clock.now = start + timedelta(seconds=offset)
                    await call("POST", f"/api/v1/tickets/{ticket_id}/{act}")
                for offset, key, act in sorted((at, key, act) for key, plan in EVENTS.items()
                                               for at, act in zip(plan, ("acknowledge",
                                                                         "resolve"),
                                                                   strict=True)):
                    clock.now = start + timedelta(seconds=offset)
                    await event(act, key)
                listed = await call("GET", "/api/v1/tickets?status=resolved&limit=100",
                                    role="viewer")
                # stored under the Events API's namespace: "events/<dedup_key>"
                by_key = {t["dedup_key"].removeprefix("events/"): t["priority"]
                          for t in listed["tickets"] if t["dedup_key"]}
                text = await call("GET", "/metrics", role="viewer")
        finally:
            await runner.cleanup()
        return by_key, {(s.name, tuple(sorted(s.labels.items()))): s.value
                        for family in text_string_to_metric_families(text)
                        for s in family.samples}

    by_key, values = asyncio.run(main())
    assert set(by_key) >= set(EVENTS)
    for (_impact, _urgency, priority), plans in TICKETS.items():
        plans = plans + [EVENTS[k] for k in EVENTS if by_key[k] == priority]
        acks = [ack for ack, _ in plans if ack is not None]
        resolutions = [resolve for _, resolve in plans if resolve is not None]
        assert histogram(values, "regie_ticket_time_to_acknowledge_seconds", priority) == \
            expected(acks), priority
        assert histogram(values, "regie_ticket_time_to_resolve_seconds", priority) == \
            expected(resolutions), priority
