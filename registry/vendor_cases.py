"""Vendor support cases: their states, who may move them where, when a follow-up is due, and
what the registry says about them (an expired contract, a system past end of support).

Pure: plain data and `now` in, plain data out. Storage is collector/store/vendor_cases.py; the
reminder loop is collector/vendor_case_reminders.py; docs/vendor-cases.md says it for people.

A case is *active* while someone still waits on someone (open, waiting_on_vendor,
waiting_on_us): only active cases are followed up. Every update of an active case (a status
change, a vendor update, a note) starts its follow-up interval again, unless the update names
the next follow-up itself; a case left alone past its follow-up date reminds its owner once,
and then once per interval, until someone updates it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from registry.lifecycle import Contract, Software, is_past

# The default interval, when neither the request nor [vendor_cases] follow_up_days says.
DEFAULT_FOLLOW_UP_DAYS = 7
MAX_FOLLOW_UP_DAYS = 365


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    WAITING_ON_VENDOR = "waiting_on_vendor"
    WAITING_ON_US = "waiting_on_us"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Severity(enum.StrEnum):
    """As vendors' support portals rank a case (severity 1 = critical ... 4 = low)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


ACTIVE = frozenset({CaseStatus.OPEN, CaseStatus.WAITING_ON_VENDOR, CaseStatus.WAITING_ON_US})

# Where a case may go from each status (staying where it is is no transition). A resolved
# case reopens when the fix does not hold; a closed case is final: open a new one.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.WAITING_ON_VENDOR, CaseStatus.WAITING_ON_US,
                                CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.WAITING_ON_VENDOR: frozenset({CaseStatus.OPEN, CaseStatus.WAITING_ON_US,
                                             CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.WAITING_ON_US: frozenset({CaseStatus.OPEN, CaseStatus.WAITING_ON_VENDOR,
                                         CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}


class RefusedTransition(ValueError):
    """A status change the table does not allow; the message says which ones it does."""

    def __init__(self, current: CaseStatus, wanted: CaseStatus) -> None:
        allowed = sorted(s.value for s in TRANSITIONS[current])
        then = (f"from {current.value} it may become {', '.join(allowed)}" if allowed
                else "a closed case is final (open a new one)")
        if wanted is current:   # an update or a note on a closed case
            message = f"the case is {current.value}: {then}"
        else:
            message = f"status: a {current.value} case cannot become {wanted.value}; {then}"
        super().__init__(message)
        self.current = current
        self.wanted = wanted


def check_transition(current: CaseStatus, wanted: CaseStatus) -> bool:
    """Whether the status changes (False: it stays); RefusedTransition when not allowed."""
    if wanted is current:
        if current is CaseStatus.CLOSED:
            raise RefusedTransition(current, wanted)
        return False
    if wanted not in TRANSITIONS[current]:
        raise RefusedTransition(current, wanted)
    return True


class PastFollowUp(ValueError):
    """A follow-up date that is not in the future."""


def next_follow_up(now: datetime, *, interval: timedelta,
                   given: datetime | None = None) -> datetime:
    """When the case is next due: `given` (which must lie ahead of `now`), else `now` plus
    the interval."""
    if given is None:
        return now + interval
    if given <= now:
        raise PastFollowUp(f"next_follow_up: {given.isoformat()} is not in the future "
                           f"(now {now.isoformat()})")
    return given


def follow_up_interval(days: int | None, default_days: int) -> timedelta:
    return timedelta(days=days if days is not None else default_days)


@dataclass(frozen=True, slots=True)
class Reminder:
    """A due case's reminder: the owner is told, and the case is next due at `next_due`."""

    case_id: int
    owner: str
    overdue: timedelta        # how long past its follow-up date
    next_due: datetime


def reminder(case_id: int, owner: str, status: CaseStatus, due_at: datetime | None,
             interval: timedelta, now: datetime) -> Reminder | None:
    """The reminder an active case past its follow-up date gets now, else None. The next one
    is an interval after now (not after the missed date): a collector that was down for a
    week sends one reminder, not seven."""
    if status not in ACTIVE or due_at is None or due_at > now:
        return None
    return Reminder(case_id=case_id, owner=owner, overdue=now - due_at, next_due=now + interval)


# -- what the registry says about a case -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ContractStanding:
    number: str
    vendor: str
    end_date: date
    assets: tuple[str, ...]
    expired: bool

    def warning(self) -> str | None:
        if not self.expired:
            return None
        return (f"contract {self.number} ({self.vendor}) ended on {self.end_date.isoformat()}: "
                f"the vendor may refuse or charge for support")


def contract_standing(number: str, contracts: Iterable[Contract], today: date, *,
                      vendor: str | None = None) -> ContractStanding | None:
    """The contract numbered `number` (its rows for every asset it covers; the case's vendor's
    when several vendors use the number), or None when the registry has none. It has expired
    when its latest end date is before today."""
    rows = [c for c in contracts if c.number == number]
    if vendor is not None and len({c.vendor for c in rows}) > 1:
        rows = [c for c in rows if c.vendor.casefold() == vendor.casefold()] or rows
    if not rows:
        return None
    end = max(c.end_date for c in rows)
    return ContractStanding(number=number, vendor=rows[0].vendor, end_date=end,
                            assets=tuple(sorted({c.asset for c in rows})), expired=end < today)


def past_end_of_support(software: Iterable[Software], today: date, *,
                        hosts: Iterable[str] = (),
                        product: str | None = None) -> list[str]:
    """Why the case concerns something past end of support, one reason per finding: a linked
    host's operating system (or the case's product on that host) with no support left, or
    the named product on any host of the fleet. Empty: nothing known past."""
    wanted_hosts = set(hosts)
    reasons = []
    for row in software:
        on_host = row.host in wanted_hosts and (row.category == "os" or row.product == product)
        named = product is not None and row.product == product and (
            not wanted_hosts or row.host in wanted_hosts)
        if not (on_host or named) or row.cycle is None or not is_past(row, today):
            continue
        reasons.append(f"{row.product} {row.cycle} on {row.host} is past end of support")
    return sorted(set(reasons))
