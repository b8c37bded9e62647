"""Every path parameter of every route, against the real collector process on SQLite and on
PostgreSQL: what breaks the parameter's rule is a 400 naming it (or a 404 when the value is
well formed but no row can have it), with a JSON reason; never a 500, never aiohttp's bare
"Not Found".

Requests are written on a raw socket, byte for byte, so the path arrives exactly as an attacker
would send it (urllib would refuse or re-encode some of these).

Found so far: `GET /api/v1/hosts/%00` answered 500 on PostgreSQL (NUL cannot be compared
there), then a bare 404; aiohttp reads `%ED%A0%80` (a lone surrogate's UTF-8 form) as the
literal text "%ED%A0%80", so two paths named one host.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.collector.conftest import Collector, collector_process, migrated, throwaway_database
from tests.collector.oncall_harness import LINK_SECRET, SCHEDULE


def send(collector: Collector, method: str, path: bytes, *, token: str | None = "admin",
         body: bytes = b"", accept: str = "application/json") -> tuple[int, dict | str]:
    """(status, JSON body or text) for one request written byte for byte."""
    head = [f"{method} ".encode() + path + b" HTTP/1.1", b"Host: 127.0.0.1",
            b"Connection: close", b"Content-Type: application/json",
            f"Accept: {accept}".encode(), f"Content-Length: {len(body)}".encode()]
    if token is not None:
        head.append(f"Authorization: Bearer {collector.tokens[token]}".encode())
    with socket.create_connection(("127.0.0.1", collector.port), timeout=30) as connection:
        connection.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    status = int(status_line.split()[1])
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode(errors="replace")


NOT_UTF8 = "percent-encoded bytes that are not UTF-8 text"

# (method, path, body, status, reason): every route with a path parameter.
CASES = [
    # Host names: as stored (at most 255 characters, no NUL), percent-encoding read as UTF-8.
    ("GET", b"/api/v1/hosts/%00", b"", 400, "name: must not contain NUL characters"),
    ("GET", b"/api/v1/hosts/web%0001", b"", 400, "name: must not contain NUL characters"),
    ("GET", b"/api/v1/hosts/%ED%A0%80", b"", 400, f"name: {NOT_UTF8}"),
    ("GET", b"/api/v1/hosts/web-%FF", b"", 400, f"name: {NOT_UTF8}"),
    ("GET", b"/api/v1/hosts/caf%E9", b"", 400, f"name: {NOT_UTF8}"),  # Latin-1, not UTF-8
    ("GET", b"/api/v1/hosts/" + b"a" * 256, b"", 400, "name: longer than 255 characters"),
    ("GET", b"/api/v1/hosts/" + b"%C3%A9" * 256, b"", 400, "name: longer than 255 characters"),
    ("GET", b"/api/v1/hosts/" + b"a" * 255, b"", 404, "no such host"),
    ("GET", b"/api/v1/hosts/%01%0A", b"", 404, "no such host"),
    # Ticket ids: ASCII digits; a number no row can have is "no such ticket".
    ("GET", b"/api/v1/tickets/%D9%A3", b"", 400, "id: must be a whole number"),  # Arabic 3
    ("GET", b"/api/v1/tickets/%C2%B2", b"", 400, "id: must be a whole number"),  # superscript 2
    ("GET", b"/api/v1/tickets/%EF%BC%91", b"", 400, "id: must be a whole number"),  # fullwidth 1
    ("GET", b"/api/v1/tickets/%00", b"", 400, "id: must be a whole number"),
    ("GET", b"/api/v1/tickets/%ED%A0%80", b"", 400, f"id: {NOT_UTF8}"),
    ("GET", b"/api/v1/tickets/-1", b"", 400, "id: must be a whole number"),
    ("GET", b"/api/v1/tickets/" + b"9" * 40, b"", 400, "id: must be a whole number"),
    ("GET", b"/api/v1/tickets/0", b"", 404, "no such ticket"),
    ("GET", b"/api/v1/tickets/2147483648", b"", 404, "no such ticket"),
    ("GET", b"/api/v1/tickets/99999999999999999", b"", 404, "no such ticket"),
    ("POST", b"/api/v1/tickets/%00/ack", b"{}", 400, "id: must be a whole number"),
    ("POST", b"/api/v1/tickets/%D9%A3/resolve", b"{}", 400, "id: must be a whole number"),
    ("POST", b"/api/v1/tickets/x/close", b"{}", 400, "id: must be a whole number"),
    ("POST", b"/api/v1/tickets/2147483648/note", b'{"text": "t"}', 404, "no such ticket"),
    ("POST", b"/api/v1/tickets/%FF/priority", b'{"priority": "P1", "reason": "r"}', 400,
     f"id: {NOT_UTF8}"),
    ("POST", b"/api/v1/tickets/1%00/assign", b'{"assignee": "alice"}', 400,
     "id: must be a whole number"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "reason"), CASES,
                         ids=[f"{c[0]} {c[1][:40].decode()}" for c in CASES])
def test_path_parameters_are_refused_with_the_parameter_named(collector, method, path, body,
                                                              status, reason):
    got, answer = send(collector, method, path, body=body)
    assert (got, type(answer)) == (status, dict), answer
    assert answer["error"].startswith(reason), answer


def test_good_names_reach_their_host(collector):
    """The controls: a host whose name needs percent-encoding (UTF-8, '%', ' ') is found, and
    the same name is not also reachable through a second spelling."""
    names = {"café-01": b"caf%C3%A9-01", "100%-web": b"100%25-web", "two words": b"two%20words"}
    for name in names:
        status, answer = collector.call("POST", "/api/v1/inventory", {
            "idempotency_key": uuid.uuid4().hex,
            "document": {"schema": "regie.inventory/v1", "host": {"hostname": name},
                         "observations": []}}, token="agent")
        assert status == 202, answer
    for name, path in names.items():
        status, answer = send(collector, "GET", b"/api/v1/hosts/" + path, token="viewer")
        assert status == 200, answer
        assert answer["name"] == name
    # "%C3%A9" as literal text is another name (its '%' encoded), which no host has.
    assert send(collector, "GET", b"/api/v1/hosts/caf%25C3%25A9-01")[0] == 404


def test_unauthenticated_requests_learn_nothing_about_the_path(collector):
    """Authentication comes first: a malformed path is 401 without a token."""
    assert send(collector, "GET", b"/api/v1/hosts/%00", token=None)[0] == 401
    assert send(collector, "GET", b"/api/v1/tickets/%D9%A3", token=None)[0] == 401


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def oncall_collector(request, tmp_path_factory) -> Iterator[Collector]:
    """A collector with on-call and signed links configured, so that the link routes and the
    escalation route answer."""
    tmp = tmp_path_factory.mktemp(f"paths-{request.param}")
    (tmp / "oncall.yml").write_text(SCHEDULE)
    (tmp / "link.key").write_text(LINK_SECRET + "\n")
    (tmp / "link.key").chmod(0o600)
    config = (f'[oncall]\nschedule_file = "{tmp / "oncall.yml"}"\n'
              f'link_secret_file = "{tmp / "link.key"}"\n\n'
              f'[[oncall.channels]]\nname = "log"\nkind = "file"\n'
              f'path = "{tmp / "notifications.jsonl"}"\n')
    with throwaway_database(request.param, tmp) as url, \
            collector_process(tmp, migrated(url), config) as service:
        yield service


LINK_CASES = [
    ("GET", b"/api/v1/actions/%00", 400, "token: not a link token"),
    ("GET", b"/api/v1/actions/%ED%A0%80", 400, f"token: {NOT_UTF8}"),
    ("GET", b"/api/v1/actions/abc%20def", 400, "token: not a link token"),
    ("GET", b"/api/v1/actions/" + b"a" * 513, 400, "token: not a link token"),
    ("POST", b"/api/v1/actions/%00", 400, "token: not a link token"),
    ("POST", b"/api/v1/actions/x%FFy", 400, f"token: {NOT_UTF8}"),
    ("GET", b"/api/v1/actions/abc.def", 403, "link refused"),
    ("GET", b"/ui/tickets/%00?key=x", 400, "id: must be a whole number"),
    ("GET", b"/ui/tickets/%D9%A3?key=x", 400, "id: must be a whole number"),
    ("GET", b"/ui/tickets/%ED%A0%80?key=x", 400, f"id: {NOT_UTF8}"),
    ("GET", b"/ui/tickets/99999999999?key=x", 403, "link refused"),
    ("GET", b"/api/v1/tickets/%00/escalation", 400, "id: must be a whole number"),
    ("GET", b"/api/v1/tickets/%ED%A0%80/escalation", 400, f"id: {NOT_UTF8}"),
    ("GET", b"/api/v1/tickets/99999999999/escalation", 404, "this ticket has no escalation"),
]


@pytest.mark.parametrize(("method", "path", "status", "reason"), LINK_CASES,
                         ids=[f"{c[0]} {c[1][:40].decode()}" for c in LINK_CASES])
def test_link_and_escalation_routes_refuse_malformed_parameters(oncall_collector, method, path,
                                                                status, reason):
    got, answer = send(oncall_collector, method, path, body=b"{}" if method == "POST" else b"")
    assert (got, type(answer)) == (status, dict), answer
    assert answer["error"].startswith(reason), answer
    # A person's browser gets the same refusal as a page.
    got, page = send(oncall_collector, method, path, accept="text/html",
                     body=b"{}" if method == "POST" else b"")
    if "escalation" not in path.decode():
        assert got == status and isinstance(page, str) and "<html" in page.lower(), page


def test_no_request_above_reached_a_handler_as_a_fault(collector, tmp_path_factory):
    """The collector's log holds no traceback through Regie's own code after all of the above
    (a 500 writes one)."""
    logs = [p for p in tmp_path_factory.getbasetemp().rglob("collector-*.log")
            if str(collector.port) in p.name]
    assert logs, "the shared collector's log"
    own = [line for line in logs[0].read_text().splitlines()
           if line.strip().startswith('File "') and "/collector/" in line]
    assert own == []
