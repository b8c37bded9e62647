"""The `escalated` timeline row says who was queued on which channel, once, from what the
escalator actually queued (pure: collector/escalator.py `_as_queued`)."""

from __future__ import annotations

import pytest

from alerting.escalation import Audit
from collector.escalator import _as_queued

STEP = {"step": 1, "target": "primary", "recipients": ["alice"], "channels": []}


@pytest.mark.parametrize(("data", "told", "reasons", "message"), [
    # the policy names no channel ("every channel"): the channels actually used are named
    (STEP, {(1, "alice"): ["mail", "chat"]}, {1: "first notification"},
     "step 1 (primary): queued for alice via mail, chat: first notification"),
    # nobody could be queued: said so, the reasons follow as notification_failed rows
    (STEP, {}, {1: "first notification"},
     "step 1 (primary): queued for alice: not reachable (see below): first notification"),
    ({**STEP, "recipients": ["alice", "bob"]}, {(1, "alice"): ["mail"], (1, "bob"): ["chat"]},
     {1: "not acknowledged after 5m"},
     "step 1 (primary): queued for alice via mail; bob via chat: not acknowledged after 5m"),
    # a channel-only step
    ({"step": 2, "target": None, "recipients": [None], "channels": ["room"]},
     {(2, None): ["room"]}, {2: "not acknowledged after 15m"},
     "step 2 (channel): queued for the channel via room: not acknowledged after 15m"),
    # a priority change restarts: its reason replaces "first notification"
    (STEP, {(1, "alice"): ["mail"]}, {1: "priority changed P3 → P1 by dave: payroll"},
     "step 1 (primary): queued for alice via mail: priority changed P3 → P1 by dave: payroll"),
])
def test_escalated_rows_say_what_was_queued(data, told, reasons, message):
    audit = _as_queued(Audit("escalated", "step 1 (primary): notified alice via no channel",
                             data), told, reasons)
    assert audit.message == message
    assert "no channel" not in audit.message


def test_other_rows_are_left_as_decided():
    held = Audit("escalation_held", "step 1 held until business hours", {"step": 1})
    assert _as_queued(held, {}, {}) is held
