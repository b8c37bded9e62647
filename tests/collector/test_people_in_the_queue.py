"""People, not tokens, on the timeline; acknowledgement is idempotent; assign and priority from
the command line; where a ticket's impact came from. Through the real `regie` CLI against the
real collector process, on SQLite and PostgreSQL (the token's person is stored)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.collector.conftest import collector_process, regie


def ticket_cli(collector, token_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regie", "ticket", "--url", collector.url,
                           "--token-file", str(token_file), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def token_file(tmp_path: Path, name: str, token: str) -> Path:
    path = tmp_path / f"{name}.token"
    path.write_text(token + "\n")
    path.chmod(0o600)
    return path


def person_token(collector, tmp_path: Path, name: str, person: str) -> Path:
    """A responder token held by `person`, through `regie collector token create --person`."""
    out = regie("collector", "token", "create", "--role", "responder", "--name", name,
                "--person", person, "--db", collector.db)
    assert f"held by {person}" in out.stderr
    return token_file(tmp_path, name, out.stdout.strip())


def new_ticket(collector, **extra) -> int:
    status, body = collector.call("POST", "/api/v1/tickets", {"summary": "Mail queue stuck",
                                                              "host": "mx1", **extra})
    assert status == 201, body
    return body["id"]


def timeline(collector, ticket: int) -> list[dict]:
    return collector.call("GET", f"/api/v1/tickets/{ticket}")[1]["timeline"]


def test_acknowledging_twice_says_who_did_and_keeps_the_note(collector, tmp_path):
    alice = person_token(collector, tmp_path, f"alice-{collector.port}-{tmp_path.name[-6:]}",
                         "alice")
    bob = person_token(collector, tmp_path, f"bob-{collector.port}-{tmp_path.name[-6:]}", "bob")
    ticket = new_ticket(collector)
    first = ticket_cli(collector, alice, "ack", str(ticket), "--note", "on it")
    assert first.returncode == 0, first.stderr
    assert f"#{ticket}" in first.stdout and "acknowledged" in first.stdout
    again = ticket_cli(collector, bob, "ack", str(ticket), "--note", "me too")
    assert again.returncode == 0, again.stderr
    assert f"#{ticket} already acknowledged by alice at " in again.stdout
    assert "your note is on the timeline" in again.stdout
    entries = [(e["kind"], e["actor"], e["message"]) for e in timeline(collector, ticket)]
    assert ("acknowledged", "alice", "acknowledged by alice") in entries
    assert ("note", "alice", "on it") in entries
    assert ("note", "bob", "me too") in entries
    assert [e for e in entries if e[0] == "acknowledged"] == [
        ("acknowledged", "alice", "acknowledged by alice")]
    # The API says the same to a program: 200, already, by whom.
    status, body = collector.call("POST", f"/api/v1/tickets/{ticket}/ack", {}, token="viewer")
    assert status == 403
    status, body = collector.call("POST", f"/api/v1/tickets/{ticket}/ack", {})
    assert status == 200 and body["already"] is True
    assert body["message"].startswith(f"#{ticket} already acknowledged by alice at ")
    # Resolved, an acknowledgement is refused (a real conflict), with the reason.
    assert ticket_cli(collector, alice, "resolve", str(ticket)).returncode == 0
    late = ticket_cli(collector, bob, "ack", str(ticket))
    assert late.returncode == 1 and "cannot acknowledge a ticket that is resolved" in late.stderr


def test_the_actor_is_the_tokens_person_else_the_named_one(collector, tmp_path):
    alice = person_token(collector, tmp_path, f"alice2-{collector.port}-{tmp_path.name[-6:]}",
                         "alice")
    shared = token_file(tmp_path, "admin", collector.tokens["admin"])   # names no person
    ticket = new_ticket(collector)
    assert ticket_cli(collector, shared, "note", str(ticket), "checked the queue",
                      "--as", "carol").returncode == 0
    refused = ticket_cli(collector, alice, "note", str(ticket), "not me", "--as", "carol")
    assert refused.returncode == 1 and "this token acts for alice only" in refused.stderr
    assert ticket_cli(collector, alice, "note", str(ticket), "me", "--as",
                      "alice").returncode == 0
    plain = ticket_cli(collector, shared, "note", str(ticket), "no name given")
    assert plain.returncode == 0
    notes = [(e["actor"], e["message"]) for e in timeline(collector, ticket)
             if e["kind"] == "note"]
    admin_name = next(e["actor"] for e in timeline(collector, ticket)
                      if e["message"] == "no name given")
    assert admin_name.startswith("admin-")          # the token's name, as before
    assert notes == [("carol", "checked the queue"), ("alice", "me"),
                     (admin_name, "no name given")]
    listed = regie("collector", "token", "list", "--db", collector.db).stdout
    assert any(line.split()[:3][2:] == ["alice"] for line in listed.splitlines()
               if line.startswith("alice2-")), listed


def test_assign_and_priority_from_the_command_line(collector, tmp_path):
    alice = person_token(collector, tmp_path, f"alice3-{collector.port}-{tmp_path.name[-6:]}",
                         "alice")
    ticket = new_ticket(collector, impact="low", urgency="low")
    assigned = ticket_cli(collector, alice, "assign", str(ticket), "bob")
    assert assigned.returncode == 0, assigned.stderr
    changed = ticket_cli(collector, alice, "priority", str(ticket), "P2", "--reason",
                         "payroll runs tonight")
    assert changed.returncode == 0, changed.stderr
    assert f"#{ticket} P2 open" in changed.stdout
    status, body = collector.call("GET", f"/api/v1/tickets/{ticket}")
    assert (body["assignee"], body["priority"]) == ("bob", "P2")
    assert body["priority_override_reason"] == "payroll runs tonight"
    entries = {e["kind"]: (e["actor"], e["message"]) for e in body["timeline"]}
    assert entries["assigned"] == ("alice", "assigned to bob by alice")
    assert entries["priority_overridden"] == ("alice", "priority P4 -> P2: payroll runs tonight")
    # Reassigning says from whom; a closed ticket is history.
    assert ticket_cli(collector, alice, "assign", str(ticket), "carol").returncode == 0
    assert timeline(collector, ticket)[-1]["message"] == "assigned to carol by alice (was bob)"
    for step in ("resolve", "close"):
        assert ticket_cli(collector, alice, step, str(ticket)).returncode == 0
    closed = ticket_cli(collector, alice, "assign", str(ticket), "dave")
    assert closed.returncode == 1 and "is closed" in closed.stderr
    missing = ticket_cli(collector, alice, "assign", "999999", "dave")
    assert missing.returncode == 1 and "404" in missing.stderr
    status, body = collector.call("POST", f"/api/v1/tickets/{ticket}/assign", {"who": "x"})
    assert status == 400 and "who" in body["error"]


def test_the_timeline_says_where_the_impact_came_from(tmp_path, sqlite_db):
    config = '[criticality]\ndefault = "medium"\n[criticality.hosts]\n"web-*" = "high"\n'
    with collector_process(tmp_path, sqlite_db, config) as collector:
        admin = token_file(tmp_path, "admin", collector.tokens["admin"])
        cases = [
            # (report arguments, what the created row's first reason says)
            (["--impact", "low"], "impact low (reported by the user)"),
            (["--impact", "low", "--host", "web-01"], "system criticality high (host glob web-*)"),
            (["--impact", "business-critical", "--host", "web-01"],
             "impact business-critical (reported by the user)"),
        ]
        for args, reason in cases:
            out = ticket_cli(collector, admin, "report", "--summary", "Printer jams", *args)
            assert out.returncode == 0, out.stderr
            ticket = int(out.stdout.split()[0].lstrip("#"))
            created = next(e for e in timeline(collector, ticket) if e["kind"] == "created")
            assert created["message"].split(": ", 1)[1].startswith(reason + ";"), \
                (args, created["message"])
        # A monitoring signal: the system's criticality, and which setting gave it.
        for host, reason in (("web-02", "system criticality high (host glob web-*)"),
                             ("db-9", "system criticality medium (default)")):
            status, _ = collector.call("POST", "/api/v1/events", {
                "routing_key": collector.tokens["ingest"], "event_action": "trigger",
                "dedup_key": f"disk-{host}", "payload": {"summary": "disk full",
                                                         "source": host, "severity": "error"}},
                token=None)
            assert status == 202
            ticket = collector.call("GET", f"/api/v1/tickets?host={host}")[1]["tickets"][0]["id"]
            created = next(e for e in timeline(collector, ticket) if e["kind"] == "created")
            assert reason in created["message"], created["message"]
