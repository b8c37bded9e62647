"""A person's name has one rule wherever a request names one: `actor` (acknowledge, resolve,
close, note, priority, assign), `assignee`, `reporter`, and a token's `--person`
(collector/auth.py `person_name`). Against the real collector process on SQLite and
PostgreSQL, and the real `regie collector token create`.

Found: `{"actor": "evil\\nactor"}` was stored as a timeline actor, so one request could write
what looked like a second timeline line (and a second log line).
"""

from __future__ import annotations

import pytest

from collector.auth import PERSON_PATTERN, person_name
from tests.collector.conftest import regie

BAD = [
    ("evil\nactor", "newline"), ("tab\there", "tab"), ("esc\x1b[31mred", "escape"),
    ("next\x85line", "C1 next line"), ("line\u2028sep", "line separator"),
    ("admin\u202egnp.exe", "right-to-left override"), ("al\u200bice", "zero-width space"),
    ("\ufeffalice", "byte-order mark"), ("alice ", "trailing space"),
    ("\u3000alice", "leading ideographic space"), ("x" * 201, "201 characters"),
]
GOOD = ["alice", "Carol Smith", "José Ñúñez", "李雷", "o'brien@example.org", "x" * 200]

RULE = "not a person's name: 1 to 200 characters"


def new_ticket(collector) -> int:
    status, body = collector.call("POST", "/api/v1/tickets", {"summary": "Mail queue stuck",
                                                              "host": "mx1"},
                                  token="responder")
    assert status == 201, body
    return body["id"]


def timeline(collector, ticket_id: int) -> list[dict]:
    status, body = collector.call("GET", f"/api/v1/tickets/{ticket_id}", token="viewer")
    assert status == 200, body
    return body["timeline"]


# (path after /api/v1/tickets/{id}, body without the person, the field that names one)
ENDPOINTS = [
    ("ack", {}, "actor"), ("resolve", {}, "actor"), ("note", {"text": "looked"}, "actor"),
    ("priority", {"priority": "P1", "reason": "payroll"}, "actor"),
    ("assign", {"assignee": "bob"}, "actor"), ("assign", {}, "assignee"),
]


@pytest.mark.parametrize(("name", "what"), BAD, ids=[b[1] for b in BAD])
def test_every_field_naming_a_person_refuses_a_bad_name_and_stores_nothing(collector, name,
                                                                           what):
    ticket_id = new_ticket(collector)
    before = timeline(collector, ticket_id)
    for action, body, field in ENDPOINTS:
        status, answer = collector.call("POST", f"/api/v1/tickets/{ticket_id}/{action}",
                                        {**body, field: name}, token="responder")
        expected = (f"{field}: longer than 200 characters" if len(name) > 200
                    else f"{field}: {RULE}")
        assert (status, answer.get("error", "")[:len(expected)]) == (400, expected), \
            (action, field, answer)
    status, answer = collector.call("POST", "/api/v1/tickets", {
        "summary": "s", "reporter": name}, token="responder")
    assert status == 400 and answer["error"].startswith("reporter: "), answer
    assert timeline(collector, ticket_id) == before
    status, ticket = collector.call("GET", f"/api/v1/tickets/{ticket_id}", token="viewer")
    assert (ticket["status"], ticket["assignee"]) == ("open", None)


def test_good_names_act_and_are_recorded_as_given(collector):
    ticket_id = new_ticket(collector)
    for name in GOOD:
        status, answer = collector.call("POST", f"/api/v1/tickets/{ticket_id}/note",
                                        {"text": "here", "actor": name}, token="responder")
        assert status == 201, answer
        assert answer["actor"] == name
    status, ticket = collector.call("POST", f"/api/v1/tickets/{ticket_id}/assign",
                                    {"assignee": "José Ñúñez", "actor": "Carol Smith"},
                                    token="responder")
    assert status == 200 and ticket["assignee"] == "José Ñúñez", ticket
    status, ticket = collector.call("POST", "/api/v1/tickets", {
        "summary": "printer", "reporter": "Carol Smith"}, token="responder")
    assert status == 201 and ticket["reporter"] == "Carol Smith", ticket
    # Blank means "not given", as for every optional text: the token's name acts.
    status, acted = collector.call("POST", f"/api/v1/tickets/{ticket_id}/ack",
                                   {"actor": "  "}, token="responder")
    assert status == 200, acted
    assert timeline(collector, ticket_id)[-1]["actor"].startswith("responder-")


@pytest.mark.parametrize(("name", "what"), BAD[:6], ids=[b[1] for b in BAD[:6]])
def test_a_tokens_person_follows_the_same_rule(sqlite_db, name, what):
    result = regie("collector", "token", "create", "--role", "responder", "--name", "t1",
                   f"--person={name}", "--db", sqlite_db, check=False)
    assert result.returncode == 2, result.stderr
    assert f"argument --person: {RULE}" in result.stderr
    assert "Traceback" not in result.stderr
    listed = regie("collector", "token", "list", "--db", sqlite_db).stdout.splitlines()
    assert len(listed) == 1  # the header only


def test_the_documented_pattern_is_the_rule():
    """The OpenAPI document states the rule as PERSON_PATTERN: the same answer for every
    character class the rule names (checked with jsonschema-rs, as schemathesis does)."""
    import jsonschema_rs

    schema = jsonschema_rs.validator_for({"type": "string", "pattern": PERSON_PATTERN})
    for name in [*GOOD, *(b[0] for b in BAD), "", " ", "a", "a b", "\u00a0a", "a\x7f",
                 "a\x00b", "a\u2066b", "a\u061cb", "\u200e"]:
        try:
            person_name(name)
            accepted = True
        except ValueError:
            accepted = False
        assert schema.is_valid(name) == accepted, repr(name)
