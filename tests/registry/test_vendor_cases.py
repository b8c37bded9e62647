"""registry/vendor_cases.py: the status table, follow-up dates, reminders, and what the
registry says of a case (its contract's standing, systems past end of support)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from registry.lifecycle import Contract, Software
from registry.vendor_cases import (
    CaseStatus,
    PastFollowUp,
    RefusedTransition,
    check_transition,
    contract_standing,
    next_follow_up,
    past_end_of_support,
    reminder,
)

S = CaseStatus
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
TODAY = NOW.date()

# (from, to): True moves, False stays, None refused.
TABLE = {
    (S.OPEN, S.OPEN): False, (S.OPEN, S.WAITING_ON_VENDOR): True,
    (S.OPEN, S.WAITING_ON_US): True, (S.OPEN, S.RESOLVED): True, (S.OPEN, S.CLOSED): True,
    (S.WAITING_ON_VENDOR, S.OPEN): True, (S.WAITING_ON_VENDOR, S.WAITING_ON_VENDOR): False,
    (S.WAITING_ON_VENDOR, S.WAITING_ON_US): True, (S.WAITING_ON_VENDOR, S.RESOLVED): True,
    (S.WAITING_ON_VENDOR, S.CLOSED): True,
    (S.WAITING_ON_US, S.OPEN): True, (S.WAITING_ON_US, S.WAITING_ON_VENDOR): True,
    (S.WAITING_ON_US, S.WAITING_ON_US): False, (S.WAITING_ON_US, S.RESOLVED): True,
    (S.WAITING_ON_US, S.CLOSED): True,
    (S.RESOLVED, S.OPEN): True, (S.RESOLVED, S.WAITING_ON_VENDOR): None,
    (S.RESOLVED, S.WAITING_ON_US): None, (S.RESOLVED, S.RESOLVED): False,
    (S.RESOLVED, S.CLOSED): True,
    (S.CLOSED, S.OPEN): None, (S.CLOSED, S.WAITING_ON_VENDOR): None,
    (S.CLOSED, S.WAITING_ON_US): None, (S.CLOSED, S.RESOLVED): None,
    (S.CLOSED, S.CLOSED): None,
}


def test_the_table_covers_every_pair():
    assert set(TABLE) == {(a, b) for a in S for b in S}


@pytest.mark.parametrize(("current", "wanted"), list(TABLE))
def test_transitions(current, wanted):
    expected = TABLE[(current, wanted)]
    if expected is None and current is wanted:
        with pytest.raises(RefusedTransition, match=r"^the case is closed: a closed case is "
                                                    "final"):
            check_transition(current, wanted)
    elif expected is None:
        with pytest.raises(RefusedTransition, match=f"^status: a {current.value} case cannot "
                                                    f"become {wanted.value}; "):
            check_transition(current, wanted)
    else:
        assert check_transition(current, wanted) is expected


def test_next_follow_up():
    assert next_follow_up(NOW, interval=timedelta(days=3)) == NOW + timedelta(days=3)
    later = NOW + timedelta(hours=1)
    assert next_follow_up(NOW, interval=timedelta(days=3), given=later) == later
    for past in (NOW, NOW - timedelta(seconds=1)):
        with pytest.raises(PastFollowUp, match=r"^next_follow_up: .* is not in the future"):
            next_follow_up(NOW, interval=timedelta(days=3), given=past)


@pytest.mark.parametrize(("status", "due", "expected"), [
    (S.OPEN, NOW - timedelta(hours=2), timedelta(hours=2)),
    (S.WAITING_ON_VENDOR, NOW, timedelta(0)),
    (S.WAITING_ON_US, NOW - timedelta(days=30), timedelta(days=30)),
    (S.OPEN, NOW + timedelta(seconds=1), None),          # not due yet
    (S.RESOLVED, NOW - timedelta(days=1), None),         # nobody waits any more
    (S.CLOSED, NOW - timedelta(days=1), None),
    (S.OPEN, None, None),
])
def test_reminder(status, due, expected):
    found = reminder(7, "alice", status, due, timedelta(days=3), NOW)
    if expected is None:
        assert found is None
    else:
        # One reminder however late, and the next an interval after now.
        assert (found.overdue, found.next_due, found.owner) == (
            expected, NOW + timedelta(days=3), "alice")


def _contract(asset: str, number: str, end: date, vendor: str = "Dell") -> Contract:
    return Contract(asset=asset, vendor=vendor, number=number, kind="support", end_date=end,
                    renewal="pending", owner=None)


def test_contract_standing():
    contracts = [_contract("db-01", "C-1", TODAY - timedelta(days=1)),
                 _contract("db-02", "C-1", TODAY - timedelta(days=10)),
                 _contract("web-01", "C-2", TODAY),
                 _contract("fw-01", "C-3", TODAY - timedelta(days=1), vendor="Cisco"),
                 _contract("fw-02", "C-3", TODAY + timedelta(days=9), vendor="Juniper")]
    expired = contract_standing("C-1", contracts, TODAY)
    assert (expired.expired, expired.assets, expired.end_date) == (
        True, ("db-01", "db-02"), TODAY - timedelta(days=1))
    assert expired.warning() == (f"contract C-1 (Dell) ended on "
                                 f"{(TODAY - timedelta(days=1)).isoformat()}: the vendor may "
                                 f"refuse or charge for support")
    # Ends today: still in force today.
    assert contract_standing("C-2", contracts, TODAY).warning() is None
    assert contract_standing("C-9", contracts, TODAY) is None
    # A number two vendors use: the case's vendor's.
    assert contract_standing("C-3", contracts, TODAY, vendor="cisco").expired is True
    assert contract_standing("C-3", contracts, TODAY, vendor="Juniper").expired is False


def _software(host: str, product: str, cycle: str, eol: date, category: str = "os") -> Software:
    return Software(host=host, product=product, cycle=cycle, category=category, eol_date=eol,
                    eol_flag=None, eoes_date=None)


def test_past_end_of_support():
    past = TODAY - timedelta(days=1)
    ahead = TODAY + timedelta(days=400)
    fleet = [_software("old", "debian", "10", past), _software("new", "debian", "12", ahead),
             _software("new", "postgresql", "11", past, "database"),
             _software("other", "postgresql", "11", past, "database")]
    assert past_end_of_support(fleet, TODAY, hosts=["old"]) == [
        "debian 10 on old is past end of support"]
    # A host's OS counts; its other software only when the case names that product.
    assert past_end_of_support(fleet, TODAY, hosts=["new"]) == []
    assert past_end_of_support(fleet, TODAY, hosts=["new"], product="postgresql") == [
        "postgresql 11 on new is past end of support"]
    assert past_end_of_support(fleet, TODAY, product="postgresql") == [
        "postgresql 11 on new is past end of support",
        "postgresql 11 on other is past end of support"]
    assert past_end_of_support(fleet, TODAY) == []
