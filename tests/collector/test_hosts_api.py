"""`GET /api/v1/hosts` and `/api/v1/hosts/{name}` against the real collector process on SQLite
and PostgreSQL: inventory pushed through the API, end of support matched by the collector,
tickets opened through the API."""

from __future__ import annotations

import uuid

from tests.collector.test_registry import FLEET, push_fleet


def push(collector, host: str, document: dict) -> None:
    status, body = collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": f"{host}-{uuid.uuid4().hex}",
        "document": {"schema": "regie.inventory/v1", "host": {"hostname": host}, **document}},
        token="agent")
    assert status == 202, body


def report(collector, host: str) -> int:
    status, body = collector.call("POST", "/api/v1/tickets",
                                  {"summary": f"trouble on {host}", "host": host},
                                  token="responder")
    assert status == 201, body
    return body["id"]


def test_hosts_say_when_they_pushed_what_runs_and_what_is_open(collector):
    push_fleet(collector)
    bookworm = {"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "ID": "debian",
                "VERSION_ID": "12"}
    push(collector, "mail-01", {"os": {"ID": "debian", "VERSION_ID": "11"},
                                "observations": []})
    push(collector, "mail-01", {"os": bookworm, "observations": [
        {"source": "os-release", "raw": bookworm}]})            # the latest push counts
    old = report(collector, "db-old")
    report(collector, "switch-7")                              # no agent: known by its ticket

    status, body = collector.call("GET", "/api/v1/hosts", token="viewer")
    assert status == 200, body
    hosts = {h["name"]: h for h in body["hosts"]}
    assert list(hosts) == sorted({*FLEET, "mail-01", "switch-7"})
    assert "next_after" not in body
    assert hosts["db-old"]["end_of_support"] == "past"
    assert hosts["db-old"]["open_tickets"] == 1 and hosts["web-01"]["open_tickets"] == 0
    assert hosts["mail-01"]["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert hosts["mail-01"]["pushes"] == 2 and hosts["mail-01"]["last_push_at"]
    assert hosts["switch-7"] == {"name": "switch-7", "last_push_at": None, "pushes": 0,
                                 "os": None, "end_of_support": None, "open_tickets": 1}

    # Pages by name, no host twice or left out.
    seen, after = [], None
    for _ in range(len(hosts)):   # at most one page per host, whatever the cursor does
        query = "/api/v1/hosts?limit=3" + (f"&after={after}" if after else "")
        status, page = collector.call("GET", query, token="viewer")
        assert status == 200
        seen += [h["name"] for h in page["hosts"]]
        after = page.get("next_after")
        if after is None:
            break
    else:
        raise AssertionError(f"host pages never ended (next_after {after!r}, seen {seen})")
    assert seen == list(hosts)

    status, one = collector.call("GET", "/api/v1/hosts/db-old", token="viewer")
    assert status == 200
    assert ("debian", "10", "past") in {(i["product"], i["cycle"], i["status"])
                                        for i in one["end_of_support_items"]}
    assert [t["id"] for t in one["tickets"]] == [old]
    status, one = collector.call("GET", "/api/v1/hosts/mail-01", token="viewer")
    assert one["os_release"] == bookworm
    collector.call("POST", f"/api/v1/tickets/{old}/resolve", {}, token="responder")
    assert collector.call("GET", "/api/v1/hosts/db-old", token="viewer")[1]["open_tickets"] == 0

    # Refusals: unknown host, unknown parameter, a role without read.
    assert collector.call("GET", "/api/v1/hosts/no-such-host", token="viewer")[0] == 404
    status, body = collector.call("GET", "/api/v1/hosts?sort=name", token="viewer")
    assert status == 400 and "sort" in body["error"]
    assert collector.call("GET", "/api/v1/hosts?limit=0", token="viewer")[0] == 400
    assert collector.call("GET", "/api/v1/hosts", token="agent")[0] == 403
    assert collector.call("GET", "/api/v1/hosts", token=None)[0] == 401


def test_a_hosts_tickets_leave_their_details_out_as_the_ticket_list_does(collector):
    """A host-down ticket may carry 64 KiB of details per alert; the host's ticket list, like
    GET /api/v1/tickets, leaves them out unless details=true is asked for."""
    status, body = collector.call("POST", "/api/v1/alertmanager", {
        "version": "4", "status": "firing", "alerts": [{
            "status": "firing", "fingerprint": "fp-details",
            "labels": {"alertname": "DiskFull", "host": "db-details"},
            "annotations": {"summary": "disk full", "runbook": "x" * 4000},
            "startsAt": "2026-11-29T19:50:08Z"}]}, token="ingest")
    assert status == 200, body
    status, host = collector.call("GET", "/api/v1/hosts/db-details", token="viewer")
    assert status == 200, host
    [ticket] = host["tickets"]
    assert "details" not in ticket and ticket["summary"] == "disk full"
    status, listed = collector.call("GET", "/api/v1/tickets?host=db-details", token="viewer")
    assert [set(t) for t in listed["tickets"]] == [set(ticket)]   # the same fields
    status, host = collector.call("GET", "/api/v1/hosts/db-details?details=true",
                                  token="viewer")
    assert status == 200, host
    assert host["tickets"][0]["details"]["annotations"]["runbook"] == "x" * 4000
    status, body = collector.call("GET", "/api/v1/hosts/db-details?details=yes",
                                  token="viewer")
    assert status == 400 and body["error"] == "details: must be true or false"
