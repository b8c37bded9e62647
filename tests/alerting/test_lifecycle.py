"""The ticket lifecycle as a table: every allowed move, and every other one refused."""

from __future__ import annotations

import itertools

import pytest

from alerting.lifecycle import TRANSITIONS, Event, InvalidTransition, transition
from alerting.ticket import Status


@pytest.mark.parametrize(
    ("status", "event", "expected"),
    [
        (Status.OPEN, Event.ACKNOWLEDGE, Status.ACKNOWLEDGED),
        (Status.OPEN, Event.RESOLVE, Status.RESOLVED),
        (Status.ACKNOWLEDGED, Event.RESOLVE, Status.RESOLVED),
        (Status.RESOLVED, Event.CLOSE, Status.CLOSED),
    ],
)
def test_allowed(status, event, expected):
    assert transition(status, event) == expected


REFUSED = [(s, e) for s, e in itertools.product(Status, Event) if (s, e) not in TRANSITIONS]


@pytest.mark.parametrize(("status", "event"), REFUSED)
def test_refused_with_reason(status, event):
    with pytest.raises(InvalidTransition,
                       match=f"cannot {event.value} a ticket that is {status.value}"):
        transition(status, event)


def test_reason_lists_what_is_possible():
    with pytest.raises(InvalidTransition, match="from acknowledged it can: resolve"):
        transition(Status.ACKNOWLEDGED, Event.ACKNOWLEDGE)
