"""Bad input gets a clear 4xx and loses nothing: no 500, no half-written ticket.

Real collector process on SQLite and PostgreSQL; after every refusal the queue is checked to be
exactly as before.
"""

from __future__ import annotations

import json

import pytest

GOOD_ALERT = {"status": "firing", "fingerprint": "f00d", "labels": {"alertname": "A"},
              "startsAt": "2026-11-29T19:50:08.829Z"}


def queue(collector) -> list:
    status, body = collector.call("GET", "/api/v1/tickets?status=open,acknowledged,resolved,"
                                         "closed&include_attached=true", token="viewer")
    assert status == 200
    return body["tickets"]


@pytest.mark.parametrize(
    ("path", "raw", "status", "reason"),
    [
        ("/api/v1/alertmanager", b"{not json", 400, "body: invalid JSON"),
        ("/api/v1/alertmanager", b"\xff\xfe", 400, "body: not UTF-8"),
        ("/api/v1/alertmanager", b"[]", 400, "body: must be an object"),
        ("/api/v1/alertmanager", json.dumps({"alerts": [GOOD_ALERT, {"status": "firing"}]})
         .encode(), 400, "alerts[1].fingerprint: is required"),
        ("/api/v1/alertmanager", json.dumps({"alerts": [GOOD_ALERT, {**GOOD_ALERT,
         "status": "exploded"}]}).encode(), 400, "alerts[1].status: must be"),
        ("/api/v1/tickets", b'{"summary": "x", "impact": "catastrophic"}', 400,
         "impact: must be one of"),
        ("/api/v1/tickets", b'{"summary": 42}', 400, "summary: must be a string"),
        ("/api/v1/inventory", b'{"idempotency_key": "k", "document": []}', 400,
         "document: must be an object"),
        # PostgreSQL cannot store NUL: refused on every backend, whatever field carries it.
        ("/api/v1/alertmanager", json.dumps({"alerts": [{**GOOD_ALERT, "labels": {
            "alertname": "A\u0000B"}}]}).encode(), 400,
         "alerts[0].labels.alertname: must not contain NUL characters"),
        ("/api/v1/inventory", json.dumps({"idempotency_key": "k", "document": {
            "schema": "regie.inventory/v1", "host": {"hostname": "h"},
            "observations": [{"source": "dpkg", "raw": {"\u0000": "x"}}]}}).encode(), 400,
         "document.observations[0].raw.\\u0000 (the key): must not contain NUL"),
    ],
)
def test_malformed_bodies(collector, path, raw, status, reason):
    before = queue(collector)
    token = {"alertmanager": "ingest", "tickets": "responder", "inventory": "agent"}[
        path.rsplit("/", 1)[1]]
    code, body = collector.call("POST", path, raw=raw, token=token)
    assert code == status
    assert body["error"].startswith(reason), body
    # One bad alert in a batch of two: the good one is not written either.
    assert queue(collector) == before


def test_wrong_content_type_is_415(collector):
    code, body = collector.call("POST", "/api/v1/tickets", raw=b"summary=x", token="responder",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (code, body) == (415, {"error": "Content-Type must be application/json"})


def test_oversize_body_is_413(tmp_path, sqlite_db):
    from tests.collector.conftest import collector_process

    with collector_process(tmp_path, sqlite_db, "[server]\nmax_body_bytes = 1024\n") as collector:
        big = json.dumps({"summary": "x", "description": "y" * 4000}).encode()
        code, body = collector.call("POST", "/api/v1/tickets", raw=big, token="responder")
        assert code == 413
        assert body == {"error": "body larger than 1024 bytes"}
        assert queue(collector) == []


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("status=pending", "status: must be one of"),
        ("priority=P9", "priority: must be one of"),
        ("limit=0", "limit: must be a whole number from 1 to 500"),
        ("limit=abc", "limit: must be a whole number"),
        ("before=-1", "before: must be a whole number from 0 to"),
        ("colour=red", "colour: unknown query parameter"),
        ("include_attached=yes", "include_attached: must be true or false"),
    ],
)
def test_bad_query_parameters(collector, query, reason):
    code, body = collector.call("GET", f"/api/v1/tickets?{query}", token="viewer")
    assert code == 400
    assert body["error"].startswith(reason)


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("note", {}, "text: is required"),
        ("note", {"text": "x", "extra": 1}, "extra: unknown field"),
        ("priority", {"priority": "P0", "reason": "r"}, "priority: must be one of"),
        ("priority", {"priority": "P1"}, "reason: is required"),
        ("ack", {"note": 5}, "note: must be a string"),
    ],
)
def test_bad_ticket_actions(collector, path, body, reason):
    _, ticket = collector.call("POST", "/api/v1/tickets", {"summary": "x"}, token="responder")
    before = collector.call("GET", f"/api/v1/tickets/{ticket['id']}", token="viewer")[1]
    code, answer = collector.call("POST", f"/api/v1/tickets/{ticket['id']}/{path}", body,
                                  token="responder")
    assert code == 400
    assert answer["error"].startswith(reason)
    assert collector.call("GET", f"/api/v1/tickets/{ticket['id']}", token="viewer")[1] == before
