"""Changes: the model, who may move a change from one state to the next, and its risk score.

Pure: plain values in, plain values out, `now` an argument. The collector stores changes
(collector/store/changes.py) and maps a refused move (`ChangeRefused`) to 409 with its reason.

Three types (ITIL's): a `standard` change is pre-approved (submitting it approves it), a
`normal` change needs a change manager's approval, an `emergency` change may start before it
is approved but must be reviewed after it completes. The states:

    draft -> submitted -> approved | rejected
    approved -> in_progress -> completed (outcome successful | failed | rolled_back) -> reviewed
    (emergency only) submitted -> in_progress

Who may do what is one table, `TRANSITIONS`: (state, action) -> the next state, the roles
allowed, and the conditions. docs/changes.md prints it.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerting.ticket import Criticality


class ChangeType(enum.StrEnum):
    STANDARD = "standard"     # pre-approved: submitting it approves it
    NORMAL = "normal"         # needs a change manager's approval
    EMERGENCY = "emergency"   # may start before approval; must be reviewed afterwards


class ChangeStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REVIEWED = "reviewed"


class Outcome(enum.StrEnum):
    SUCCESSFUL = "successful"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


# Outcomes after which incidents on the change's hosts are attributed to it.
HARMFUL_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ROLLED_BACK})

# A change whose window is a maintenance window (the maintenance part reads these).
WINDOW_STATUSES = frozenset({ChangeStatus.APPROVED, ChangeStatus.IN_PROGRESS})


# ------------------------------------------------------------------- who may move a change

# Roles that may approve, reject and review a change (collector/auth.py's role names).
APPROVERS = frozenset({"change_manager", "admin"})
ALL_TYPES = frozenset(ChangeType)


class Action(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    START = "start"
    COMPLETE = "complete"
    REVIEW = "review"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One allowed move: where it leads, who may make it (None: anyone who may work on
    changes), for which types, whether the change's author is refused (a decision needs a
    second person), and what the request must carry."""

    target: ChangeStatus
    roles: frozenset[str] | None = None
    types: frozenset[ChangeType] = ALL_TYPES
    not_author: bool = False
    needs_reason: bool = False
    needs_outcome: bool = False


TRANSITIONS: dict[tuple[ChangeStatus, Action], Rule] = {
    # A standard change is pre-approved: submitting it approves it (`decide`).
    (ChangeStatus.DRAFT, Action.SUBMIT): Rule(target=ChangeStatus.SUBMITTED),
    (ChangeStatus.SUBMITTED, Action.APPROVE): Rule(
        target=ChangeStatus.APPROVED, roles=APPROVERS,
        types=frozenset({ChangeType.NORMAL, ChangeType.EMERGENCY}), not_author=True),
    (ChangeStatus.SUBMITTED, Action.REJECT): Rule(
        target=ChangeStatus.REJECTED, roles=APPROVERS,
        types=frozenset({ChangeType.NORMAL, ChangeType.EMERGENCY}), not_author=True,
        needs_reason=True),
    (ChangeStatus.APPROVED, Action.START): Rule(target=ChangeStatus.IN_PROGRESS),
    # Fast track: an emergency change may start before anyone approved it.
    (ChangeStatus.SUBMITTED, Action.START): Rule(
        target=ChangeStatus.IN_PROGRESS, types=frozenset({ChangeType.EMERGENCY})),
    (ChangeStatus.IN_PROGRESS, Action.COMPLETE): Rule(
        target=ChangeStatus.COMPLETED, needs_outcome=True),
    # Mandatory for emergency changes, allowed for the others.
    (ChangeStatus.COMPLETED, Action.REVIEW): Rule(
        target=ChangeStatus.REVIEWED, roles=APPROVERS, not_author=True),
}


class ChangeRefused(ValueError):
    """A move the rules refuse, with the reason. `forbidden`: the caller may not (403);
    otherwise the change's state or type does not allow it (409)."""

    def __init__(self, reason: str, *, forbidden: bool = False) -> None:
        super().__init__(reason)
        self.forbidden = forbidden


@dataclass(frozen=True, slots=True, kw_only=True)
class Move:
    """What a move does: the change's new status and the timeline kinds it records (a
    standard change's submit records `submitted` then `approved`)."""

    target: ChangeStatus
    kinds: tuple[str, ...]
    pre_approved: bool = False


# action -> the timeline kind it records
KINDS = {Action.SUBMIT: "submitted", Action.APPROVE: "approved", Action.REJECT: "rejected",
         Action.START: "started", Action.COMPLETE: "completed", Action.REVIEW: "reviewed"}


def decide(*, change_type: ChangeType, status: ChangeStatus, action: Action, role: str,
           actor: str, author: str, reason: str | None = None,
           outcome: Outcome | None = None, freezes: Sequence[Freeze] = (),
           freeze_override: str | None = None) -> Move:
    """The move `actor` (holding `role`) asks for, or ChangeRefused with the reason.

    `freezes`: the freeze periods the change's window overlaps; a normal change inside one is
    approved only with `freeze_override` (a reason, recorded)."""
    rule = TRANSITIONS.get((status, action))
    if rule is None:
        allowed = sorted(a.value for (s, a), r in TRANSITIONS.items()
                         if s == status and change_type in r.types)
        hint = f"; from {status.value} it can: {', '.join(allowed)}" if allowed else \
            f"; a {status.value} change moves no further"
        raise ChangeRefused(f"cannot {action.value} a change that is {status.value}{hint}")
    if change_type not in rule.types:
        raise ChangeRefused(_type_refusal(change_type, status, action))
    if rule.roles is not None and role not in rule.roles:
        raise ChangeRefused(f"role {role!r} may not {action.value} changes (roles that may: "
                            f"{', '.join(sorted(rule.roles))})", forbidden=True)
    if rule.not_author and actor == author:
        raise ChangeRefused(f"{actor} is the change's author and may not {action.value} it: "
                            "a second person decides", forbidden=True)
    if rule.needs_reason and not reason:
        raise ChangeRefused(f"{action.value} needs a reason")
    if rule.needs_outcome and outcome is None:
        choices = ", ".join(o.value for o in Outcome)
        raise ChangeRefused(f"{action.value} needs an outcome: one of {choices}")
    if (action is Action.APPROVE and change_type is ChangeType.NORMAL and freezes
            and not freeze_override):
        names = "; ".join(f.describe() for f in freezes)
        raise ChangeRefused(f"the window is inside a change freeze ({names}): approve it "
                            "with an override reason, or move the window")
    if action is Action.SUBMIT and change_type is ChangeType.STANDARD:
        return Move(target=ChangeStatus.APPROVED, kinds=("submitted", "approved"),
                    pre_approved=True)
    return Move(target=rule.target, kinds=(KINDS[action],))


def _type_refusal(change_type: ChangeType, status: ChangeStatus, action: Action) -> str:
    if action in (Action.APPROVE, Action.REJECT) and change_type is ChangeType.STANDARD:
        return ("a standard change is pre-approved: it was approved when it was submitted")
    if action is Action.START:
        return (f"a {change_type.value} change starts only once approved (it is "
                f"{status.value}); only emergency changes may start before approval")
    return f"cannot {action.value} a {change_type.value} change that is {status.value}"


def review_due(change_type: ChangeType, status: ChangeStatus) -> bool:
    """An emergency change that completed and still waits for its mandatory review."""
    return change_type is ChangeType.EMERGENCY and status is ChangeStatus.COMPLETED


# ---------------------------------------------------------------------- the calendar

@dataclass(frozen=True, slots=True)
class Freeze:
    """A period in which normal changes are not approved without an override reason."""

    start: datetime   # UTC
    end: datetime     # UTC, exclusive
    reason: str

    def describe(self) -> str:
        return (f"{self.reason}, {self.start.strftime('%Y-%m-%d %H:%M')} to "
                f"{self.end.strftime('%Y-%m-%d %H:%M')} UTC")


@dataclass(frozen=True, slots=True)
class MaintenanceHours:
    """A team's agreed hours for changes: local weekdays (0 = Monday) on which an
    occurrence starts, from `start` to `end` local time (an `end` at or before `start`
    runs past midnight into the next day)."""

    days: frozenset[int]
    start: time
    end: time
    timezone: ZoneInfo

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) lies wholly inside one occurrence."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        local_day = start.astimezone(self.timezone).date()
        for day in (local_day - timedelta(days=1), local_day):
            if day.weekday() not in self.days:
                continue
            opens = datetime.combine(day, self.start, self.timezone).astimezone(UTC)
            closing_day = day if self.end > self.start else day + timedelta(days=1)
            closes = datetime.combine(closing_day, self.end, self.timezone).astimezone(UTC)
            if opens <= start and end <= closes:
                return True
        return False

    def describe(self) -> str:
        names = ", ".join(DAY_NAMES[d] for d in sorted(self.days))
        return (f"{names} {self.start.strftime('%H:%M')}-{self.end.strftime('%H:%M')} "
                f"{self.timezone.key}")


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def overlaps(start: datetime, end: datetime, other_start: datetime,
             other_end: datetime) -> bool:
    """Whether [start, end) and [other_start, other_end) share an instant."""
    return start < other_end and other_start < end


def freezes_in(start: datetime, end: datetime, freezes: Iterable[Freeze]) -> tuple[Freeze, ...]:
    return tuple(f for f in freezes if overlaps(start, end, f.start, f.end))


@dataclass(frozen=True, slots=True)
class Conflict:
    """A warning shown on a change and in the calendar."""

    kind: str        # host_overlap, freeze, nobody_on_call
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Planned:
    """What conflict detection needs of a change."""

    id: int
    change_type: ChangeType
    hosts: frozenset[str]
    start: datetime
    end: datetime


def conflicts(change: Planned, *, others: Iterable[Planned], freezes: Iterable[Freeze],
              gaps: Iterable[tuple[str, str, datetime, datetime]] = ()) -> tuple[Conflict, ...]:
    """The warnings for `change`: another change touching one of its hosts in an overlapping
    window, a normal change inside a freeze, times in its window with nobody on call (`gaps`:
    (team, role, start, end) from the schedules, cut to the window)."""
    found = []
    for other in sorted(others, key=lambda o: (o.start, o.id)):
        if other.id == change.id or not overlaps(change.start, change.end, other.start,
                                                 other.end):
            continue
        shared = sorted(change.hosts & other.hosts)
        if shared:
            found.append(Conflict("host_overlap", f"change #{other.id} touches "
                                  f"{', '.join(shared)} in an overlapping window",
                                  {"change": other.id, "hosts": shared}))
    if change.change_type is ChangeType.NORMAL:
        for freeze in freezes_in(change.start, change.end, freezes):
            found.append(Conflict("freeze", f"inside the change freeze: {freeze.describe()}",
                                  {"reason": freeze.reason, "start": freeze.start.isoformat(),
                                   "end": freeze.end.isoformat()}))
    for team, role, start, end in gaps:
        found.append(Conflict("nobody_on_call", f"nobody is {role} on call for team {team} "
                              f"from {start.strftime('%Y-%m-%d %H:%M')} to "
                              f"{end.strftime('%Y-%m-%d %H:%M')} UTC",
                              {"team": team, "role": role, "start": start.isoformat(),
                               "end": end.isoformat()}))
    return tuple(found)


# ------------------------------------------------------------------------ the risk score

class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# Points per input (docs/changes.md prints these tables).
CRITICALITY_POINTS = {Criticality.LOW: 0, Criticality.MEDIUM: 1, Criticality.HIGH: 2,
                      Criticality.BUSINESS_CRITICAL: 3}
# (at least this many systems, points), highest first
SYSTEMS_POINTS = ((21, 3), (6, 2), (2, 1), (0, 0))
END_OF_SUPPORT_POINTS = 2
# (at least this many incidents in the last 90 days, points), highest first
INCIDENT_POINTS = ((5, 3), (2, 2), (1, 1), (0, 0))
INCIDENT_DAYS = 90
TYPE_POINTS = {ChangeType.STANDARD: 0, ChangeType.NORMAL: 1, ChangeType.EMERGENCY: 2}
OUTSIDE_HOURS_POINTS = 1
FREEZE_POINTS = 2
# (at least this score, level), highest first
LEVELS = ((7, RiskLevel.HIGH), (4, RiskLevel.MEDIUM), (0, RiskLevel.LOW))


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskInputs:
    change_type: ChangeType
    criticality: Criticality        # the most critical affected system
    criticality_source: str         # which setting gave it ("host glob db-*", "default")
    systems: int                    # affected hosts and services
    past_end_of_support: tuple[str, ...] = ()   # affected hosts past end of support
    incidents: int = 0              # tickets on its hosts/components in the last 90 days
    team: str | None = None
    hours: MaintenanceHours | None = None       # the team's maintenance hours, if any
    in_hours: bool | None = None    # the window inside them (None: no hours configured)
    freezes: tuple[Freeze, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    score: int
    level: RiskLevel
    reasons: tuple[str, ...]

    def document(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level.value, "reasons": list(self.reasons)}


def _stepped(value: int, steps: tuple[tuple[int, int], ...]) -> int:
    return next(points for least, points in steps if value >= least)


def assess_risk(inputs: RiskInputs) -> Risk:
    """The risk score: points per input, summed; the level from `LEVELS`; one reason per
    input, with its points."""
    parts: list[tuple[int, str]] = []
    parts.append((CRITICALITY_POINTS[inputs.criticality],
                  f"most critical system: {inputs.criticality.value} "
                  f"({inputs.criticality_source})"))
    parts.append((_stepped(inputs.systems, SYSTEMS_POINTS),
                  f"{inputs.systems} system{'s' if inputs.systems != 1 else ''} affected"))
    if inputs.past_end_of_support:
        parts.append((END_OF_SUPPORT_POINTS, "past end of support: "
                      + ", ".join(inputs.past_end_of_support)))
    parts.append((_stepped(inputs.incidents, INCIDENT_POINTS),
                  f"{inputs.incidents} incident{'s' if inputs.incidents != 1 else ''} on "
                  f"these systems in the last {INCIDENT_DAYS} days"))
    parts.append((TYPE_POINTS[inputs.change_type], f"{inputs.change_type.value} change"))
    if inputs.hours is not None and inputs.in_hours is False:
        parts.append((OUTSIDE_HOURS_POINTS, f"window outside team {inputs.team}'s "
                      f"maintenance hours ({inputs.hours.describe()})"))
    for freeze in inputs.freezes:
        parts.append((FREEZE_POINTS, f"window inside a change freeze ({freeze.describe()})"))
    score = sum(points for points, _ in parts)
    level = next(level for least, level in LEVELS if score >= least)
    reasons = tuple(f"+{points} {text}" for points, text in parts)
    return Risk(score=score, level=level, reasons=(*reasons, f"score {score}: {level.value}"))


# ------------------------------------------------------------------ affected hosts

GLOB_CHARACTERS = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    return any(c in GLOB_CHARACTERS for c in pattern)


class UnknownHost(ValueError):
    def __init__(self, pattern: str) -> None:
        what = "matches no known host" if is_glob(pattern) else "is not a known host"
        super().__init__(f"{pattern!r} {what} (hosts are known from inventory pushes and "
                         "tickets)")
        self.pattern = pattern


def resolve_hosts(patterns: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    """The known hosts the names and globs (fnmatch, case-sensitive) name, sorted;
    UnknownHost for a name that is not known or a glob that matches none."""
    known = sorted(set(known))
    found: set[str] = set()
    for pattern in patterns:
        if is_glob(pattern):
            matched = [h for h in known if fnmatch.fnmatchcase(h, pattern)]
        else:
            matched = [pattern] if pattern in known else []
        if not matched:
            raise UnknownHost(pattern)
        found.update(matched)
    return tuple(sorted(found))


# ------------------------------------------------------ changes that caused incidents

def incident_window(*, planned_start: datetime, planned_end: datetime,
                    actual_start: datetime | None, actual_end: datetime | None,
                    after: timedelta) -> tuple[datetime, datetime]:
    """When incidents on a failed or rolled-back change's hosts are attributed to it: from
    its start (actual, else planned) to `after` past its end (actual, else planned)."""
    return actual_start or planned_start, (actual_end or planned_end) + after
