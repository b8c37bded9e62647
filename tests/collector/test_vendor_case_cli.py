"""`regie vendor-case` as a person runs it, against the real collector process (SQLite and
PostgreSQL): a case from opening to close by the vendor's case number, and refusals (exit 2,
one line naming the problem, nothing written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.services import free_port


def run(collector, *args: str, token: str = "responder") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGIE_TOKEN": collector.tokens[token], "REGIE_URL": collector.url}
    env.pop("REGIE_TOKEN_FILE", None)
    return subprocess.run([sys.executable, "-m", "regie", "vendor-case", *args],
                          capture_output=True, text=True, timeout=60, check=False, env=env)


def test_a_case_by_its_vendor_number(collector):
    status, ticket = collector.call("POST", "/api/v1/tickets", {"summary": "RAID degraded"},
                                    token="responder")
    assert status == 201
    opened = run(collector, "open", "--vendor", "Dell", "--case-number", "SR-77",
                 "--summary", "RAID controller resets", "--ticket", str(ticket["id"]),
                 "--severity", "high", "--owner", "alice", "--follow-up-days", "2")
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("#") and " Dell SR-77 open (high), owner alice" in \
        opened.stdout
    case_id = opened.stdout[1:].split()[0]
    done = run(collector, "update", "SR-77", "--status", "waiting_on_vendor",
               "--vendor-answered", "--note", "sent the TSR log", "--as", "bob")
    assert done.returncode == 0, done.stderr
    assert "waiting_on_vendor" in done.stdout
    assert run(collector, "note", case_id, "phoned: escalated").returncode == 0
    listed = run(collector, "list")
    assert listed.returncode == 0 and "SR-77" in listed.stdout
    shown = run(collector, "show", "SR-77", "--json")
    case = json.loads(shown.stdout)
    assert (case["status"], case["owner"], case["tickets"]) == (
        "waiting_on_vendor", "alice", [ticket["id"]])
    assert [e["kind"] for e in case["timeline"]] == ["opened", "vendor_update", "note", "note"]
    assert case["timeline"][1]["actor"] == "bob"
    closed = run(collector, "close", "SR-77", "--note", "controller replaced")
    assert closed.returncode == 0 and " closed " in closed.stdout
    assert "SR-77" not in run(collector, "list").stdout
    assert "SR-77" in run(collector, "list", "--status", "closed").stdout


def test_refusals_exit_2_with_one_line(collector):
    def refused(*args: str, reason: str, token: str = "responder") -> None:
        before = collector.call("GET", "/api/v1/vendor-cases?status=open,closed",
                                token="viewer")[1]
        result = run(collector, *args, token=token)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and reason in result.stderr, result.stderr
        after = collector.call("GET", "/api/v1/vendor-cases?status=open,closed",
                               token="viewer")[1]
        assert after == before

    new = ("open", "--vendor", "Dell", "--case-number", "SR-88", "--summary", "fans")
    refused(*new, "--next-follow-up", "2020-01-01",
            reason="409 next_follow_up: 2020-01-01T00:00:00+00:00 is not in the future")
    refused(*new, "--host", "nowhere", reason="409 hosts: no host named 'nowhere' is known")
    refused(*new, "--next-follow-up", "next week", reason="--next-follow-up: 'next week' is "
                                                          "neither YYYY-MM-DD nor an RFC 3339")
    refused(*new, token="viewer", reason="403 role 'viewer' may not respond")
    refused("note", "SR-404", "hello", reason="no vendor case numbered 'SR-404'")
    assert run(collector, *new).returncode == 0
    refused("update", "SR-88", "--status", "closed", "--follow-up-days", "0",
            reason="400 follow_up_days: must be a whole number from 1 to 365")


def test_an_unreachable_collector_exits_1(collector):
    env = {**os.environ, "REGIE_TOKEN": "x", "REGIE_URL": f"http://127.0.0.1:{free_port()}"}
    result = subprocess.run([sys.executable, "-m", "regie", "vendor-case", "list"],
                            capture_output=True, text=True, timeout=60, check=False, env=env)
    assert result.returncode == 1 and "cannot reach the collector" in result.stderr
