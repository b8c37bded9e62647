"""Maintenance windows: when planned work makes alerts expected, so they are recorded but do
not page.

A window is one-off (a start and an end) or recurring: an RFC 5545 recurrence rule
(https://www.rfc-editor.org/rfc/rfc5545#section-3.3.10, e.g. ``FREQ=WEEKLY;BYDAY=SU``) counted
from its first start, each occurrence lasting the window's duration. A recurrence is computed
in the window's time zone on the wall clock, as a calendar does: "every Sunday 02:00-04:00
Europe/Amsterdam" is 01:00-03:00 UTC in winter and 00:00-02:00 UTC in summer; on the night
clocks go forward it runs from the jump (02:00 that does not exist is 03:00) to 04:00, on the
night they go back from the first 02:00 to 04:00 (three hours).

Its scope says which alerts it covers, in the terms Alertmanager silences use, so a window can
be mirrored into Alertmanager as one silence (collector/silences.py): each part given must
match (host AND service AND every label matcher); within a part any entry may match (a host
among the globs, a service among the names). Label matchers use Alertmanager's syntax
(``name="value"``, ``!=``, ``=~``, ``!~``; regexes anchored at both ends: alerting/inhibition.py).

Pure: plain data in, plain data out, `now` as an argument; parsing refuses bad input with a
`WindowError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import re2
from dateutil.rrule import YEARLY, rrule, rrulestr

from alerting.inhibition import Matcher, linear_regex, parse_matcher
from regie.inputs import zone_named

# Recurrences finer than a day are refused: nobody plans maintenance every hour, and an
# impossible fine-grained rule (FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30) would be searched hour by
# hour up to the year 9999 before it is known never to occur.
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_FORBIDDEN_PARTS = ("DTSTART", "EXDATE", "RDATE", "EXRULE")
_DIGITS = re.compile(r"[0-9]{1,9}")
# Longest occurrence: a window of a month is a freeze, not maintenance.
MAX_DURATION = timedelta(days=31)
MAX_NAME = 255
MAX_SCOPE_ENTRIES = 100


class WindowError(ValueError):
    """A window that cannot be: `field` names the input, the message says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Which alerts a window covers: every part given must match."""

    hosts: tuple[str, ...] = ()           # names or globs (*, ?, [...])
    services: tuple[str, ...] = ()
    matchers: tuple[Matcher, ...] = ()
    # The host globs as one compiled pattern: asked for every alert that opens a ticket.
    # RE2, linear in the host name: with Python's re a glob such as *a*a*a*a*a*b took seconds
    # (longer ones, hours) against a 200-character host, in the intake.
    _hosts: Any = field(default=None, init=False, repr=False, compare=False)
    # The matchers as (label, wanted, compiled regex or None, negated): no regex cache lookup.
    _labels: tuple[tuple[str, str, Any, bool], ...] = field(
        default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.hosts:
            object.__setattr__(self, "_hosts", linear_regex(
                "|".join(f"(?:{glob_regex(g)})" for g in self.hosts)))
        object.__setattr__(self, "_labels", tuple(
            (m.name, m.value, linear_regex(m.value) if m.op in ("=~", "!~") else None,
             m.op in ("!=", "!~")) for m in self.matchers))

    def __bool__(self) -> bool:
        return bool(self.hosts or self.services or self.matchers)

    def covers(self, host: str | None, service: str | None,
               labels: Mapping[str, str]) -> bool:
        if self._hosts is not None and (not host or self._hosts.fullmatch(host) is None):
            return False
        if self.services and service not in self.services:
            return False
        for name, wanted, pattern, negated in self._labels:
            value = labels.get(name, "")
            found = value == wanted if pattern is None else pattern.fullmatch(value) is not None
            if found is negated:
                return False
        return True

    def as_matchers(self) -> tuple[Matcher, ...]:
        """The scope as Alertmanager label matchers (one silence): the host globs as one
        anchored regex on `host`, the services as one on `service`, then the matchers."""
        out = []
        if self.hosts:
            out.append(Matcher("host", "=~", "|".join(glob_regex(g) for g in self.hosts)))
        if self.services:
            out.append(Matcher("service", "=~", "|".join(re.escape(s) for s in self.services)))
        return (*out, *self.matchers)

    def describe(self) -> str:
        parts = []
        if self.hosts:
            parts.append("hosts " + ", ".join(self.hosts))
        if self.services:
            parts.append("services " + ", ".join(self.services))
        if self.matchers:
            parts.append("labels " + ", ".join(str(m) for m in self.matchers))
        return "; ".join(parts)


def glob_regex(glob: str) -> str:
    """A host glob as a regular expression both Python and Go (Alertmanager) read alike."""
    out, i = [], 0
    while i < len(glob):
        char = glob[i]
        close = glob.find("]", i + 2) if char == "[" else -1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif close > 0:   # a set, as fnmatch reads it: [abc], [a-z], [!a]
            body = glob[i + 1:close]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = close
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A maintenance window. `key` identifies it ("7" for a stored window, "change-12" for an
    approved change's planned window); `duration` is on the wall clock of `timezone` for a
    recurring window, elapsed time for a one-off."""

    key: str
    name: str
    starts_at: datetime                 # UTC: the (first) occurrence's start
    duration: timedelta
    timezone: str = "UTC"
    rrule: str | None = None
    scope: Scope
    ended_at: datetime | None = None    # ended by hand: nothing counts from then on
    source: str = "window"              # window | change

    def occurrences(self, start: datetime, end: datetime) -> list[Occurrence]:
        """The occurrences overlapping [start, end), in order; one cut short where the window
        was ended by hand."""
        if self.ended_at is not None:
            end = min(end, self.ended_at)
        if end <= start:
            return []
        if self.rrule is None:
            spans = [(self.starts_at, self.starts_at + self.duration)]
        else:
            zone = ZoneInfo(self.timezone)
            # Wall-clock starts that began up to one (wall) duration plus a day (a DST jump)
            # before `start` may still run.
            since = (start - self.duration - timedelta(days=1)).astimezone(zone)
            spans = []
            for local in _starts(self.rrule, self.starts_at.astimezone(zone), since,
                                 end.astimezone(zone)):
                spans.append((local.astimezone(UTC), (local + self.duration).astimezone(UTC)))
        out = []
        for first, last in spans:
            if self.ended_at is not None:
                last = min(last, self.ended_at)
            if first < end and last > start and first < last:
                out.append(Occurrence(window=self, start=first, end=last))
        return out

    def occurrence_at(self, at: datetime) -> Occurrence | None:
        """The occurrence running at `at` (the one ending last if several overlap)."""
        running = [o for o in self.occurrences(at, at + timedelta(microseconds=1))
                   if o.start <= at < o.end]
        return max(running, key=lambda o: o.end) if running else None

    def next_occurrence(self, after: datetime) -> Occurrence | None:
        """The first occurrence running at or starting after `after` (within a year)."""
        found = self.occurrences(after, after + timedelta(days=366))
        return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Occurrence:
    window: Window
    start: datetime
    end: datetime

    def marker(self) -> dict[str, Any]:
        """What a ticket that fired in it keeps (tickets.maintenance)."""
        return {"window": self.window.key, "name": self.window.name,
                "start": self.start.isoformat(), "end": self.end.isoformat()}


def covering(windows: Iterable[Occurrence], host: str | None, service: str | None,
             labels: Mapping[str, str], at: datetime) -> Occurrence | None:
    """The occurrence among `windows` that covers an alert at `at` (the one ending last)."""
    best = None
    for occurrence in windows:
        if occurrence.start <= at < occurrence.end and (best is None or occurrence.end > best.end) \
                and occurrence.window.scope.covers(host, service, labels):
            best = occurrence
    return best


# -- parsing -------------------------------------------------------------------------------


def parse_window(*, key: str, name: str, start: str | datetime, end: str | datetime | None,
                 duration: str | timedelta | None, timezone: str | None,
                 rrule_text: str | None, hosts: Sequence[str], services: Sequence[str],
                 matchers: Sequence[str], now: datetime) -> Window:
    """A window from what a person gave: `start` (and `end`, else `duration`) as ISO 8601; a
    time without an offset is read in `timezone` (default UTC). Refused with a WindowError
    naming the field: an unknown time zone, an end not after the start, a recurrence that
    never occurs, a window entirely in the past, a bad matcher, an empty scope."""
    if not isinstance(name, str) or not name.strip():
        raise WindowError("name", "must be a non-empty string")
    if len(name) > MAX_NAME:
        raise WindowError("name", f"must be at most {MAX_NAME} characters")
    zone_name = timezone or "UTC"
    zone = _zone(zone_name)
    first = _instant("start", start, zone)
    if end is not None and duration is not None:
        raise WindowError("end", "give an end or a duration, not both")
    if end is None and duration is None:
        raise WindowError("end", "give an end (or a duration)")
    if end is not None:
        last = _instant("end", end, zone)
        if last <= first:
            raise WindowError("end", f"must be after the start ({first.isoformat()}), "
                                     f"not {last.isoformat()}")
        if rrule_text:   # the wall-clock length of the first occurrence
            length = last.astimezone(zone).replace(tzinfo=None) - \
                first.astimezone(zone).replace(tzinfo=None)
        else:
            length = last - first
    else:
        length = parse_duration("duration", duration)
    if length <= timedelta(0):
        raise WindowError("end", "must be after the start")
    if length > MAX_DURATION:
        raise WindowError("end" if end is not None else "duration",
                          f"a window lasts at most {MAX_DURATION.days} days")
    scope = parse_scope(hosts, services, matchers)
    rule = None
    if rrule_text:
        rule = check_rrule(rrule_text, first.astimezone(zone))
    window = Window(key=key, name=name.strip(), starts_at=first, duration=length,
                    timezone=zone_name, rrule=rule, scope=scope)
    # A one-off window is refused only when it has ended (one more than a year ahead is no
    # less a window); a recurrence, when none of its occurrences is within the coming year.
    # (now - length, not first + length: a start in year 9999 must not overflow.)
    if rule is None:
        if first <= now - length:
            raise WindowError("end", f"is in the past ({(first + length).isoformat()})")
    elif window.next_occurrence(now) is None:
        raise WindowError("rrule", "has no occurrence from now on (within a year)")
    return window


def parse_scope(hosts: Sequence[str], services: Sequence[str],
                matchers: Sequence[str]) -> Scope:
    for name, values in (("hosts", hosts), ("services", services), ("matchers", matchers)):
        if not isinstance(values, (list, tuple)) or not all(
                isinstance(v, str) and v.strip() for v in values):
            raise WindowError(name, "must be a list of non-empty strings")
        if len(values) > MAX_SCOPE_ENTRIES:
            raise WindowError(name, f"at most {MAX_SCOPE_ENTRIES} entries")
        for value in values:
            if len(value) > MAX_NAME:
                raise WindowError(name, f"entries are at most {MAX_NAME} characters")
    parsed = []
    for i, text in enumerate(matchers):
        try:
            matcher = parse_matcher(text)
        except ValueError as exc:
            raise WindowError(f"matchers[{i}]", str(exc)) from None
        if "\n" in matcher.value or "\x00" in matcher.value:
            raise WindowError(f"matchers[{i}]", "a value may not hold a line break or NUL")
        parsed.append(matcher)
    for i, glob in enumerate(hosts):
        if any(c in glob for c in "\x00\n\"\\"):
            raise WindowError(f"hosts[{i}]", f"{glob!r} is not a host name or glob")
        try:
            linear_regex(glob_regex(glob))
        except (re2.error, ValueError):
            raise WindowError(f"hosts[{i}]", f"{glob!r} is not a host glob") from None
    scope = Scope(hosts=tuple(h.strip() for h in hosts),
                  services=tuple(s.strip() for s in services), matchers=tuple(parsed))
    if not scope:
        raise WindowError("hosts", "give at least one host, service or label matcher "
                                   "(a window covers only what it names)")
    return scope


def check_rrule(text: str, local_start: datetime) -> str:
    """The rule, normalised (no "RRULE:" prefix), or WindowError: not one RFC 5545 rule,
    finer than daily, or never occurring from `local_start` (aware, the window's zone)."""
    if not isinstance(text, str):
        raise WindowError("rrule", "must be a string such as 'FREQ=WEEKLY;BYDAY=SU'")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:"):]
    upper = body.upper()
    if not body or "\n" in body or any(part in upper for part in _FORBIDDEN_PARTS):
        raise WindowError("rrule", "must be one recurrence rule such as 'FREQ=WEEKLY;BYDAY=SU' "
                                   "(the start is given separately)")
    parts = dict(p.split("=", 1) for p in upper.split(";") if "=" in p)
    if parts.get("FREQ") not in _FREQUENCIES:
        raise WindowError("rrule", f"FREQ must be one of {', '.join(_FREQUENCIES)}, "
                                   f"not {parts.get('FREQ')!r}")
    interval = parts.get("INTERVAL")
    if interval is not None and not (_DIGITS.fullmatch(interval) and int(interval) >= 1):
        # 0 never moves on: dateutil would list the same start for ever (a thread spinning
        # and gigabytes of memory within seconds); int() would also read " 0" or "0_0".
        raise WindowError("rrule", f"INTERVAL must be a whole number from 1, not {interval!r}")
    for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        if part in parts and not _DIGITS.fullmatch(parts[part]):
            # One start a day at most: several hours, minutes or seconds are finer than daily
            # (FREQ=DAILY;BYMINUTE=0,1,...,59 starts 1,440 times a day; with BYSECOND 86,400,
            # and the year's search lists every one of them).
            raise WindowError("rrule", f"{part} takes one value (the rule is daily or coarser), "
                                       f"not {parts[part]!r}")
    if "BYSETPOS" in parts and parts["FREQ"] not in ("MONTHLY", "YEARLY"):
        # A day has one start here, a week at most seven: and an impossible position
        # would be searched day by day up to the year 9999 (seconds of CPU).
        raise WindowError("rrule", "BYSETPOS is taken with FREQ=MONTHLY or YEARLY only")
    try:
        rule = _rule(body, local_start)
        # Whether an impossible combination of dates (30 February) ever occurs is first asked
        # of the same rule counted yearly: that search ends at the year 9999 in milliseconds,
        # where a daily one takes seconds.
        yearly = rule.replace(freq=YEARLY, interval=1, count=None, until=None, bysetpos=None)
        if yearly.after(local_start, inc=True) is None or \
                rule.after(local_start, inc=True) is None:
            raise WindowError("rrule", "never occurs")
    except WindowError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise WindowError("rrule", f"is not an RFC 5545 recurrence rule: {exc}") from None
    return body


def parse_duration(field: str, value: str | timedelta | None) -> timedelta:
    """"90m", "2h", "1d", "1h30m" -> timedelta, or WindowError."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise WindowError(field, "must be a duration such as '2h' or '90m'")
    match = _DURATION.fullmatch(value.strip())
    if not match or not value.strip():
        raise WindowError(field, f"{value!r} is not a duration such as '2h', '90m' or '1h30m'")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


_DURATION = re.compile(r"(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?")


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise WindowError("timezone", "must be an IANA time zone such as 'Europe/Amsterdam'")
    # By known name only, as every command and the change API read zones: ZoneInfo looks a
    # name up as a file, and a directory of the zone database ('Europe') raised OSError.
    zone = zone_named(name)
    if zone is None:
        raise WindowError("timezone", f"unknown time zone {name!r}")
    return zone


def _instant(field: str, value: str | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise WindowError(field, f"{value!r} is not an ISO 8601 time such as "
                                     "'2026-03-29T02:00' or '2026-03-29T02:00:00+02:00'") \
                from None
    if not isinstance(value, datetime):
        raise WindowError(field, "must be an ISO 8601 time")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    if not 1971 <= value.year <= 9998:
        raise WindowError(field, f"{value.isoformat()} is out of range")
    return value.astimezone(UTC)


# Where each recurrence was last seen: (rule, first start, zone) -> (an occurrence, how many
# came before it). dateutil lists a rule from its first start, so a daily window first started
# years ago listed every day since at each evaluation (2000-01-01: about 10,000 starts, 0.3 s),
# for every window, whenever the intake, a listing or /metrics asked: 31 such windows held the
# collector's event loop 8-13 s. Counted again from the last start seen, a rule lists only what
# is new. Only a cache: the starts listed are the same.
_ANCHORS: dict[tuple[str, str, str], tuple[datetime, int]] = {}
_MAX_ANCHORS = 4096


def _starts(body: str, local_start: datetime, since: datetime, until: datetime) -> list[datetime]:
    """The rule's starts from `since` to `until` (both included), as `rrule.between` lists
    them, counted from the latest start known at or before `since` instead of the first.

    Counting again from an occurrence keeps every start after it: the defaults dateutil takes
    from the first start (day, weekday, month, time of day) are the occurrence's own, the
    periods of an INTERVAL stay on the same grid, BYSETPOS picks within whole periods and only
    what lies before the new first start is left out; COUNT is reduced by the starts before."""
    key = (body, local_start.isoformat(), str(local_start.tzinfo))
    anchor, before = _ANCHORS.get(key, (local_start, 0))
    if anchor > since:
        anchor, before = local_start, 0
    rule = _rule(body, local_start)
    if anchor != local_start:
        count = rule._count   # dateutil keeps COUNT there; replace() needs it reduced
        rule = rule.replace(dtstart=anchor,
                            count=None if count is None else count - before)
    listed = rule.between(anchor, until, inc=True)
    seen = [start for start in listed if start <= since]
    if seen:
        if len(_ANCHORS) >= _MAX_ANCHORS:
            _ANCHORS.clear()
        _ANCHORS[key] = (seen[-1], before + len(seen) - 1)
    return listed[len(seen):] if not seen or seen[-1] < since else listed[len(seen) - 1:]


def _rule(body: str, local_start: datetime) -> rrule:
    rule = rrulestr(body, dtstart=local_start, cache=True)
    if not isinstance(rule, rrule):
        raise ValueError("not a single rule")
    return rule
