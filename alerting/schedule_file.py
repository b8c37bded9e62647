"""The on-call schedules file: YAML read and validated into `alerting.schedule.Schedules`.

A schedules file (reference: docs/oncall.md, "Schedules"; a complete example:
deploy/oncall.example.yml)::

    people:                                  # optional: contact details, opaque strings
      alice: {email: alice@example.org, phone: "+31 6 1234 5678", slack: "@alice"}
    teams:
      - name: ops                            # letters, digits, '.', '_', '-'; unique
        timezone: Europe/Amsterdam           # IANA name; all local times below are in it
        business_hours: {days: mon-fri, start: "09:00", end: "17:00"}
        layers:                              # primary, secondary, escalation_manager
          primary:
            participants: [alice, bob]
            rotation: weekly                 # daily | weekly | custom
            handoff: "09:00"                 # daily and weekly: local time of the hand-off
            handoff_day: monday              # weekly only
            start: 2024-01-01                # the first shift (participants[0]) begins here
            until: 2025-01-01                # optional: nobody from here on
          secondary:
            participants: [carol, dave]
            rotation: custom
            shift: 12h                       # custom only: elapsed time, see below
            start: "2024-01-01T08:00"
        overrides:                           # someone takes [start, end) for a role
          - {role: primary, person: carol, start: "2024-03-30T18:00", end: "2024-03-31T12:00"}
        swaps:                               # a's and b's shifts starting in [start, end) trade
          - {role: primary, a: alice, b: bob, start: 2024-04-01, end: 2024-04-15}

How the file's times are read (the rotations they define resolve as `alerting.schedule`
describes; tested in tests/alerting/test_schedule.py):

- Local times (`handoff`, business hours, dates and date-times without an offset) are wall-clock
  times in the team's zone. A date alone means that date at the layer's `handoff` for a layer's
  `start`/`until` (00:00 for a custom rotation) and 00:00 for overrides and swaps.
- A local time that does not exist or occurs twice is read with `fold=0`, as resolution does.
- Overrides of one team and role must not overlap; nor may swaps of one team and role that
  share a person.

`parse_schedules()` is pure and raises `ScheduleError(source, key, reason)` on the first
problem, e.g. ``teams[0].layers.primary.handoff: expected HH:MM, got '25:00'``;
`load_schedules()` is the only I/O here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from alerting.rules import format_duration, parse_duration
from alerting.schedule import (
    ROLES,
    BusinessHours,
    Clock,
    ElapsedClock,
    Layer,
    Override,
    Person,
    ScheduleError,
    Schedules,
    Swap,
    Team,
    WallClock,
    _instant,
)
from regie.inputs import year_problem, zone_named

WEEKDAYS: Mapping[str, int] = MappingProxyType({
    name: index
    for index, names in enumerate((("mon", "monday"), ("tue", "tuesday"), ("wed", "wednesday"),
                                   ("thu", "thursday"), ("fri", "friday"), ("sat", "saturday"),
                                   ("sun", "sunday")))
    for name in names
})

CONTACT_FIELDS: tuple[str, ...] = ("email", "phone", "slack")

# A custom shift shorter than this is a typo ('12m' for '12h'), and would make a month's export
# tens of thousands of events.
MIN_CUSTOM_SHIFT = timedelta(hours=1)
# No shift lasts longer than a year: a 99999999d shift put the next hand-off past the
# calendar's end (OverflowError in every 'who' and 'check').
MAX_CUSTOM_SHIFT = timedelta(days=366)

_TEAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_CLOCK_TIME = re.compile(r"(\d{1,2}):(\d{2})")


@dataclass(frozen=True, slots=True)
class _Key:
    """Where a value sits in the file, for error messages: source and key path."""

    source: str
    path: str = ""

    def dot(self, name: object) -> _Key:
        return _Key(self.source, f"{self.path}.{name}" if self.path else str(name))

    def item(self, index: int) -> _Key:
        return _Key(self.source, f"{self.path}[{index}]")

    def error(self, reason: str) -> ScheduleError:
        return ScheduleError(self.source, self.path or "-", reason)


@dataclass(frozen=True, slots=True)
class _Timing:
    handoff: time | None
    handoff_day: int | None
    shift: timedelta | None


@dataclass(frozen=True, slots=True)
class RotationKind:
    """What a rotation kind takes beyond the common keys, and how it counts hand-offs."""

    keys: tuple[str, ...]
    clock: Callable[[ZoneInfo, datetime, _Timing], Clock]


def _daily(zone: ZoneInfo, start: datetime, timing: _Timing) -> Clock:
    assert timing.handoff is not None
    local = start.astimezone(zone)
    return WallClock(zone, datetime.combine(local.date(), timing.handoff), timedelta(days=1))


def _weekly(zone: ZoneInfo, start: datetime, timing: _Timing) -> Clock:
    assert timing.handoff is not None and timing.handoff_day is not None
    local = start.astimezone(zone).date()
    day = local - timedelta(days=(local.weekday() - timing.handoff_day) % 7)
    return WallClock(zone, datetime.combine(day, timing.handoff), timedelta(days=7))


def _custom(zone: ZoneInfo, start: datetime, timing: _Timing) -> Clock:
    assert timing.shift is not None
    return ElapsedClock(start, timing.shift)


# Every key listed is required for its kind, and refused for the others.
ROTATIONS: Mapping[str, RotationKind] = MappingProxyType({
    "daily": RotationKind(keys=("handoff",), clock=_daily),
    "weekly": RotationKind(keys=("handoff", "handoff_day"), clock=_weekly),
    "custom": RotationKind(keys=("shift",), clock=_custom),
})

_TOP_KEYS = ("people", "teams")
_TEAM_KEYS = ("name", "timezone", "business_hours", "layers", "overrides", "swaps")
_HOURS_KEYS = ("days", "start", "end")
_LAYER_REQUIRED = ("participants", "rotation", "start")
_LAYER_KEYS = (*_LAYER_REQUIRED, "until")
_ALL_LAYER_KEYS = tuple(dict.fromkeys(
    _LAYER_KEYS + tuple(k for kind in ROTATIONS.values() for k in kind.keys)))
_OVERRIDE_KEYS = ("role", "person", "start", "end")
_SWAP_KEYS = ("role", "a", "b", "start", "end")

Names = Callable[[object, _Key], str]


def parse_schedules(document: Mapping[str, Any] | None, source: str) -> Schedules:
    """Validate a loaded schedules document into `Schedules`, or raise ScheduleError."""
    top = _Key(source)
    if document is None:
        raise top.error("is empty; expected a 'teams:' list (and optionally 'people:')")
    _mapping(document, top, "a mapping with a 'teams' list")
    _refuse_unknown(document, _TOP_KEYS, top)
    declared = _parse_people(document.get("people"), top.dot("people"))
    mentioned: dict[str, Person] = dict(declared)

    def names(value: object, where: _Key) -> str:
        name = _text(value, where)
        if declared and name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise where.error(f"{name!r} is not listed under 'people'{hint}")
        mentioned.setdefault(name, Person(name))
        return name

    where = top.dot("teams")
    items = _required(document, "teams", top)
    if not isinstance(items, list):
        raise where.error(f"must be a list of teams, not {_kind(items)}")
    if not items:
        raise where.error("must list at least one team")
    teams: list[Team] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        team = _parse_team(item, where.item(index), names)
        if team.name in seen:
            raise where.item(index).dot("name").error(
                f"duplicate team name {team.name!r} (also teams[{seen[team.name]}])")
        seen[team.name] = index
        teams.append(team)
    return Schedules(teams=tuple(teams), people=MappingProxyType(mentioned), source=source)


def load_schedules(path: str | Path) -> Schedules:
    """Read and parse the YAML schedules file at `path`; every problem is a ScheduleError."""
    import yaml  # the collector's dependency: only when a file is read

    from regie import yaml_documents
    from regie.configfile import DOCUMENT_BYTES, read_regular_file

    source = str(path)
    try:
        raw = read_regular_file(Path(path), limit=DOCUMENT_BYTES)
    except OSError as exc:
        raise ScheduleError(source, "-", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScheduleError(source, "-", f"not UTF-8 text ({exc.reason})") from None
    try:
        document = yaml_documents.load(text, _yaml_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScheduleError(source, "-", f"invalid YAML{where}: {problem}") from None
    return parse_schedules(document, source)


def _yaml_loader() -> type:
    """A SafeLoader that refuses duplicate keys and reads ``17:00`` as text.

    YAML 1.1 reads an unquoted 17:00 as the base-60 integer 1020 (and 09:00 as text); hand-off
    times are written unquoted often enough that the loader keeps them all as text.
    """
    import yaml

    int_tag = "tag:yaml.org,2002:int"
    no_base_60 = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
                            r"|[-+]?0x[0-9a-fA-F_]+)$")

    from regie.yaml_documents import DocumentLoader

    class Loader(DocumentLoader):
        yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class-level table
            first: [(tag, rx) for tag, rx in resolvers if tag != int_tag]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

    Loader.add_implicit_resolver(int_tag, no_base_60, list("-+0123456789"))

    return Loader


def _parse_people(value: object, where: _Key) -> dict[str, Person]:
    if value is None:
        return {}
    _mapping(value, where, "a mapping of name: {email, phone, slack}")
    people: dict[str, Person] = {}
    for name, contact in value.items():
        key = where.dot(name)
        name = _text(name, key)
        if contact is None:
            contact = {}
        _mapping(contact, key, "a mapping with email, phone and/or slack")
        _refuse_unknown(contact, CONTACT_FIELDS, key)
        people[name] = Person(name, **{f: _text(contact[f], key.dot(f)) for f in contact})
    return people


def _parse_team(item: object, where: _Key, names: Names) -> Team:
    _mapping(item, where, "a mapping with name, timezone, business_hours and layers")
    _refuse_unknown(item, _TEAM_KEYS, where)
    name = _text(_required(item, "name", where), where.dot("name"))
    if not _TEAM_NAME.fullmatch(name):
        raise where.dot("name").error(
            f"{name!r} is not a team name (letters, digits, '.', '_' and '-')")
    zone = _zone(_required(item, "timezone", where), where.dot("timezone"))
    hours = _business_hours(_required(item, "business_hours", where),
                            where.dot("business_hours"))

    layers_where = where.dot("layers")
    raw_layers = item.get("layers") or {}
    _mapping(raw_layers, layers_where, "a mapping of role: layer")
    _refuse_unknown(raw_layers, ROLES, layers_where)
    layers = {role: _parse_layer(role, raw_layers[role], layers_where.dot(role), zone, names)
              for role in ROLES if role in raw_layers}

    overrides = tuple(
        Override(role=role, person=names(entry["person"], key.dot("person")), start=start,
                 end=end)
        for key, entry, role, start, end in _ranges(item, "overrides", _OVERRIDE_KEYS, where, zone)
    )
    _refuse_overlaps(overrides, where.dot("overrides"), lambda a, b: True)

    swaps: list[Swap] = []
    for key, entry, role, start, end in _ranges(item, "swaps", _SWAP_KEYS, where, zone):
        layer = layers.get(role)
        if layer is None:
            raise key.dot("role").error(f"team {name!r} has no {role} layer to swap shifts in")
        a, b = (names(entry[k], key.dot(k)) for k in ("a", "b"))
        if a == b:
            raise key.dot("b").error(f"must differ from a ({a!r})")
        for person, k in ((a, "a"), (b, "b")):
            if person not in layer.participants:
                raise key.dot(k).error(f"{person!r} is not a participant of layers.{role}")
        swaps.append(Swap(role=role, a=a, b=b, start=start, end=end))
    _refuse_overlaps(swaps, where.dot("swaps"), lambda s, t: bool({s.a, s.b} & {t.a, t.b}))

    return Team(name=name, timezone=zone, business_hours=hours,
                layers=MappingProxyType(layers), overrides=overrides, swaps=tuple(swaps))


def _parse_layer(role: str, item: object, where: _Key, zone: ZoneInfo, names: Names) -> Layer:
    _mapping(item, where, "a mapping with participants, rotation and start")
    _refuse_unknown(item, _ALL_LAYER_KEYS, where)
    rotation = _required(item, "rotation", where)
    if not isinstance(rotation, str) or rotation not in ROTATIONS:
        raise where.dot("rotation").error(
            f"must be one of {', '.join(ROTATIONS)}, not {rotation!r}")
    kind = ROTATIONS[rotation]
    for key in item:
        if key not in _LAYER_KEYS and key not in kind.keys:
            owners = [k for k, other in ROTATIONS.items() if key in other.keys]
            raise where.dot(key).error(f"only for rotation: {' or '.join(owners)}")
    for key in (*_LAYER_REQUIRED, *kind.keys):
        _required(item, key, where)

    participants = item["participants"]
    if not isinstance(participants, list):
        raise where.dot("participants").error(
            f"must be a list of names, not {_kind(participants)}")
    if not participants:
        raise where.dot("participants").error("must name at least one person")
    people = tuple(names(p, where.dot("participants").item(i))
                   for i, p in enumerate(participants))

    timing = _Timing(
        handoff=_clock_time(item["handoff"], where.dot("handoff")) if "handoff" in item else None,
        handoff_day=(_weekday(item["handoff_day"], where.dot("handoff_day"))
                     if "handoff_day" in item else None),
        shift=_shift(item["shift"], where.dot("shift")) if "shift" in item else None,
    )
    time_of_day = timing.handoff or time(0)
    start = _moment(item["start"], where.dot("start"), zone, time_of_day)
    until = None
    if item.get("until") is not None:
        until = _moment(item["until"], where.dot("until"), zone, time_of_day)
        if until <= start:
            raise where.dot("until").error("must be after start")
    return Layer(role=role, participants=people, rotation=rotation, start=start, until=until,
                 handoff=timing.handoff, handoff_day=timing.handoff_day, shift=timing.shift,
                 clock=kind.clock(zone, start, timing))


def _ranges(item: Mapping[str, Any], name: str, keys: tuple[str, ...], where: _Key,
            zone: ZoneInfo) -> Iterable[tuple[_Key, Mapping[str, Any], str, datetime, datetime]]:
    """The common part of overrides and swaps: the entry's role and [start, end) checked."""
    entries = item.get(name) or []
    if not isinstance(entries, list):
        raise where.dot(name).error(f"must be a list, not {_kind(entries)}")
    for index, entry in enumerate(entries):
        key = where.dot(name).item(index)
        _mapping(entry, key, f"a mapping with {', '.join(keys)}")
        _refuse_unknown(entry, keys, key)
        for k in keys:
            _required(entry, k, key)
        role = entry["role"]
        if not isinstance(role, str) or role not in ROLES:
            raise key.dot("role").error(f"must be one of {', '.join(ROLES)}, not {role!r}")
        start = _moment(entry["start"], key.dot("start"), zone, time(0))
        end = _moment(entry["end"], key.dot("end"), zone, time(0))
        if end <= start:
            raise key.dot("end").error("must be after start")
        yield key, entry, role, start, end


def _refuse_overlaps(entries: Sequence[Override] | Sequence[Swap], where: _Key,
                     related: Callable[[Any, Any], bool]) -> None:
    for i, entry in enumerate(entries):
        for j, earlier in enumerate(entries[:i]):
            if (entry.role == earlier.role and entry.start < earlier.end
                    and earlier.start < entry.end and related(entry, earlier)):
                name = where.path.rsplit(".", 1)[-1]
                raise where.item(i).error(f"overlaps {name}[{j}] for role {entry.role}")


def _business_hours(value: object, where: _Key) -> BusinessHours:
    _mapping(value, where, "a mapping with days, start and end")
    _refuse_unknown(value, _HOURS_KEYS, where)
    for key in _HOURS_KEYS:
        _required(value, key, where)
    start = _clock_time(value["start"], where.dot("start"))
    end = _clock_time(value["end"], where.dot("end"), midnight=True)
    if end is not None and end <= start:
        raise where.dot("end").error(
            f"must be after start ({start:%H:%M}); use '24:00' for midnight")
    return BusinessHours(days=_days(value["days"], where.dot("days")), start=start, end=end)


def _days(value: object, where: _Key) -> frozenset[int]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise where.error(f"must be day names or ranges such as 'mon-fri', not {_kind(value)}")
    days: set[int] = set()
    for index, item in enumerate(items):
        key = where if items is not value else where.item(index)
        if not isinstance(item, str):
            raise key.error(f"must be a day name or a range such as 'mon-fri', not {_kind(item)}")
        for part in item.split(","):
            first, dash, last = part.strip().lower().partition("-")
            a, b = WEEKDAYS.get(first.strip()), WEEKDAYS.get(last.strip() if dash else first)
            if a is None or b is None:
                raise key.error(f"expected day names or ranges such as 'mon-fri', got {item!r}")
            days.update((a + k) % 7 for k in range((b - a) % 7 + 1))  # fri-mon wraps
    return frozenset(days)


def _weekday(value: object, where: _Key) -> int:
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return WEEKDAYS[value.strip().lower()]
    raise where.error(f"must be a day of the week (monday or mon, ..., sunday), not {value!r}")


def _clock_time(value: object, where: _Key, *, midnight: bool = False) -> time | None:
    """``HH:MM`` as a time; with `midnight`, ``24:00`` is None (the end of the day)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # Another loader's YAML 1.1 reading of an unquoted 17:00 (base 60: 1020).
        raise where.error(f"expected HH:MM, got the number {value} (quote it: "
                          f"'{value // 60:02d}:{value % 60:02d}')")
    match = _CLOCK_TIME.fullmatch(value) if isinstance(value, str) else None
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if midnight and (hours, minutes) == (24, 0):
            return None
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise where.error(f"expected HH:MM, got {value!r}")


def _shift(value: object, where: _Key) -> timedelta:
    if not isinstance(value, str):
        raise where.error(f"must be a duration such as '12h' or '3d', not {_kind(value)}")
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise where.error(str(exc)) from None
    if timedelta(seconds=seconds) < MIN_CUSTOM_SHIFT:
        raise where.error(f"must be at least {format_duration(MIN_CUSTOM_SHIFT.total_seconds())},"
                          f" not {value!r}")
    if timedelta(seconds=seconds) > MAX_CUSTOM_SHIFT:
        raise where.error(f"must be at most {format_duration(MAX_CUSTOM_SHIFT.total_seconds())},"
                          f" not {value!r}")
    return timedelta(seconds=seconds)


def _moment(value: object, where: _Key, zone: ZoneInfo, time_of_day: time) -> datetime:
    """A date or date-time as a UTC instant: naive ones are local, a date is at `time_of_day`."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (date.fromisoformat(text) if len(text) <= len("2024-01-01")
                     else datetime.fromisoformat(text))
        except ValueError:
            raise where.error(f"expected a date (2024-01-01) or a date and time "
                              f"(2024-01-01T09:00, local unless it has an offset), got {value!r}"
                              ) from None
    if isinstance(value, date) and (problem := year_problem(value)):
        # The years every command and the API read: beyond them the shift to UTC, or a
        # rotation's next hand-off, leaves the calendar (OverflowError).
        raise where.error(f"{value.isoformat()}: {problem}")
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(UTC)
        return _instant(value, zone)
    if isinstance(value, date):
        return _instant(datetime.combine(value, time_of_day), zone)
    raise where.error(f"expected a date or a date and time, not {_kind(value)}")


def _zone(value: object, where: _Key) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"must be an IANA time zone such as 'Europe/Amsterdam', not "
                          f"{_kind(value)}")
    zone = zone_named(value)
    if zone is None:
        raise where.error(f"unknown IANA time zone {value[:64]!r} (e.g. 'Europe/Amsterdam', "
                          "'America/New_York', 'UTC')")
    return zone


def _text(value: object, where: _Key) -> str:
    if not isinstance(value, str):
        hint = " (quote it)" if isinstance(value, int | float) else ""
        raise where.error(f"must be a string{hint}, not {_kind(value)}")
    if not value.strip():
        raise where.error("must not be empty")
    if any(ord(c) < 32 for c in value):
        raise where.error(f"must not contain control characters, got {value!r}")
    return value


def _required(data: Mapping[str, Any], key: str, where: _Key) -> Any:
    if key not in data:
        raise where.dot(key).error("is required")
    return data[key]


def _mapping(value: object, where: _Key, what: str) -> None:
    if not isinstance(value, Mapping):
        raise where.error(f"must be {what}, not {_kind(value)}")


def _refuse_unknown(data: Mapping[Any, Any], known: Sequence[str], where: _Key) -> None:
    for name in data:
        if name not in known:
            close = difflib.get_close_matches(str(name), list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
            raise where.dot(name).error(f"unknown key{hint}")


def _kind(value: object) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "a mapping", type(None): "nothing", date: "a date",
        datetime: "a date and time",
    }.get(type(value), type(value).__name__)
