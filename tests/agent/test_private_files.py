"""The agent's private files: a token file other users can read is warned about (the agent
keeps running: one that stops reporting is worse), and a spool directory open to others is
tightened to 0700. The real `regie agent run` process pushing to a real HTTP receiver; umask
022, the usual default.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.conftest import agent_process
from tests.agent.push_receiver import Receiver
from tests.services import wait_for

pytestmark = pytest.mark.timeout(300)  # an agent's first push each: 10-30 s, waits 120 s


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def _pushing_agent(tmp_path: Path, token_mode: int, spool: Path) -> Iterator[str]:
    token = tmp_path / "agent.token"
    token.write_text("agent-token-0123456789abcdef\n")
    token.chmod(token_mode)
    with Receiver() as receiver:
        config = f"""
[push]
collector = "{receiver.url}"
token_file = "{token}"
spool_dir = "{spool}"
"""
        with agent_process(tmp_path, config):
            # Collecting the inventory (dpkg-query, apt-get -s) takes 10-30 s on a busy 2-CPU
            # machine: the bound is for a push that never comes, not for a slow one.
            wait_for(receiver.delivered, timeout=120, what="the first inventory push")
            yield str(token)


def test_the_agent_warns_of_a_token_file_others_can_read_and_tightens_its_spool(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o755)
    spool.chmod(0o755)
    with _pushing_agent(tmp_path, 0o644, spool) as token:
        spool_mode = mode(spool)
    log = (tmp_path / "agent.log").read_text()
    # The collector's words (regie/private_files.py): the file quoted, then the fix.
    assert f"the token file {token!r} is readable by every user (mode 0644): chmod 600 {token}" \
        in log
    assert spool_mode == 0o700 and "tightened from mode 0755 to 0700" in log
    assert "agent-token-0123456789abcdef" not in log


def test_the_agent_is_quiet_about_a_private_token_file(tmp_path):
    with _pushing_agent(tmp_path, 0o600, tmp_path / "spool"):
        pass
    log = (tmp_path / "agent.log").read_text()
    assert "token file" not in log and "tightened" not in log
    assert mode(tmp_path / "spool") == 0o700
