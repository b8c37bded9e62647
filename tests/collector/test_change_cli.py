"""`regie change` against the real collector (SQLite and PostgreSQL): local times read in
--timezone, refusals as exit status 2 with one line on stderr, the calendar as iCalendar."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def change(collector, *args: str, token: str = "responder", text: bool = True):
    env = {**os.environ, "REGIE_URL": collector.url,
           "REGIE_TOKEN": collector.tokens.get(token, token)}
    env.pop("REGIE_TOKEN_FILE", None)
    return subprocess.run([sys.executable, "-m", "regie", "change", *args], capture_output=True,
                          text=text, timeout=60, env=env, check=False)


@pytest.fixture
def web1(collector):
    status, body = collector.call("POST", "/api/v1/tickets",
                                  {"summary": "known host", "host": "web-1"}, token="responder")
    assert status == 201, body
    return collector


def test_create_reads_local_times_in_the_time_zone_and_shows_the_change(web1):
    made = change(web1, "create", "--type", "normal", "--summary", "Kernel 6.12",
                  "--host", "web-*", "--start", "2030-04-07 02:00", "--end", "2030-04-07 04:00",
                  "--timezone", "Europe/Amsterdam", "--package", "linux-image=6.12.1",
                  "--package", "linux-base", "--json")
    assert made.returncode == 0, made.stderr
    body = json.loads(made.stdout)
    # Summer time in Amsterdam on 7 April 2030: UTC+2.
    assert body["planned_start"] == "2030-04-07T00:00:00+00:00"
    assert body["planned_end"] == "2030-04-07T02:00:00+00:00"
    assert body["hosts"] == ["web-1"]
    assert body["packages"] == [{"name": "linux-image", "version": "6.12.1"},
                                {"name": "linux-base", "version": None}]
    shown = change(web1, "show", str(body["id"]))
    assert shown.returncode == 0, shown.stderr
    assert "planned 2030-04-07 02:00 to 2030-04-07 04:00 Europe/Amsterdam" in shown.stdout
    assert "+1 normal change" in shown.stdout
    assert "packages: linux-image=6.12.1, linux-base" in shown.stdout


@pytest.mark.parametrize(("args", "reason"), [
    (["--timezone", "Mars/Olympus"], "--timezone: unknown time zone 'Mars/Olympus'"),
    (["--host", "web-9"], "POST /api/v1/changes: 400 hosts: 'web-9' is not a known host"),
    (["--end", "2030-03-31 01:00"], "400 planned_end: must be after planned_start"),
])
def test_bad_input_exits_2_with_one_line(web1, args, reason):
    base = {"--start": "2030-03-31 02:00", "--end": "2030-03-31 04:00"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    made = change(web1, "create", "--type", "normal", "--summary", "x",
                  *[x for pair in base.items() for x in pair])
    assert made.returncode == 2
    assert made.stderr.count("\n") == 1 and reason in made.stderr, made.stderr
    assert web1.call("GET", "/api/v1/changes", token="viewer")[1]["changes"] == []


def test_self_approval_exits_2_and_the_calendar_exports_ical(web1):
    made = change(web1, "create", "--type", "normal", "--summary", "Swap disks", "--host",
                  "web-1", "--start", "2030-04-01T01:00:00Z", "--end", "2030-04-01T02:00:00Z",
                  "--quiet", token="change_manager")
    assert made.returncode == 0, made.stderr
    number = made.stdout.strip()
    assert change(web1, "submit", number).returncode == 0
    refused = change(web1, "approve", number, token="change_manager")
    assert refused.returncode == 2
    assert "403" in refused.stderr and "is the change's author" in refused.stderr
    assert change(web1, "approve", number, "--reason", "ok", token="admin").returncode == 0
    ical = change(web1, "calendar", "--from", "2030-04-01", "--to", "2030-04-02", "--ical",
                  text=False)
    assert ical.returncode == 0, ical.stderr
    assert ical.stdout.startswith(b"BEGIN:VCALENDAR\r\n")
    assert f"UID:change-{number}@changes.regie\r\n".encode() in ical.stdout
    assert b"DTSTART:20300401T010000Z\r\n" in ical.stdout
    listed = change(web1, "calendar", "--from", "2030-04-01", "--to", "2030-04-02")
    assert f"{number:>5}  normal     approved" in listed.stdout, listed.stdout
