"""The API contract at its edges, reproduced against the real collector process: query values
that pass `str.isdigit()` but not `int()`, times out of range, refusals that keep their headers,
ids in other scripts' digits, bodies whose values are not even hashable. Each is a 4xx with a
JSON reason naming the parameter, never a 500.

The shared collector runs on SQLite and PostgreSQL; the on-call parameters need a collector
with on-call configured (SQLite), started here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.collector.conftest import Collector, collector_process, migrated
from tests.collector.oncall_harness import SCHEDULE


def request(collector: Collector, method: str, path: str, body: object = None,
            token: str = "admin") -> tuple[int, dict[str, str], object]:
    """(status, headers, body parsed as JSON) -- Collector.call without the headers."""
    sent = urllib.request.Request(
        collector.url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {collector.tokens[token]}"})
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, dict(exc.headers), exc.read()
    return status, headers, json.loads(raw)


@pytest.mark.parametrize(("query", "reason"), [
    # "²".isdigit() is True, int("²") raises: this was a 500.
    ("limit=%C2%B2", "limit: must be a whole number from 1 to 500"),
    ("before=%C2%B2", "before: must be a whole number from 0 to 2147483647"),
    # "٣".isdigit() is True and int("٣") == 3: refused, not read as another number.
    ("limit=%D9%A3", "limit: must be a whole number"),
    ("before=2147483648", "before: must be a whole number from 0 to"),
    ("limit=" + "9" * 5000, "limit: must be a whole number"),  # past int()'s digit limit
    ("limit=5&limit=6", "limit: given more than once"),
    ("status=open,bogus", "status: must be one of open, acknowledged, resolved, closed"),
    ("host=a%00b", "host: must not contain NUL characters"),
    ("colour=red", "colour: unknown query parameter"),
])
def test_ticket_list_query_refusals(collector, query, reason):
    status, headers, body = request(collector, "GET", f"/api/v1/tickets?{query}",
                                    token="viewer")
    assert status == 400, body
    assert headers["Content-Type"].startswith("application/json")
    assert body["error"].startswith(reason), body


@pytest.mark.parametrize(("query", "count"), [
    ("before=0", 0),                      # the document allows 0: nothing is older
    ("status=open,,resolved", 3),         # empty items are skipped
    ("status=", 2),                       # nothing chosen: the default (open, acknowledged)
    ("host=%20%20", 2),                   # blank text: absent
])
def test_ticket_list_queries_the_document_allows(collector, query, count):
    for summary in ("one", "two"):
        assert request(collector, "POST", "/api/v1/tickets", {"summary": summary},
                       token="responder")[0] == 201
    _, _, resolved = request(collector, "POST", "/api/v1/tickets", {"summary": "three"},
                             token="responder")
    assert request(collector, "POST", f"/api/v1/tickets/{resolved['id']}/resolve",
                   token="responder")[0] == 200
    status, _, body = request(collector, "GET", f"/api/v1/tickets?{query}", token="viewer")
    assert status == 200, body
    assert len(body["tickets"]) == count, body


def test_405_keeps_allow_and_is_json(collector):
    status, headers, body = request(collector, "DELETE", "/api/v1/tickets")
    assert status == 405
    assert set(headers["Allow"].split(",")) == {"GET", "POST"}
    assert headers["Content-Type"].startswith("application/json")
    assert body == {"error": "Method Not Allowed"}


def test_unknown_path_is_json_404(collector):
    status, headers, body = request(collector, "GET", "/api/v1/nothing-here")
    assert (status, body) == (404, {"error": "Not Found"})
    assert headers["Content-Type"].startswith("application/json")


def test_ticket_id_in_other_digits_is_no_ticket(collector):
    """/api/v1/tickets/٣ once matched the route (\\d) and int() read it as ticket 3; now the
    id's declaration refuses it, naming the parameter (tests/collector/test_path_parameters.py
    has every route)."""
    ids = [request(collector, "POST", "/api/v1/tickets", {"summary": f"t{i}"},
                   token="responder")[2]["id"] for i in range(3)]
    arabic = "".join(chr(0x0660 + int(d)) for d in str(ids[-1]))
    assert request(collector, "GET", f"/api/v1/tickets/{ids[-1]}")[0] == 200
    status, _, body = request(collector, "GET",
                              "/api/v1/tickets/" + urllib.request.quote(arabic))
    assert (status, body) == (400, {"error": "id: must be a whole number (ASCII digits 0-9)"})


@pytest.mark.parametrize("severity", [{}, [], 1])
def test_event_severity_not_a_string_is_400(collector, severity):
    """An unhashable severity ({}) was looked up in a dict: 500."""
    status, _, body = request(collector, "POST", "/api/v1/events", {
        "routing_key": "ignored-with-a-bearer-token", "event_action": "resolve",
        "dedup_key": "d1", "payload": {"severity": severity}}, token="ingest")
    assert status == 400, body
    assert body["errors"] == ["payload.severity: must be one of 'critical', 'error', "
                              "'warning', 'info'"]


# ------------------------------------------------------------------- with on-call configured


@pytest.fixture(scope="module")
def oncall_collector(tmp_path_factory) -> Iterator[Collector]:
    tmp = tmp_path_factory.mktemp("contract-oncall")
    (tmp / "oncall.yml").write_text(SCHEDULE)
    config = (f'[oncall]\nschedule_file = "{tmp / "oncall.yml"}"\n\n'
              f'[[oncall.channels]]\nname = "log"\nkind = "file"\n'
              f'path = "{tmp / "notifications.jsonl"}"\n')
    with collector_process(tmp, migrated(f"sqlite:///{tmp / 'regie.db'}"), config) as service:
        yield service


@pytest.mark.parametrize(("path", "reason"), [
    ("/api/v1/notifications?ticket=%C2%B2",
     "ticket: must be a whole number from 0 to 2147483647"),
    ("/api/v1/notifications?before=%C2%B2", "before: must be a whole number"),
    ("/api/v1/notifications?limit=%C2%B2", "limit: must be a whole number from 1 to 500"),
    ("/api/v1/notifications?before=11667451001857189575917568", "before: must be a whole"),
    ("/api/v1/notifications?status=lost", "status: must be one of pending, delivered, dead"),
    # Out of Python's datetime range once converted to UTC, or once a rotation steps from it.
    ("/api/v1/oncall?at=9999-12-31", "at: not an RFC 3339 time"),
    ("/api/v1/oncall?at=9999-12-31T00:00:00Z", "at: the year must be from 2000 to 8999"),
    ("/api/v1/oncall?at=0001-01-01T00:00:00%2B14:00", "at: the year must be"),
    ("/api/v1/oncall?at=", "at: not an RFC 3339 time"),
    ("/api/v1/oncall?at=2026-02-30T00:00:00Z", "at: '2026-02-30T00:00:00Z' is not a valid"),
    ("/api/v1/oncall?role=boss", "role: must be one of primary, secondary"),
])
def test_oncall_query_refusals(oncall_collector, path, reason):
    status, headers, body = request(oncall_collector, "GET", path, token="viewer")
    assert status == 400, body
    assert headers["Content-Type"].startswith("application/json")
    assert body["error"].startswith(reason), body


def test_oncall_at_far_ahead_answers(oncall_collector):
    status, _, body = request(oncall_collector, "GET",
                              "/api/v1/oncall?at=8999-12-31T23:59:59-23:59", token="viewer")
    assert status == 200, body
    assert body["at"] == "9000-01-01T23:58:59+00:00"


@pytest.mark.parametrize(("name", "reason"), [
    ("a%00b", "name: must not contain NUL characters"),
    ("x" * 256, "name: longer than 255 characters")])
def test_host_name_no_store_can_hold_is_400(collector, name, reason):
    """A NUL in the path reached PostgreSQL, which refuses it in text: 500. The name's
    declaration now refuses it, saying why."""
    status, headers, body = request(collector, "GET", f"/api/v1/hosts/{name}", token="viewer")
    assert (status, body) == (400, {"error": reason})
    assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/tickets/2147483648", None),
    ("GET", "/api/v1/tickets/999999999999999998", None),
    ("POST", "/api/v1/tickets/2147483648/ack", None),
    ("POST", "/api/v1/tickets/2147483648/note", {"text": "n"}),
    ("POST", "/api/v1/tickets/2147483648/priority", {"priority": "P1", "reason": "r"}),
    ("POST", "/api/v1/tickets/2147483648/assign", {"assignee": "a"}),
])
def test_ticket_id_past_any_id_is_404(collector, method, path, body):
    """Ids are 32-bit on PostgreSQL: a larger one reached asyncpg, which refused it (500)."""
    status, _, answer = request(collector, method, path, body)
    assert (status, answer) == (404, {"error": "no such ticket"})
