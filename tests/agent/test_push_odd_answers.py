"""The agent's push against a collector (or something in its place) answering oddly: the
real `regie agent run` process and a real HTTP server on a loopback port.

An answer is the collector's fault, never the agent's: whatever it holds, the push records it
as that answer (spooled for a retry, backed off, or rejected), and no cycle fails with a
traceback.
"""

from __future__ import annotations

import pytest

from tests.agent.conftest import agent_process
from tests.agent.push_receiver import Answer, Receiver
from tests.services import http_get, wait_for


def _metric(url: str, name: str) -> float | None:
    for line in http_get(f"{url}/metrics").decode().splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[-1])
    return None


@pytest.mark.timeout(300)   # the first inventory takes 10-30 s on a busy machine
def test_a_503_with_a_retry_after_the_agent_cannot_read_is_spooled(tmp_path):
    """503 with `Retry-After: ²` (U+00B2: str.isdigit() took it, float() refused it): the
    record was neither spooled nor backed off, and every cycle logged 'inventory push cycle
    failed' with a traceback. Now it is a 503 like any other: spooled, retried later."""
    with Receiver() as receiver:
        receiver.answer(Answer(503, "busy", headers=(("Retry-After", "\u00b2"),)))
        config = f"""
[push]
collector = "{receiver.url}"
spool_dir = "{tmp_path / 'spool'}"
retry_interval_seconds = 3600
"""
        with agent_process(tmp_path, config) as agent:
            wait_for(lambda: receiver.requests, timeout=120, interval=0.2,
                     what="the first inventory push")
            spooled = wait_for(
                lambda: _metric(agent.url, "regie_agent_spool_records") == 1.0,
                timeout=30, interval=0.2, what="the refused record to be spooled")
            assert spooled
        log = (tmp_path / "agent.log").read_text()
    assert "Traceback" not in log and "push cycle failed" not in log, log
    assert "status 503" in log, log
