"""A file named where a document or a secret is expected but that is no regular file (a FIFO,
a device, a directory) is refused in one line, naming it: never read for ever. The real
`regie` command in a subprocess.

Found by running every command with each path replaced by odd ones: a FIFO as the rules file,
the schedules file, an import file, a --token-file, or as a setting's file ([evaluator]
rules_file, [oncall] schedule_file and link_secret_file, [push] token_file) blocked the command
(and the collector's or the agent's start) until something wrote to it; /dev/zero was read
until memory ran out (MemoryError)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collector.oncall_harness import SCHEDULE
from tests.services import free_port


def regie(*args: str, cwd: Path, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    # A FIFO nobody writes to: without the check the command waits until the timeout.
    result = subprocess.run([sys.executable, "-m", "regie", *args], capture_output=True,
                            text=True, timeout=60, cwd=cwd, stdin=subprocess.DEVNULL,
                            env={**os.environ, "REGIE_CONFIG": "", **(env or {})})
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path, 0o600)
    return path


@pytest.mark.parametrize("odd", ["fifo", "/dev/zero"])
def test_documents_named_on_the_command_line(odd, fifo, tmp_path):
    path = str(fifo) if odd == "fifo" else odd
    reason = "not a regular file"
    db = f"sqlite:///{tmp_path / 'regie.db'}"
    assert regie("collector", "migrate", "--db", db, cwd=tmp_path).returncode == 0
    for argv in (("rules", "check", "--rules", path),
                 ("oncall", "check", "--schedule", path),
                 ("registry", "import", "assets", path, "--db", db)):
        result = regie(*argv, cwd=tmp_path)
        assert result.returncode == 2 and path in result.stderr and reason in result.stderr \
            and len(result.stderr.splitlines()) == 1, (argv, result)


def test_a_token_file_that_is_a_fifo(fifo, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    for argv in (("ticket", "list"), ("maintenance", "list")):
        result = regie(*argv, "--url", url, "--token-file", str(fifo), cwd=tmp_path)
        assert result.returncode in (1, 2) and f"cannot read the token file {str(fifo)!r}: " \
            "not a regular file" in result.stderr, (argv, result)


@pytest.mark.parametrize(("table", "key", "command"), [
    ("evaluator", "rules_file", ("collector", "migrate")),
    ("oncall", "schedule_file", ("collector", "migrate")),
    ("oncall", "link_secret_file", ("collector", "migrate")),
    ("push", "token_file", ("agent", "check-config")),
])
def test_a_setting_naming_a_fifo_stops_the_start_at_once(table, key, command, fifo, tmp_path):
    schedule = tmp_path / "oncall.yml"
    schedule.write_text(SCHEDULE)
    extra = ('schedule_file = "oncall.yml"\n' if key == "link_secret_file" else
             'collector = "http://127.0.0.1:1"\n' if table == "push" else "")
    config = tmp_path / "regie.toml"
    config.write_text(f'[{table}]\n{key} = "{fifo}"\n{extra}')
    result = regie(*command, "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr.strip().endswith(
        f"{config}: {table}.{key}: cannot read '{fifo}': not a regular file"), result
    assert not (tmp_path / "regie.db").exists()


def test_a_certificate_pattern_matching_a_fifo_does_not_hold_the_scrape(fifo, tmp_path):
    # The certificates collector opened every match and read it: a FIFO blocked the scrape
    # (`regie agent metrics`, and the agent's /metrics) until something wrote to it.
    config = tmp_path / "agent.toml"
    config.write_text(f'[health]\ncertificate_files = ["{tmp_path}/*"]\n'
                      f'updates_state_file = "{tmp_path / "updates.json"}"\n')
    result = regie("agent", "metrics", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result
    assert f'regie_certificate_file_error{{path="{fifo}"}} 1.0' in result.stdout, result
