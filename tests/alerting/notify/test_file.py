"""The file channel: one JSON line per notification, for the demo and for debugging."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from alerting.notify.channels import FileSettings, SendContext, send_file
from tests.alerting.notify.peers import NOW, notification


def test_appends_one_json_line_per_notification(tmp_path: Path):
    target = tmp_path / "notifications.jsonl"
    s = FileSettings(path=str(target))
    first = asyncio.run(send_file(s, notification(), delivery_id="d-1"))
    second = asyncio.run(send_file(s, notification(kind="resolve", status="resolved"),
                                   delivery_id="d-2"))
    assert first.ok and second.ok
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines == [{**notification().to_json(), "delivery_id": "d-1"},
                     {**notification(kind="resolve", status="resolved").to_json(),
                      "delivery_id": "d-2"}]


def test_dash_writes_to_standard_output():
    out = io.StringIO()
    ctx = SendContext(clock=lambda: NOW, stdout=out)
    delivery = asyncio.run(send_file(FileSettings(path="-"), notification(), delivery_id="d",
                                     ctx=ctx))
    assert delivery.ok
    assert json.loads(out.getvalue())["ticket_id"] == 42
    assert out.getvalue().count("\n") == 1


def test_a_missing_directory_is_a_dead_letter(tmp_path: Path):
    s = FileSettings(path=str(tmp_path / "no" / "such" / "dir.jsonl"))
    delivery = asyncio.run(send_file(s, notification(), delivery_id="d"))
    assert (delivery.ok, delivery.retry) == (False, False)
    assert "No such file or directory" in delivery.reason
