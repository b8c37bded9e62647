"""The collector's /metrics: ticket counts that move with the queue, clean for promtool."""

from __future__ import annotations

import subprocess
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.services import require_binary, wait_for


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
