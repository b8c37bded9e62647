"""`regie oncall`: who / check / export on files written by the tests; exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alerting.oncall_cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "oncall.example.yml"

SCHEDULE = """\
people:
  alice: {email: alice@example.org, slack: "@alice"}
  bob: {phone: "+31 6 1234 5678"}
  carol: {}
teams:
  - name: ops
    timezone: Europe/Amsterdam
    business_hours: {days: mon-fri, start: "09:00", end: "17:00"}
    layers:
      primary:
        participants: [alice, bob]
        rotation: daily
        handoff: "09:00"
        start: 2024-01-01
      secondary:
        participants: [carol]
        rotation: weekly
        handoff: "09:00"
        handoff_day: monday
        start: 2024-01-15
    overrides:
      - {role: primary, person: carol, start: "2024-01-03T18:00", end: "2024-01-04T12:00"}
  - name: db
    timezone: America/New_York
    business_hours: {days: mon-fri, start: "08:00", end: "18:00"}
"""


@pytest.fixture
def schedule(tmp_path: Path) -> Path:
    path = tmp_path / "oncall.yml"
    path.write_text(SCHEDULE)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str,
        environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    code = main(list(argv), environ=environ or {})
    out, err = capsys.readouterr()
    return code, out, err


def test_who_prints_each_team_and_role_in_local_time(capsys, schedule):
    code, out, err = run(capsys, "who", "--schedule", str(schedule),
                         "--at", "2024-01-17T12:00+01:00")
    assert (code, err) == (1, "")  # db has nobody as primary
    assert out.splitlines() == [
        "TEAM  ROLE       WHO     FROM                  UNTIL                 WHY",
        "ops   primary    alice   2024-01-17 09:00 CET  2024-01-18 09:00 CET  rotation",
        "ops   secondary  carol   2024-01-15 09:00 CET  2024-01-22 09:00 CET  rotation",
        "db    primary    nobody                                              gap",
    ]


def test_who_for_one_team_and_role(capsys, schedule):
    code, out, _ = run(capsys, "who", "--schedule", str(schedule), "--team", "ops",
                       "--role", "primary", "--at", "2024-01-04T08:00:00+01:00")
    assert code == 0
    assert out.splitlines()[1].split() == ["ops", "primary", "carol", "2024-01-03", "18:00",
                                           "CET", "2024-01-04", "12:00", "CET", "override"]


def test_who_at_without_an_offset_is_utc(capsys, schedule):
    base = ["who", "--schedule", str(schedule), "--team", "ops", "--role", "primary"]
    # 08:30Z is 09:30 in Amsterdam: bob's shift has begun (alice's would be 07:30Z).
    assert run(capsys, *base, "--at", "2024-01-02T08:30") == run(
        capsys, *base, "--at", "2024-01-02T08:30:00+00:00")
    _, out, _ = run(capsys, *base, "--at", "2024-01-02T08:30")
    assert "bob" in out
    _, out, _ = run(capsys, *base, "--at", "2024-01-02T07:30")
    assert "alice" in out


def test_who_json_has_contacts_and_utc_times(capsys, schedule):
    code, out, _ = run(capsys, "who", "--schedule", str(schedule), "--json",
                       "--at", "2024-01-17T12:00Z", "--team", "ops")
    assert code == 0
    assert json.loads(out) == {
        "at": "2024-01-17T12:00:00+00:00",
        "on_call": [
            {"team": "ops", "role": "primary", "person": "alice",
             "start": "2024-01-17T08:00:00+00:00", "end": "2024-01-18T08:00:00+00:00",
             "reason": "rotation", "contact": {"email": "alice@example.org", "slack": "@alice"}},
            {"team": "ops", "role": "secondary", "person": "carol",
             "start": "2024-01-15T08:00:00+00:00", "end": "2024-01-22T08:00:00+00:00",
             "reason": "rotation", "contact": {}},
        ],
        "nobody": [],
    }


def test_who_with_nobody_exits_1(capsys, schedule):
    code, out, _ = run(capsys, "who", "--schedule", str(schedule), "--team", "ops",
                       "--at", "2024-01-10T12:00Z")  # before secondary starts
    assert code == 1
    assert "ops   secondary  nobody" in out


def test_who_names_an_unknown_team(capsys, schedule):
    code, out, err = run(capsys, "who", "--schedule", str(schedule), "--team", "opps")
    assert (code, out) == (2, "")
    assert err == f"regie oncall: {schedule}: teams: no team named 'opps' (did you mean 'ops'?)\n"


def test_check_reports_one_line_per_gap(capsys, schedule):
    code, out, err = run(capsys, "check", "--schedule", str(schedule),
                         "--from", "2024-01-01T00:00", "--days", "28")
    assert code == 1
    assert out.splitlines() == [
        f"{schedule}: team ops: nobody is primary from 2024-01-01 01:00 CET "
        "to 2024-01-01 09:00 CET",
        f"{schedule}: team ops: nobody is secondary from 2024-01-01 01:00 CET "
        "to 2024-01-15 09:00 CET",
        f"{schedule}: team db: nobody is primary from 2023-12-31 19:00 EST "
        "to 2024-01-28 19:00 EST",
    ]
    assert "3 gaps in the 28 days from 2024-01-01 00:00Z" in err


def test_check_a_file_without_gaps(capsys, tmp_path):
    path = tmp_path / "oncall.yml"
    path.write_text(SCHEDULE.split("  - name: db")[0])
    code, out, _ = run(capsys, "check", "--schedule", str(path), "--from", "2024-02-01")
    assert code == 0
    assert out == f"{path}: 1 team, 2 layers ok; nobody missing in the next 28 days\n"


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (('handoff: "09:00"\n        start: 2024-01-01', 'handoff: "25:00"\n        start: '
          '2024-01-01'), "teams[0].layers.primary.handoff: expected HH:MM, got '25:00'"),
        (("primary:", "primry:"), "teams[0].layers.primry: unknown key (did you mean 'primary'?)"),
        (("Europe/Amsterdam", "Europe/Amsterdm"),
         "teams[0].timezone: unknown IANA time zone 'Europe/Amsterdm'"),
        (("[alice, bob]", "[alice, bob"), "invalid YAML"),
    ],
)
def test_check_an_invalid_file_exits_2_with_one_line(capsys, tmp_path, change, line):
    path = tmp_path / "oncall.yml"
    path.write_text(SCHEDULE.replace(*change, 1))
    code, out, err = run(capsys, "check", "--schedule", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"regie oncall: {path}: {line}")
    assert err.count("\n") == 1


def test_the_schedule_comes_from_the_installation(capsys, schedule, tmp_path):
    """--schedule, else [oncall] schedule_file of the installation file ($REGIE_CONFIG here),
    relative to that file; with neither, one line saying what is missing."""
    install = tmp_path / "install"
    install.mkdir()
    (install / "oncall.yml").write_text(schedule.read_text())
    config = install / "regie.toml"
    config.write_text('[oncall]\nschedule_file = "oncall.yml"\n')
    code, out, _ = run(capsys, "check", "--from", "2024-02-01", "--days", "1",
                       environ={"REGIE_CONFIG": str(config)})
    assert (code, out.split(":")[0]) == (1, str(install / "oncall.yml"))  # db has no primary
    code, out, _ = run(capsys, "check", "--config", str(config), "--from", "2024-02-01",
                       "--days", "1", environ={})
    assert (code, out.split(":")[0]) == (1, str(install / "oncall.yml"))
    code, _, err = run(capsys, "check", environ={})
    assert code == 2
    assert err == ("regie oncall: --schedule: no schedules file given, and no installation "
                   "file was found (--config FILE, $REGIE_CONFIG, ./regie.toml, "
                   "/etc/regie/regie.toml)\n")
    config.write_text("[server]\n")
    code, _, err = run(capsys, "check", environ={"REGIE_CONFIG": str(config)})
    assert (code, err) == (2, f"regie oncall: --schedule: no schedules file given, and {config} "
                              "sets no [oncall] schedule_file\n")
    code, _, err = run(capsys, "who", environ={"REGIE_CONFIG": str(tmp_path / "nope.toml")})
    assert (code, err) == (2, f"regie oncall: {tmp_path / 'nope.toml'}: no such file (named by "
                              "$REGIE_CONFIG)\n")


def test_export_is_ical_without_asking(capsys, schedule):
    code, out, _ = run(capsys, "export", "--schedule", str(schedule), "--from", "2024-01-15",
                       "--days", "1")
    assert code == 0
    assert out.startswith("BEGIN:VCALENDAR\r\n")


def test_check_the_example_file(capsys):
    code, out, _ = run(capsys, "check", "--schedule", str(EXAMPLE))
    assert code == 0, out
    code, out, _ = run(capsys, "check", "--schedule", str(EXAMPLE), "--from", "2024-01-02",
                       "--days", "366")
    assert code == 0, out


def test_export_writes_an_ical_file_with_crlf(capsys, schedule, tmp_path):
    out_file = tmp_path / "oncall.ics"
    code, out, err = run(capsys, "export", "--ical", "--schedule", str(schedule),
                         "--from", "2024-01-01", "--days", "3", "--team", "ops",
                         "--out", str(out_file))
    assert (code, out) == (0, "")
    # alice, bob, alice until 18:00 on the 3rd, then carol's override
    assert err == f"wrote 4 shifts to {out_file}\n"
    raw = out_file.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.count(b"BEGIN:VEVENT") == 4
    assert b"SUMMARY:primary on-call: carol (ops)" in raw
    assert not list(tmp_path.glob(".*.tmp"))


def test_export_to_stdout_by_role(capsys, schedule):
    code, out, _ = run(capsys, "export", "--ical", "--schedule", str(schedule),
                       "--from", "2024-01-15T08:00Z", "--days", "7", "--role", "secondary")
    assert code == 0
    assert out.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20240115T080000Z" in out


def test_export_to_an_unwritable_place_exits_1(capsys, schedule, tmp_path):
    code, _, err = run(capsys, "export", "--ical", "--schedule", str(schedule),
                       "--out", str(tmp_path / "missing" / "oncall.ics"))
    assert code == 1
    assert "cannot write" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["who", "--at", "yesterday"],
        ["who", "--role", "boss"],
        ["check", "--days", "0"],
        ["check", "--days", "many"],
        ["export", "--format", "csv"],
        [],
    ],
)
def test_bad_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: regie oncall" in capsys.readouterr().err


def test_help_explains_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for text in ("who", "check", "export", "REGIE_CONFIG", "schedule_file",
                 "without an offset", "exit status"):
        assert text in out


def test_the_regie_command_runs_oncall(schedule):
    def regie(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "regie", "oncall", *args],
                              capture_output=True, text=True, timeout=60, check=False)

    assert regie("check", "--schedule", str(EXAMPLE)).returncode == 0
    assert regie("check", "--schedule", str(schedule), "--from", "2024-01-01").returncode == 1
    broken = regie("check", "--schedule", str(schedule.parent / "nope.yml"))
    assert (broken.returncode, broken.stderr.count("\n")) == (2, 1)
    assert "oncall" in subprocess.run([sys.executable, "-m", "regie", "--help"],
                                      capture_output=True, text=True, timeout=60,
                                      check=False).stdout
