"""Every endpoint but /healthz needs a token; state changes need a role that allows them.

Real collector process on SQLite and PostgreSQL, tokens created with the real CLI.
"""

from __future__ import annotations

import pytest

ENDPOINTS = [
    ("GET", "/metrics"), ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/tickets"),
    ("POST", "/api/v1/tickets"), ("GET", "/api/v1/tickets/1"),
    ("POST", "/api/v1/tickets/1/ack"), ("POST", "/api/v1/tickets/1/resolve"),
    ("POST", "/api/v1/tickets/1/close"), ("POST", "/api/v1/tickets/1/note"),
    ("POST", "/api/v1/tickets/1/priority"), ("POST", "/api/v1/alertmanager"),
    ("POST", "/api/v1/inventory"),
]


def test_healthz_needs_no_token(collector):
    assert collector.call("GET", "/healthz", token=None) == (200, {"status": "ok"})


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_is_401(collector, method, path):
    status, body = collector.call(method, path, {} if method == "POST" else None, token=None)
    assert status == 401
    assert body == {"error": "a valid bearer token is required"}


@pytest.mark.parametrize("token", ["regie_not-a-real-token", "garbage", "Bearer"])
def test_unknown_token_is_401(collector, token):
    assert collector.call("GET", "/api/v1/tickets", token=token)[0] == 401


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("viewer", "GET", "/api/v1/tickets", True),
        ("viewer", "POST", "/api/v1/tickets", False),
        ("viewer", "POST", "/api/v1/alertmanager", False),
        ("agent", "GET", "/api/v1/tickets", False),
        ("agent", "POST", "/api/v1/alertmanager", False),
        ("ingest", "POST", "/api/v1/inventory", False),
        ("ingest", "GET", "/api/v1/tickets", False),
        ("responder", "POST", "/api/v1/alertmanager", False),
        ("responder", "POST", "/api/v1/tickets", True),
    ],
)
def test_roles(collector, role, method, path, allowed):
    body = {"summary": "role check"} if path == "/api/v1/tickets" else {"alerts": []}
    status, answer = collector.call(method, path, body if method == "POST" else None, token=role)
    if allowed:
        assert status in (200, 201), answer
    else:
        assert status == 403
        assert answer["error"].startswith(f"role '{role}' may not")


def test_revoked_token_stops_working(collector):
    """Revocation through the CLI; the in-process cache lets a token live at most 10 s more,
    so a token never used before revocation is refused at once."""
    from tests.collector.conftest import create_token, regie

    token = create_token(collector.db, "viewer", "short-lived")
    regie("collector", "token", "revoke", "short-lived", "--db", collector.db)
    assert collector.call("GET", "/api/v1/tickets", token=token)[0] == 401


@pytest.mark.timeout(300)  # 15-60 s (default: 120 s)
def test_token_list_shows_last_use(collector):
    """A token's first use is recorded (the LAST USED column of `token list`)."""
    from tests.collector.conftest import create_token, regie

    token = create_token(collector.db, "viewer", "used-once")
    never = [line for line in regie("collector", "token", "list", "--db", collector.db)
             .stdout.splitlines() if line.startswith("used-once ")]
    assert never[0].split()[5] == "-"  # NAME ROLE PERSON CREATED(date time) LAST-USED
    assert collector.call("GET", "/api/v1/tickets", token=token)[0] == 200
    used = [line for line in regie("collector", "token", "list", "--db", collector.db)
            .stdout.splitlines() if line.startswith("used-once ")]
    assert used[0].split()[5] != "-"


def test_token_list_never_shows_values(collector):
    from tests.collector.conftest import regie

    listing = regie("collector", "token", "list", "--db", collector.db).stdout
    assert "viewer-" in listing
    for token in collector.tokens.values():
        assert token not in listing
