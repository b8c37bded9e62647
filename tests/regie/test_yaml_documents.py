"""YAML people write (rules, on-call schedules, escalation policies, registry imports) that
PyYAML reads but cannot build is refused naming the file and the line, never a traceback:
the real `regie` command (and a real collector's start) in a subprocess.

Found by running the commands on odd documents: a date that does not exist (`2024-02-30`,
ValueError), an integer of 5,000 digits (ValueError), a document nested 100,000 deep
(RecursionError), a layer starting at 9999-12-31T23:59:59-05:00 (OverflowError shifting it to
UTC); the escalation policies also took a key given twice (the second won silently)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collector.oncall_harness import SCHEDULE
from tests.services import free_port

ODD = {   # the document, the reason, the line it names
    "impossible-date": ("rules:\n  - name: A\n    since: 2024-02-30\n",
                        "'2024-02-30' is not a usable date or time (day is out of range for "
                        "month)", "line 3"),
    "huge-integer": ("rules:\n  - name: A\n    threshold: " + "9" * 5000 + "\n",
                     "'9999999999999999999999999999999999999999...' is not a usable integer",
                     "line 3"),
    "deep": ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply", ""),
}


def regie(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "regie", *args], capture_output=True,
                            text=True, timeout=120, cwd=cwd,
                            env={**os.environ, "REGIE_CONFIG": ""})
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.mark.parametrize("odd", sorted(ODD))
def test_odd_documents_are_refused_with_their_line(odd, tmp_path):
    text, reason, line = ODD[odd]
    document = tmp_path / "odd.yml"
    document.write_text(text)
    db = f"sqlite:///{tmp_path / 'regie.db'}"
    assert regie("collector", "migrate", "--db", db, cwd=tmp_path).returncode == 0
    for argv in (("rules", "check", "--rules", str(document)),
                 ("oncall", "check", "--schedule", str(document)),
                 ("registry", "import", "assets", str(document), "--db", db)):
        result = regie(*argv, cwd=tmp_path)
        assert result.returncode == 2 and str(document) in result.stderr \
            and reason in result.stderr and line in result.stderr \
            and len(result.stderr.splitlines()) == 1, (argv, result)


def test_a_layer_start_beyond_the_years_read(tmp_path):
    for start, shown in (("9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59-05:00"),
                         ("0001-01-01", "0001-01-01")):
        schedule = tmp_path / "oncall.yml"
        schedule.write_text(SCHEDULE.replace("start: 2026-01-01", f"start: {start}", 1))
        result = regie("oncall", "check", "--schedule", str(schedule), cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.endswith(
            f"teams[0].layers.primary.start: {shown}: the year must be from 2000 to 8999\n"), \
            result


@pytest.mark.parametrize(("policy", "reason"), [
    ("P1:\n  steps: []\nP1:\n  steps: []\n", "line 3, column 1: key 'P1' given twice "
                                             "(first on line 1)"),
    ("P1: " + "[" * 100_000 + "\n", "nested too deeply"),
])
def test_the_collector_refuses_odd_escalation_policies_at_start(policy, reason, tmp_path):
    (tmp_path / "oncall.yml").write_text(SCHEDULE)
    (tmp_path / "policies.yml").write_text(policy)
    config = tmp_path / "regie.toml"
    config.write_text('[oncall]\nschedule_file = "oncall.yml"\npolicy_file = "policies.yml"\n')
    db = f"sqlite:///{tmp_path / 'regie.db'}"
    assert regie("collector", "migrate", "--db", db, cwd=tmp_path).returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "regie", "collector", "run", "--config", str(config), "--db", db,
         "--listen", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=60,
        cwd=tmp_path, env={**os.environ, "REGIE_CONFIG": ""})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result
    assert f"{tmp_path / 'policies.yml'}: invalid YAML" in result.stderr \
        and reason in result.stderr, result


def test_a_custom_shift_longer_than_a_year_is_refused(tmp_path):
    # A shift of 99999999d put the next hand-off past the calendar's end: OverflowError in
    # `oncall check` and `oncall who` (found by mutating deploy/oncall.example.yml).
    schedule = tmp_path / "oncall.yml"
    schedule.write_text(SCHEDULE.replace(
        "primary: {participants: [alice], rotation: daily, handoff: \"09:00\", start: 2026-01-01}",
        "primary: {participants: [alice, bob], rotation: custom, shift: 99999999d, "
        "start: 2026-01-01}"))
    for command in ("check", "who"):
        result = regie("oncall", command, "--schedule", str(schedule), cwd=tmp_path)
        assert result.returncode == 2 and "teams[0].layers.primary.shift: must be at most " \
            "1y1d, not '99999999d'" in result.stderr, result
    schedule.write_text(SCHEDULE.replace("rotation: daily, handoff: \"09:00\", start",
                                         "rotation: custom, shift: 366d, start", 1))
    assert regie("oncall", "check", "--schedule", str(schedule), cwd=tmp_path).returncode \
        in (0, 1)
