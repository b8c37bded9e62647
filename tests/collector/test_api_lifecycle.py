"""A ticket's life over HTTP: acknowledge, note, priority override, resolve, close, refusals.

Real collector process on SQLite and PostgreSQL.
"""

from __future__ import annotations


def report(collector) -> dict:
    status, ticket = collector.call("POST", "/api/v1/tickets",
                                    {"summary": "VPN drops every hour", "host": "vpn-01"},
                                    token="responder")
    assert status == 201
    return ticket


def test_full_lifecycle_with_timeline(collector):
    ticket = report(collector)
    tid = ticket["id"]
    status, acked = collector.call("POST", f"/api/v1/tickets/{tid}/ack",
                                   {"note": "looking"}, token="responder")
    assert (status, acked["status"]) == (200, "acknowledged")
    assert acked["acknowledged_at"]
    assert acked["assignee"].startswith("responder-")  # whoever acknowledges takes it
    status, _ = collector.call("POST", f"/api/v1/tickets/{tid}/note", {"text": "ISP contacted"},
                               token="responder")
    assert status == 201
    status, changed = collector.call("POST", f"/api/v1/tickets/{tid}/priority",
                                     {"priority": "P1", "reason": "CEO on the road"},
                                     token="responder")
    assert (status, changed["priority"]) == (200, "P1")
    assert changed["priority_override_reason"] == "CEO on the road"
    status, resolved = collector.call("POST", f"/api/v1/tickets/{tid}/resolve",
                                      {"note": "router replaced"}, token="responder")
    assert (status, resolved["status"]) == (200, "resolved")
    status, closed = collector.call("POST", f"/api/v1/tickets/{tid}/close", token="responder")
    assert (status, closed["status"]) == (200, "closed")

    status, shown = collector.call("GET", f"/api/v1/tickets/{tid}", token="viewer")
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds[0] == "created"
    for kind in ("acknowledged", "note", "priority_overridden", "resolved", "closed"):
        assert kind in kinds, kinds
    # The actor is the token's name, never the token.
    actors = {e["actor"] for e in shown["timeline"]}
    assert len(actors) == 1
    assert actors.pop().startswith("responder-")


def test_refused_transitions_are_409_with_reason(collector):
    tid = report(collector)["id"]
    assert collector.call("POST", f"/api/v1/tickets/{tid}/close", token="responder")[0] == 409
    collector.call("POST", f"/api/v1/tickets/{tid}/resolve", token="responder")
    status, body = collector.call("POST", f"/api/v1/tickets/{tid}/ack", token="responder")
    assert status == 409
    assert body["error"] == ("cannot acknowledge a ticket that is resolved; "
                             "from resolved it can: close")
    # Asking for the state it is in is no conflict (tests/collector/test_people_in_the_queue.py).
    status, body = collector.call("POST", f"/api/v1/tickets/{tid}/resolve", token="responder")
    assert status == 200 and body["already"] is True


def test_unknown_ticket_is_404(collector):
    for path in ("/api/v1/tickets/999999", "/api/v1/tickets/999999/ack"):
        method = "GET" if path.endswith("999") else "POST"
        status, body = collector.call(method, path, token="admin")
        assert (status, body) == (404, {"error": "no such ticket"})


def test_list_filters_and_cursor(collector):
    ids = [collector.call("POST", "/api/v1/tickets", {"summary": f"t{i}", "host": f"h{i % 2}",
                                                      "component": "c" if i < 3 else "d"},
                          token="responder")[1]["id"] for i in range(5)]
    status, page = collector.call("GET", "/api/v1/tickets?limit=2", token="viewer")
    assert status == 200
    assert [t["id"] for t in page["tickets"]] == ids[::-1][:2]
    _, rest = collector.call("GET", f"/api/v1/tickets?limit=10&before={page['next_before']}",
                                  token="viewer")
    assert [t["id"] for t in rest["tickets"]] == ids[::-1][2:]
    _, h0 = collector.call("GET", "/api/v1/tickets?host=h0", token="viewer")
    assert {t["id"] for t in h0["tickets"]} == {ids[0], ids[2], ids[4]}
    _, comp = collector.call("GET", "/api/v1/tickets?component=d", token="viewer")
    assert {t["id"] for t in comp["tickets"]} == {ids[3], ids[4]}
    _, pri = collector.call("GET", "/api/v1/tickets?priority=P1", token="viewer")
    assert pri["tickets"] == []
