"""The collector's log: ticket and page events at INFO, every line in one format with a UTC
ISO 8601 time and a level, no token or link in it. The real `regie collector run` process
with on-call configured (a schedule, link signing, a file channel), on SQLite."""

from __future__ import annotations

import json
import re

from tests.collector.conftest import collector_process
from tests.collector.oncall_harness import LINK_SECRET, SCHEDULE
from tests.services import wait_for

LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
                  r"[\w.]+: \S")


def test_ticket_and_page_events_are_logged_in_one_format(tmp_path, sqlite_db):
    (tmp_path / "oncall.yml").write_text(SCHEDULE)
    (tmp_path / "link.key").write_text(LINK_SECRET + "\n")
    (tmp_path / "link.key").chmod(0o600)     # secret files other users can read are refused
    pages = tmp_path / "pages.jsonl"
    config = (f'[oncall]\nschedule_file = "{tmp_path / "oncall.yml"}"\n'
              f'link_secret_file = "{tmp_path / "link.key"}"\n\n'
              f'[[oncall.channels]]\nname = "log"\nkind = "file"\npath = "{pages}"\n')
    with collector_process(tmp_path, sqlite_db, config) as collector:
        log = tmp_path / f"collector-{collector.port}.log"
        status, ticket = collector.call("POST", "/api/v1/tickets", {
            "summary": "VPN down", "host": "vpn1", "impact": "business-critical",
            "urgency": "high"}, token="responder")
        assert status == 201
        tid = ticket["id"]
        wait_for(lambda: "delivered to alice" in log.read_text(), timeout=30,
                 what="the page to be delivered and logged")
        collector.call("POST", f"/api/v1/tickets/{tid}/ack", {}, token="responder")
        wait_for(lambda: f"ticket {tid} acknowledged" in log.read_text(), timeout=30,
                 what="the acknowledgement to be logged")
        links = json.loads(pages.read_text().splitlines()[0])["links"]
        process = collector.process
        process.terminate()
        process.wait(timeout=20)
    text = log.read_text()
    lines = text.splitlines()
    assert lines and all(LINE.match(line) for line in lines), \
        [line for line in lines if not LINE.match(line)]
    expected = [
        rf"INFO regie\.collector\.tickets: ticket {tid} opened at P1, reported by responder-",
        rf"INFO regie\.collector\.escalation: ticket {tid} escalated: step 1 \(primary\): "
        rf"queued for alice via log: first notification",
        rf"INFO regie\.collector\.notify: ticket {tid}: trigger notice delivered to alice "
        rf"via log",
        rf"INFO regie\.collector\.tickets: ticket {tid} acknowledged by responder-",
        r"INFO regie\.collector: stopped$",
    ]
    for pattern in expected:
        assert any(re.search(pattern, line) for line in lines), (pattern, text[-3000:])
    # Never a credential: no API token, no signed link.
    for secret in (*collector.tokens.values(), LINK_SECRET, links["ack"].rsplit("/", 1)[1],
                   links["ticket"].split("key=", 1)[1]):
        assert secret not in text
