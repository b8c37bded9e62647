"""The agent logs in the collector's format (regie/log_format.py): UTC ISO 8601 time, level,
logger, message. The real `regie agent run` process, as `regie demo` starts it too, stopped
with SIGTERM."""

from __future__ import annotations

from tests.agent.conftest import agent_process
from tests.collector.test_event_log import LINE
from tests.services import http_get


def test_the_agent_logs_in_the_collectors_format(tmp_path):
    with agent_process(tmp_path) as agent:
        http_get(f"{agent.url}/metrics")
    lines = (tmp_path / "agent.log").read_text().splitlines()
    assert lines and [line for line in lines if not LINE.match(line)] == [], lines
    serving = f" INFO regie.agent: serving http://127.0.0.1:{agent.port}/metrics (collectors: "
    assert any(serving in line for line in lines), lines
    assert any(line.endswith(" INFO regie.agent: stopping") for line in lines), lines
