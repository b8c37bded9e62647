"""On-call schedules: the model, and resolution to "who is on call at T for role R".

Teams, their layers (one rotation per role), overrides and swaps; `Schedules.who`, `shifts` and
`gaps` resolve them to `Shift`s and `Gap`s. Reading a schedules file into this model is
`alerting.schedule_file` (the format, reference: docs/oncall.md, "Schedules"); exporting shifts
as iCalendar is `alerting.ical`.

Time semantics, all decided here and tested in tests/alerting/test_schedule.py:

- daily and weekly rotations count in local wall-clock days: a 09:00 hand-off stays at 09:00
  local across DST, so the shift over spring-forward lasts 23 h and the one over fall-back 25 h.
- custom rotations count elapsed time from `start`: `shift: 12h` hands off every 12 real hours,
  so a 08:00/20:00 rotation started in winter hands off at 09:00/21:00 local in summer. Use daily
  or weekly when the hand-off must stay at one local time.
- A local time that does not exist (the skipped hour at spring-forward) or that occurs twice
  (the repeated hour at fall-back) is read with `fold=0` (PEP 495), as zoneinfo does by default:
  a skipped 02:30 is read with the offset before the change, so it happens at 03:30 summer time;
  a repeated 02:30 means its first occurrence (still summer time).
- participants[0] holds the shift from `start` to the first hand-off after it (a partial shift
  when `start` is not at a hand-off), then participants[1], and so on, round and round.
- An override wins over the rotation for [start, end); the rotation's shift is cut around it.
  Overrides of one team and role must not overlap.
- A swap gives a's rotation shifts that *start* in [start, end) to b and b's to a; shifts are
  swapped whole, never split. Swaps of one team and role that share a person must not overlap.
- Every time returned (`Shift.start`, `Gap.end`, ...) is an aware datetime in UTC: zoneinfo
  compares two datetimes of the same zone by wall time, which misorders the repeated hour.

Resolution (`Schedules.who`, `shifts`, `gaps`, `Team.in_business_hours`) is pure: it takes the
time to resolve as an argument and never reads the clock.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from regie.configfile import ConfigError

ROLES: tuple[str, ...] = ("primary", "secondary", "escalation_manager")
# Roles every team must have someone in at all times; anything else is a gap.
REQUIRED_ROLES: frozenset[str] = frozenset({"primary"})

Reason = Literal["rotation", "override", "swap"]

_TINY = timedelta(microseconds=1)

class ScheduleError(ConfigError):
    """A problem in a schedules file, located by file and key path (``teams[0].name``).

    Also raised by `Schedules.team()` (and so by `who`/`shifts` with a `team=`) for a team the
    file does not define, with key ``teams``: the caller named something the file lacks.
    """


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class Person:
    """Contact details: opaque strings for the notification channels, None when not given."""

    name: str
    email: str | None = None
    phone: str | None = None
    slack: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Local weekdays (0 = Monday) and [start, end) local time; end None means midnight."""

    days: frozenset[int]
    start: time
    end: time | None

    def contains(self, local: datetime) -> bool:
        now = local.time()
        return (local.weekday() in self.days and self.start <= now
                and (self.end is None or now < self.end))


@dataclass(frozen=True, slots=True)
class WallClock:
    """Hand-offs every `period` of local wall-clock time, counted from `base` (naive, local)."""

    zone: ZoneInfo
    base: datetime
    period: timedelta

    def boundary(self, index: int) -> datetime:
        return _instant(self.base + index * self.period, self.zone)

    def locate(self, at: datetime) -> int:
        """The index of the slot holding `at`: boundary(i) <= at < boundary(i + 1)."""
        local = at.astimezone(self.zone).replace(tzinfo=None)
        index = (local - self.base) // self.period
        # The wall-clock guess is off by one inside a repeated or skipped hour: fix it on
        # instants, which are unambiguous.
        while self.boundary(index) > at:
            index -= 1
        while self.boundary(index + 1) <= at:
            index += 1
        return index


@dataclass(frozen=True, slots=True)
class ElapsedClock:
    """Hand-offs every `period` of elapsed (absolute) time from `base` (UTC)."""

    base: datetime
    period: timedelta

    def boundary(self, index: int) -> datetime:
        return self.base + index * self.period

    def locate(self, at: datetime) -> int:
        return (at - self.base) // self.period


Clock = WallClock | ElapsedClock


@dataclass(frozen=True, slots=True)
class Layer:
    """One role's rotation in a team. `start`/`until` are UTC instants."""

    role: str
    participants: tuple[str, ...]
    rotation: str
    start: datetime
    until: datetime | None
    handoff: time | None
    handoff_day: int | None
    shift: timedelta | None
    clock: Clock = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Override:
    """`person` holds `role` for [start, end) whatever the rotation says."""

    role: str
    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Swap:
    """Rotation shifts of `role` starting in [start, end): a's go to b, b's go to a."""

    role: str
    a: str
    b: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    """Someone on call: `person` holds `role` in `team` for [start, end) (UTC)."""

    team: str
    role: str
    person: str
    start: datetime
    end: datetime
    reason: Reason


@dataclass(frozen=True, slots=True)
class Gap:
    """Nobody holds `role` in `team` for [start, end) (UTC)."""

    team: str
    role: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Team:
    """One team: its zone, business hours, a layer per role it rotates, overrides and swaps."""

    name: str
    timezone: ZoneInfo
    business_hours: BusinessHours
    layers: Mapping[str, Layer]
    overrides: tuple[Override, ...] = ()
    swaps: tuple[Swap, ...] = ()

    def in_business_hours(self, at: datetime) -> bool:
        """Whether `at` (timezone-aware) falls in the team's local business hours."""
        return self.business_hours.contains(_aware(at, "at").astimezone(self.timezone))

    def roles(self) -> tuple[str, ...]:
        """The roles someone must hold: those with a layer, and the required ones."""
        return tuple(r for r in ROLES if r in self.layers or r in REQUIRED_ROLES)


@dataclass(frozen=True, slots=True)
class Schedules:
    """Every team's rotations. `people` has every name the file mentions (contacts or not)."""

    teams: tuple[Team, ...]
    people: Mapping[str, Person] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "-"

    def team(self, name: str) -> Team:
        """The team called `name`; ScheduleError (key ``teams``) when there is none."""
        for team in self.teams:
            if team.name == name:
                return team
        names = [t.name for t in self.teams]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"teams: {', '.join(names)}"
        raise ScheduleError(self.source, "teams", f"no team named {name!r} ({hint})")

    def who(self, at: datetime, role: str, team: str | None = None) -> tuple[Shift, ...]:
        """Who holds `role` at `at`: one shift per team (that has someone then), in file order."""
        at = _aware(at, "at")
        _check_role(role)
        found = []
        for candidate in self._teams(team):
            found += [p for p in _pieces(candidate, role, at, at + _TINY) if isinstance(p, Shift)]
        return tuple(found)

    def shifts(self, start: datetime, end: datetime, team: str | None = None,
               role: str | None = None) -> tuple[Shift, ...]:
        """Every shift overlapping [start, end), whole (not cut at the range), by start time."""
        start, end = _range(start, end)
        if role is not None:
            _check_role(role)
        roles = ROLES if role is None else (role,)
        found = [
            p for candidate in self._teams(team) for r in roles
            for p in _pieces(candidate, r, start, end) if isinstance(p, Shift)
        ]
        return tuple(sorted(found, key=self._order))

    def gaps(self, start: datetime, end: datetime) -> tuple[Gap, ...]:
        """Times in [start, end) (cut to it) when a layer's role, or primary, has nobody."""
        start, end = _range(start, end)
        found = [
            p for candidate in self.teams for r in candidate.roles()
            for p in _pieces(candidate, r, start, end) if isinstance(p, Gap)
        ]
        return tuple(sorted(found, key=self._order))

    def _teams(self, name: str | None) -> tuple[Team, ...]:
        return self.teams if name is None else (self.team(name),)

    def _order(self, item: Shift | Gap) -> tuple[datetime, int, int]:
        index = next(i for i, t in enumerate(self.teams) if t.name == item.team)
        return item.start, index, ROLES.index(item.role)


# --------------------------------------------------------------------------- resolution


def _pieces(team: Team, role: str, start: datetime, end: datetime) -> list[Shift | Gap]:
    """The timeline of `role` in `team` over [start, end), by start time.

    Shifts keep their own bounds (cut only by overrides, the layer's start and until); gaps are
    cut to [start, end).
    """
    layer = team.layers.get(role)
    base: list[Shift | Gap] = (
        [Gap(team.name, role, start, end)] if layer is None
        else _rotation(team, layer, start, end)
    )
    overrides = [o for o in team.overrides if o.role == role]
    pieces: list[Shift | Gap] = [
        Shift(team.name, role, o.person, o.start, o.end, "override") for o in overrides
    ]
    for piece in base:
        pieces += _cut(piece, overrides)
    return sorted((p for p in pieces if p.start < end and p.end > start),
                  key=lambda p: p.start)


def _rotation(team: Team, layer: Layer, start: datetime, end: datetime) -> list[Shift | Gap]:
    pieces: list[Shift | Gap] = []
    if start < layer.start:
        pieces.append(Gap(team.name, layer.role, start, min(end, layer.start)))
    stop = end if layer.until is None else min(end, layer.until)
    if max(start, layer.start) < stop:
        clock, first = layer.clock, layer.clock.locate(layer.start)
        index = clock.locate(max(start, layer.start))
        while (shift_start := max(clock.boundary(index), layer.start)) < stop:
            shift_end = clock.boundary(index + 1)
            if layer.until is not None:
                shift_end = min(shift_end, layer.until)
            if shift_end > shift_start:  # a zone that skipped a whole day has an empty slot
                person = layer.participants[(index - first) % len(layer.participants)]
                pieces.append(_swapped(team, Shift(team.name, layer.role, person, shift_start,
                                                   shift_end, "rotation")))
            index += 1
    if layer.until is not None and end > layer.until:
        pieces.append(Gap(team.name, layer.role, max(start, layer.until), end))
    return pieces


def _swapped(team: Team, shift: Shift) -> Shift:
    for swap in team.swaps:
        if swap.role == shift.role and swap.start <= shift.start < swap.end:
            other = {swap.a: swap.b, swap.b: swap.a}.get(shift.person)
            if other is not None:
                return replace(shift, person=other, reason="swap")
    return shift


def _cut(piece: Shift | Gap, overrides: Sequence[Override]) -> list[Shift | Gap]:
    """`piece` minus the overrides' ranges (which do not overlap each other)."""
    parts = [piece]
    for override in overrides:
        rest: list[Shift | Gap] = []
        for part in parts:
            if override.end <= part.start or override.start >= part.end:
                rest.append(part)
                continue
            if part.start < override.start:
                rest.append(replace(part, end=override.start))
            if override.end < part.end:
                rest.append(replace(part, start=override.end))
        parts = rest
    return parts


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not naive ({value.isoformat()})")
    return value.astimezone(UTC)


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    return start, end


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall time; skipped and repeated times read fold=0."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)
