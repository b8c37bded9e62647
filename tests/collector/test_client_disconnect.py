"""A client that closes its connection before its body arrived is not a database outage.

Real collector process (`regie collector run`) on SQLite and PostgreSQL, raw sockets. aiohttp
ends such a request's body with ConnectionResetError("Connection lost"), an OSError, which the
collector read as an unreachable database: each streak of them logged "database unavailable"
at ERROR with a traceback, and the next commit "recovered", so any client could write
tracebacks into the log and make an operator look for a database outage. Now it is a client's
refusal (400, counted in regie_collector_rejected_requests_total; nobody is left to read it)
with nothing in the log at INFO.
"""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.collector.conftest import collector_process
from tests.services import wait_for

# A body announced but cut short, on the JSON API and on the console's login form.
CUT_SHORT = [
    ("/api/v1/events", "ingest", "application/json", b'{"routing_key": "r", "event_'),
    ("/api/v1/alertmanager", "ingest", "application/json", b'{"version": "4", "alerts": ['),
    ("/api/v1/inventory", "agent", "application/json", b'{"idempotency_key": "k"'),
    ("/ui/login", None, "application/x-www-form-urlencoded", b"csrf=abc&token=r"),
]


@pytest.fixture
def collector(tmp_path, collector_db):
    with collector_process(tmp_path, collector_db, "[ui]\nenabled = true\n") as service:
        yield service


def rejected(collector, endpoint: str) -> float:
    request = urllib.request.Request(collector.url + "/metrics", headers={
        "Authorization": f"Bearer {collector.tokens['viewer']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    wanted = f'regie_collector_rejected_requests_total{{endpoint="{endpoint}",status="400"}} '
    return sum(float(line[len(wanted):]) for line in text.splitlines()
               if line.startswith(wanted))


def test_a_body_cut_short_by_the_client_is_its_own_refusal_not_an_outage(collector, tmp_path):
    for path, role, content_type, part in CUT_SHORT:
        token = f"Authorization: Bearer {collector.tokens[role]}\r\n" if role else ""
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\n{token}Content-Type: {content_type}\r\n"
                f"Content-Length: {len(part) + 1000}\r\n\r\n").encode()
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as conn:
                conn.sendall(head + part)
            # The collector saw the connection end while it read the body: counted as the
            # client's refusal (before the fix it was the database's failure, not counted).
        assert wait_for(lambda path=path: rejected(collector, path) >= 3 or None,
                        timeout=20), path
    # The database answers: a write commits, and nothing said it was ever unavailable.
    event = {"routing_key": "r", "event_action": "trigger", "dedup_key": "after",
             "payload": {"summary": "s", "source": "h", "severity": "info"}}
    status, _ = collector.call("POST", "/api/v1/events", event, token="ingest")
    assert status == 202
    log = (tmp_path / f"collector-{collector.port}.log").read_text()
    assert "database unavailable" not in log, log
    assert "Traceback" not in log, log
    status, health = collector.call("GET", "/healthz", token=None)
    assert (status, health) == (200, {"status": "ok"})
