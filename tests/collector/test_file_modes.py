"""Files holding secrets or personal data are private, whatever the umask; secret files other
users can read stop the collector. Real `regie collector migrate` and `regie collector run`
processes on real files (the agent's side: tests/agent/test_private_files.py); the umask is 022, the
usual default, so 0644 is what a careless create would give.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.collector.conftest import collector_process, regie
from tests.collector.oncall_harness import HOOK_SECRET, LINK_SECRET, SCHEDULE
from tests.services import wait_for


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _oncall(tmp_path: Path, *, link_mode: int = 0o600, hook_mode: int = 0o600,
            extra: str = "") -> str:
    (tmp_path / "oncall.yml").write_text(SCHEDULE)
    for name, text, file_mode in (("link.key", LINK_SECRET, link_mode),
                                  ("hook.key", HOOK_SECRET, hook_mode)):
        (tmp_path / name).write_text(text + "\n")
        (tmp_path / name).chmod(file_mode)
    return f"""\
[oncall]
schedule_file = "{tmp_path / 'oncall.yml'}"
link_secret_file = "{tmp_path / 'link.key'}"

[[oncall.channels]]
name = "log"
kind = "file"
path = "{tmp_path / 'notifications.jsonl'}"
{extra}"""


def test_database_wal_shm_and_notification_file_are_created_0600(tmp_path):
    db = tmp_path / "regie.db"
    regie("collector", "migrate", "--db", f"sqlite:///{db}")
    assert mode(db) == 0o600
    with collector_process(tmp_path, f"sqlite:///{db}", _oncall(tmp_path)) as collector:
        status, ticket = collector.call("POST", "/api/v1/tickets", {
            "summary": "postgres down on db1", "host": "db1", "component": "postgres",
            "impact": "business-critical", "urgency": "high"}, token="responder")
        assert status == 201, ticket
        log = tmp_path / "notifications.jsonl"
        wait_for(lambda: log.exists() and "/api/v1/actions/" in log.read_text(), timeout=30,
                 what="the notice with its acknowledge link in notifications.jsonl")
        modes = {p.name: mode(p) for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), log)}
    assert modes == {"regie.db": 0o600, "regie.db-wal": 0o600, "regie.db-shm": 0o600,
                     "notifications.jsonl": 0o600}


def _run_collector(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    db = tmp_path / "regie.db"
    regie("collector", "migrate", "--db", f"sqlite:///{db}")
    conf = tmp_path / "collector.toml"
    conf.write_text(config)
    return subprocess.run([sys.executable, "-m", "regie", "collector", "run", "--config",
                           str(conf), "--db", f"sqlite:///{db}", "--listen", "127.0.0.1:0"],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("changes", "name", "key", "who"), [
    ({"link_mode": 0o644}, "link.key", "oncall.link_secret_file", "every user"),
    ({"link_mode": 0o640}, "link.key", "oncall.link_secret_file", "its group"),
    ({"hook_mode": 0o604}, "hook.key", "oncall.channels[1].secret_file", "every user"),
])
def test_a_secret_file_others_can_read_stops_the_collector(tmp_path, changes, name, key, who):
    hook = f"""
[[oncall.channels]]
name = "hook"
kind = "webhook"
url = "https://hooks.example.org/regie"
secret_file = "{tmp_path / 'hook.key'}"
"""
    result = _run_collector(tmp_path, _oncall(tmp_path, extra=hook, **changes))
    path = tmp_path / name
    assert result.returncode == 2, result.stderr
    assert key in result.stderr and f"readable by {who}" in result.stderr
    assert f"chmod 600 {path}" in result.stderr
    assert LINK_SECRET not in result.stderr and HOOK_SECRET not in result.stderr


def test_a_secret_file_readable_by_its_group_but_owned_by_another_user_is_accepted(tmp_path):
    """0640 owned by another user is how a service reads a secret it cannot change (root owns
    it, the service's group reads it): accepted. Giving the file away needs root."""
    if os.geteuid() != 0:
        pytest.fail("this test gives a file to another user: run the suite as root (make test)")
    config = _oncall(tmp_path)
    link = tmp_path / "link.key"
    link.chmod(0o640)
    os.chown(link, 65534, os.getgid())      # nobody's file, our group
    db = tmp_path / "regie.db"
    regie("collector", "migrate", "--db", f"sqlite:///{db}")
    with collector_process(tmp_path, f"sqlite:///{db}", config) as collector:
        assert collector.call("GET", "/healthz", token=None)[0] == 200
