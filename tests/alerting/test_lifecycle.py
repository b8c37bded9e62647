"""The ticket lifecycle as a table: every allowed move, and every other one refused.

The table is written out here, every (status, event) pair with its outcome, independently of
`alerting.lifecycle.TRANSITIONS`: a move added to or dropped from the code fails a row.
"""

from __future__ import annotations

import pytest

from alerting.lifecycle import Event, InvalidTransition, transition
from alerting.ticket import Status

# status, event -> the status it leads to, or None for a refused move.
OPEN, ACKED, RESOLVED, CLOSED = "open", "acknowledged", "resolved", "closed"
ACK, RESOLVE, CLOSE = "acknowledge", "resolve", "close"
LIFECYCLE: dict[tuple[str, str], str | None] = {
    (OPEN, ACK): ACKED,
    (OPEN, RESOLVE): RESOLVED,
    (OPEN, CLOSE): None,
    (ACKED, ACK): None,
    (ACKED, RESOLVE): RESOLVED,
    (ACKED, CLOSE): None,
    (RESOLVED, ACK): None,
    (RESOLVED, RESOLVE): None,
    (RESOLVED, CLOSE): CLOSED,
    (CLOSED, ACK): None,
    (CLOSED, RESOLVE): None,
    (CLOSED, CLOSE): None,
}


def test_the_table_covers_every_status_and_event():
    """A status or event added to the code needs its rows here."""
    assert {s.value for s in Status} == {OPEN, ACKED, RESOLVED, CLOSED}
    assert {e.value for e in Event} == {ACK, RESOLVE, CLOSE}
    assert len(LIFECYCLE) == 4 * 3


@pytest.mark.parametrize(("status", "event", "expected"),
                         [(s, e, to) for (s, e), to in LIFECYCLE.items() if to is not None])
def test_allowed(status, event, expected):
    assert transition(Status(status), Event(event)) is Status(expected)


@pytest.mark.parametrize(("status", "event"),
                         [(s, e) for (s, e), to in LIFECYCLE.items() if to is None])
def test_refused_with_reason(status, event):
    with pytest.raises(InvalidTransition,
                       match=f"cannot {event} a ticket that is {status}"):
        transition(Status(status), Event(event))


@pytest.mark.parametrize(
    ("status", "event", "reason"),
    [
        (ACKED, ACK, "cannot acknowledge a ticket that is acknowledged; "
                     "from acknowledged it can: resolve"),
        (OPEN, CLOSE, "cannot close a ticket that is open; "
                      "from open it can: acknowledge, resolve"),
        (RESOLVED, ACK, "cannot acknowledge a ticket that is resolved; "
                        "from resolved it can: close"),
        (CLOSED, RESOLVE, "cannot resolve a ticket that is closed"),   # nothing is possible
    ],
)
def test_reason_lists_what_is_possible(status, event, reason):
    with pytest.raises(InvalidTransition) as refused:
        transition(Status(status), Event(event))
    assert str(refused.value) == reason
