"""What the commands print of the API's answers is text a terminal shows, never acts on:
against the real collector process on SQLite and PostgreSQL and the real `regie ticket`,
`regie vendor-case` commands.

Found: a sender with an ingest token could put a line break and escape sequences in an
event's summary and source (the ticket's summary and host), and `regie ticket list` printed
them as they were: a forged row in the operator's table, the terminal's title set
(ESC ] 0 ; ... BEL) and a line erased (ESC [ 2 K). `--json` printed the answer unchanged and
still does (JSON escapes them)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SUMMARY = "disk ok\n   999  P5   resolved  forged row\x1b]0;owned\x07\u202eevil"
HOST = "web9\x1b[2K\r"


def regie(collector, tmp_path, *args: str) -> str:
    token = tmp_path / "viewer.token"
    token.write_text(collector.tokens["responder"] + "\n")
    token.chmod(0o600)
    result = subprocess.run([sys.executable, "-m", "regie", *args, "--url", collector.url,
                             "--token-file", str(token)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result
    return result.stdout


def shown_safely(out: str) -> None:
    assert not any(c in out for c in "\x1b\x07\r\u202e"), ascii(out)
    assert "forged row" not in "".join(line for line in out.splitlines()
                                       if line.lstrip().startswith("999")), out


@pytest.fixture
def ticket(collector) -> int:
    status, answer = collector.call("POST", "/api/v1/events", token=None, body={
        "routing_key": collector.tokens["ingest"], "event_action": "trigger",
        "dedup_key": "terminal", "payload": {"summary": SUMMARY, "source": HOST,
                                             "severity": "error"}})
    assert status == 202, answer
    status, listed = collector.call("GET", "/api/v1/tickets", token="viewer")
    return listed["tickets"][0]["id"]


def test_ticket_list_and_show_escape_control_characters(collector, tmp_path, ticket):
    listed = regie(collector, tmp_path, "ticket", "list")
    shown_safely(listed)
    assert len(listed.splitlines()) == 2, listed            # the head and one row
    assert "disk ok\\x0a   999" in listed and "web9\\x1b[2K" in listed, listed
    shown = regie(collector, tmp_path, "ticket", "show", str(ticket))
    shown_safely(shown)
    assert "\\x1b]0;owned\\x07\\u202eevil" in shown, shown


def test_json_output_keeps_the_answer_as_it_is(collector, tmp_path, ticket):
    out = regie(collector, tmp_path, "ticket", "--json", "list")
    (row,) = json.loads(out)["tickets"]
    assert (row["summary"], row["host"]) == (SUMMARY, HOST)


def test_vendor_case_listing_escapes_a_vendor_update(collector, tmp_path, ticket):
    status, case = collector.call("POST", "/api/v1/vendor-cases", token="responder", body={
        "vendor": "Acme", "case_number": "T-1", "summary": "fan\x1b[31m red\nsecond line"})
    assert status == 201, case
    out = regie(collector, tmp_path, "vendor-case", "list")
    assert "\x1b" not in out and "fan\\x1b[31m red\\x0asecond line" in out, ascii(out)


def test_patch_status_escapes_what_an_agent_sent(collector):
    """`regie patch status` reads the database itself: host and package names as an agent's
    inventory push wrote them."""
    import uuid

    from tests.collector.conftest import regie as command

    host, package = "inv\x1b[2K\rforged", "openssl\n    evil 1.0 (security"
    status, answer = collector.call("POST", "/api/v1/inventory", token="agent", body={
        "idempotency_key": uuid.uuid4().hex, "document": {
            "schema": "regie.inventory/v1", "host": {"hostname": host},
            "packages": [{"manager": "dpkg", "name": package, "version": "1",
                          "architecture": "amd64"}],
            "updates": [{"manager": "apt", "package": package, "architecture": "amd64",
                         "current_version": "1", "version": "2", "security": True,
                         "origin": "Debian-Security:12/stable-security", "advisories": []}],
            "observations": [], "errors": []}})
    assert status == 202, answer
    out = command("patch", "status", "--host", "inv*", "--db", collector.db).stdout
    assert "\x1b" not in out and "\r" not in out, ascii(out)
    assert "inv\\x1b[2K\\x0dforged" in out and "openssl\\x0a    evil" in out, out
    assert len(out.splitlines()) == 4, out      # totals, head, the host, its update
    listed = json.loads(command("patch", "status", "--host", "inv*", "--json",
                                "--db", collector.db).stdout)
    assert listed["hosts"][0]["host"] == host


@pytest.mark.parametrize("by", ["item", "host"])
def test_registry_eos_escapes_host_names(collector, by):
    """`regie registry eos` reads the database too: a host's name as its push sent it."""
    import uuid

    from tests.collector.conftest import regie as command

    status, answer = collector.call("POST", "/api/v1/inventory", token="agent", body={
        "idempotency_key": uuid.uuid4().hex, "document": {
            "schema": "regie.inventory/v1", "host": {"hostname": "eos\x1b[31m\nforged"},
            "observations": [{"source": "os-release",
                              "raw": {"ID": "debian", "VERSION_ID": "12"}}]}})
    assert status == 202, answer
    out = command("registry", "eos", "--within", "10y", "--by", by, "--db",
                  collector.db).stdout
    assert "\x1b" not in out, ascii(out)
    assert "eos\\x1b[31m\\x0aforged" in out, out
    assert not any(line.startswith("forged") for line in out.splitlines()), out
