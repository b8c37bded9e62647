"""Maintenance windows mirrored into a real Alertmanager, driven by `regie maintenance` against
a real collector process (SQLite).

The collector mirrors each running window as a silence through Alertmanager's API v2 and
expires it when the window stops; silences anyone else created are never touched, even one
with the same `createdBy` or the same kind of comment. Alertmanager itself is asked whether
an alert on the window's scope is silenced by that silence. Real time here (two processes):
every wait is bounded and says what it waited for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from typing import Any

import pytest

from tests.collector.conftest import collector_process
from tests.services import wait_for

AM_CONFIG = """\
route:
  receiver: nobody
receivers:
  - name: nobody
"""


def am(url: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def silences(url: str) -> list[dict[str, Any]]:
    return am(url, "GET", "/api/v2/silences")


def cli(collector, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REGIE_URL": collector.url, "REGIE_TOKEN": collector.tokens["responder"]}
    env.pop("REGIE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "regie", "maintenance", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def foreign(url: str, created_by: str, comment: str) -> str:
    start = "2026-01-01T00:00:00Z"
    return am(url, "POST", "/api/v2/silences", {
        "matchers": [{"name": "host", "value": "web1", "isRegex": False, "isEqual": True}],
        "startsAt": start, "endsAt": "2099-01-01T00:00:00Z", "createdBy": created_by,
        "comment": comment})["silenceID"]


@pytest.mark.timeout(180)
def test_a_window_becomes_a_silence_and_is_expired_when_ended(start_alertmanager, tmp_path,
                                                              sqlite_db):
    manager = start_alertmanager(AM_CONFIG)
    theirs = [foreign(manager.url, "alice", "regie maintenance window 1 (looks like ours)"),
              foreign(manager.url, "regie", "a person's own silence, same name")]
    config = (f'[maintenance]\nalertmanager_url = "{manager.url}"\nrefresh_seconds = 0.5\n')
    with collector_process(tmp_path, sqlite_db, config) as collector:
        added = cli(collector, "add", "--name", "storage firmware", "--host", "web*",
                    "--matcher", 'alertname=~"Disk.*"', "--start", "now", "--duration", "1h")
        assert added.returncode == 0, added.stderr
        assert added.stdout.startswith("#1 storage firmware [running]"), added.stdout

        def ours() -> list[dict[str, Any]]:
            return [s for s in silences(manager.url) if s["id"] not in theirs
                    and s["status"]["state"] == "active"]

        mirrored = wait_for(lambda: ours() or None, timeout=30)
        assert len(mirrored) == 1, mirrored
        silence = mirrored[0]
        assert silence["createdBy"] == "regie"
        assert silence["comment"].startswith("regie maintenance window 1 ")
        assert sorted((m["name"], m["value"], m["isRegex"]) for m in silence["matchers"]) == [
            ("alertname", "Disk.*", True), ("host", "web.*", True)]
        # Alertmanager itself silences an alert of the scope with it, and not another.
        am(manager.url, "POST", "/api/v2/alerts", [
            {"labels": {"alertname": "DiskFull", "host": "web7"}},
            {"labels": {"alertname": "DiskFull", "host": "db1"}}])

        def states() -> dict[str, list[str]] | None:
            alerts = am(manager.url, "GET", "/api/v2/alerts")
            found = {a["labels"]["host"]: a["status"]["silencedBy"] for a in alerts}
            return found if len(found) == 2 else None

        silenced = wait_for(states, timeout=20)
        assert silenced == {"web7": [silence["id"]], "db1": []}

        listed = cli(collector, "list")
        assert "holding alerts now:" in listed.stdout and "storage firmware" in listed.stdout
        ended = cli(collector, "end", "storage firmware")
        assert ended.returncode == 0, ended.stderr
        assert "[ended]" in ended.stdout

        def expired() -> bool:
            return next(s for s in silences(manager.url)
                        if s["id"] == silence["id"])["status"]["state"] == "expired"

        wait_for(lambda: expired() or None, timeout=30)
        states_now = {s["id"]: s["status"]["state"] for s in silences(manager.url)}
        assert [states_now[t] for t in theirs] == ["active", "active"]
        assert ours() == []   # not created again: the window has ended


def test_cli_refusals_exit_2_with_the_reason(tmp_path, sqlite_db):
    with collector_process(tmp_path, sqlite_db) as collector:
        before = cli(collector, "add", "--name", "x", "--host", "db1", "--start",
                     "2026-12-01T10:00Z", "--end", "2026-12-01T09:00Z")
        assert before.returncode == 2
        assert before.stderr.strip().splitlines() == [
            "regie maintenance: POST /api/v1/maintenance: 409 end: must be after the start "
            "(2026-12-01T10:00:00+00:00), not 2026-12-01T09:00:00+00:00"]
        never = cli(collector, "add", "--name", "x", "--host", "db1", "--start", "now",
                    "--duration", "1h", "--rrule", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")
        assert never.returncode == 2 and "rrule: never occurs" in never.stderr
        zone = cli(collector, "add", "--name", "x", "--host", "db1", "--start", "now",
                   "--duration", "1h", "--timezone", "Europe/Atlantis")
        assert zone.returncode == 2 and "timezone: unknown time zone" in zone.stderr
        missing = cli(collector, "end", "no such window")
        assert missing.returncode == 2 and "no maintenance window named" in missing.stderr
        nothing = cli(collector, "list", "--all", "--json")
        assert json.loads(nothing.stdout)["windows"] == []
        env = {k: v for k, v in os.environ.items()
               if k not in ("REGIE_CONFIG", "REGIE_TOKEN", "REGIE_TOKEN_FILE")}
        tokenless = subprocess.run(
            [sys.executable, "-m", "regie", "maintenance", "list", "--url", collector.url],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
        assert tokenless.returncode == 2
        assert tokenless.stderr.startswith("regie maintenance: no API token: ")
        assert len(tokenless.stderr.strip().splitlines()) == 1


def test_regie_ticket_show_says_a_ticket_fired_during_maintenance(tmp_path, sqlite_db):
    with collector_process(tmp_path, sqlite_db) as collector:
        added = cli(collector, "add", "--name", "db1 reboot", "--host", "db1", "--start", "now",
                    "--duration", "1h")
        assert added.returncode == 0, added.stderr
        status, _ = collector.call("POST", "/api/v1/events", {
            "routing_key": "r", "event_action": "trigger", "dedup_key": "d",
            "payload": {"summary": "db1 down", "source": "db1", "severity": "critical"}},
            token="ingest")
        assert status == 202
        status, listed = collector.call("GET", "/api/v1/tickets", token="viewer")
        env = {**os.environ, "REGIE_URL": collector.url,
               "REGIE_TOKEN": collector.tokens["viewer"]}
        env.pop("REGIE_CONFIG", None)
        shown = subprocess.run([sys.executable, "-m", "regie", "ticket", "show",
                                str(listed["tickets"][0]["id"])], env=env, capture_output=True,
                               text=True, timeout=60, check=False)
        assert shown.returncode == 0, shown.stderr
        line = next(x for x in shown.stdout.splitlines() if "maintenance:" in x)
        assert line.strip().startswith("maintenance: db1 reboot (window 1, ")
        assert line.endswith("escalation held until then")
