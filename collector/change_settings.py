"""The `[changes]` section of the installation file: maintenance hours per team, freeze
periods, and how long after a change's window incidents are attributed to it
(docs/configuration.md, docs/changes.md).

    [changes]
    default_team = "ops"
    incident_window_hours = 24

    [changes.maintenance_hours.ops]
    days = ["sat", "sun"]
    start = "02:00"
    end = "06:00"
    timezone = "Europe/Amsterdam"

    [[changes.freeze]]
    start = 2026-12-21T00:00:00Z
    end = 2027-01-04T00:00:00Z
    reason = "year-end closing"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from alerting.changes import DAY_NAMES, Freeze, MaintenanceHours
from regie.configfile import ConfigError
from regie.inputs import zone_named

DEFAULT_INCIDENT_WINDOW_HOURS = 24.0
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_TEAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeSettings:
    # The team whose maintenance hours apply when a change names none.
    default_team: str | None = None
    # Team -> the hours its changes are expected in; a window outside them adds risk.
    maintenance_hours: Mapping[str, MaintenanceHours] = field(default_factory=dict)
    freezes: tuple[Freeze, ...] = ()
    # Incidents opened on a failed or rolled-back change's hosts up to this long after its
    # window are attributed to it.
    incident_window_hours: float = DEFAULT_INCIDENT_WINDOW_HOURS

    @property
    def incident_window(self) -> timedelta:
        return timedelta(hours=self.incident_window_hours)

    def team_of(self, team: str | None) -> str | None:
        return team or self.default_team


def parse_change_settings(data: object, *, source: str) -> ChangeSettings:
    """The `[changes]` table, or ConfigError naming the key."""
    if data is None:
        return ChangeSettings()
    if not isinstance(data, Mapping):
        raise ConfigError(source, "changes", "must be a table")
    rest = dict(data)
    default_team = rest.pop("default_team", None)
    if default_team is not None and (not isinstance(default_team, str)
                                     or not _TEAM.fullmatch(default_team)):
        raise ConfigError(source, "changes.default_team", "must be a team name (letters, "
                                                          "digits, '.', '_', '-')")
    window = rest.pop("incident_window_hours", DEFAULT_INCIDENT_WINDOW_HOURS)
    if isinstance(window, bool) or not isinstance(window, int | float) or window < 0:
        raise ConfigError(source, "changes.incident_window_hours",
                          f"must be a number of hours, 0 or more, not {window!r}")
    hours_data = rest.pop("maintenance_hours", {})
    if not isinstance(hours_data, Mapping):
        raise ConfigError(source, "changes.maintenance_hours",
                          "must be a table of team = {days, start, end, timezone}")
    hours = {}
    for team, item in hours_data.items():
        if not _TEAM.fullmatch(str(team)):
            raise ConfigError(source, f"changes.maintenance_hours.{team}",
                              "the team's name: letters, digits, '.', '_', '-'")
        hours[str(team)] = _hours(item, source=source, key=f"changes.maintenance_hours.{team}")
    freeze_data = rest.pop("freeze", [])
    if not isinstance(freeze_data, list):
        raise ConfigError(source, "changes.freeze", "must be an array of tables "
                                                    "([[changes.freeze]])")
    freezes = tuple(_freeze(item, source=source, key=f"changes.freeze[{index}]")
                    for index, item in enumerate(freeze_data))
    for unknown in rest:
        raise ConfigError(source, f"changes.{unknown}", "unknown key")
    return ChangeSettings(default_team=default_team, maintenance_hours=hours, freezes=freezes,
                          incident_window_hours=float(window))


def _hours(item: object, *, source: str, key: str) -> MaintenanceHours:
    if not isinstance(item, Mapping):
        raise ConfigError(source, key, "must be a table: days, start, end, timezone")
    rest = dict(item)
    days = rest.pop("days", None)
    if not isinstance(days, list) or not days or not all(
            isinstance(d, str) and d.lower()[:3] in DAY_NAMES for d in days):
        raise ConfigError(source, f"{key}.days", "must list weekdays: "
                                                 + ", ".join(repr(d) for d in DAY_NAMES))
    start = _clock(rest.pop("start", None), source=source, key=f"{key}.start")
    end = _clock(rest.pop("end", None), source=source, key=f"{key}.end")
    zone_name = rest.pop("timezone", "UTC")
    zone = zone_named(zone_name)
    if zone is None:
        shown = zone_name[:64] if isinstance(zone_name, str) else zone_name
        raise ConfigError(source, f"{key}.timezone", f"unknown time zone {shown!r} (an "
                                                     "IANA name, e.g. Europe/Amsterdam)")
    for unknown in rest:
        raise ConfigError(source, f"{key}.{unknown}", "unknown key")
    if start == end:
        raise ConfigError(source, f"{key}.end", "must differ from start")
    return MaintenanceHours(days=frozenset(DAY_NAMES.index(d.lower()[:3]) for d in days),
                            start=start, end=end, timezone=zone)


def _clock(value: object, *, source: str, key: str) -> time:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(source, key, f"must be a time of day \"HH:MM\", not {value!r}")
    return time(int(match[1]), int(match[2]))


def _freeze(item: object, *, source: str, key: str) -> Freeze:
    if not isinstance(item, Mapping):
        raise ConfigError(source, key, "must be a table: start, end, reason")
    rest = dict(item)
    start = _instant(rest.pop("start", None), source=source, key=f"{key}.start")
    end = _instant(rest.pop("end", None), source=source, key=f"{key}.end")
    reason = rest.pop("reason", None)
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(source, f"{key}.reason", "is required: why changes are frozen")
    for unknown in rest:
        raise ConfigError(source, f"{key}.{unknown}", "unknown key")
    if end <= start:
        raise ConfigError(source, f"{key}.end", "must be after start")
    return Freeze(start=start, end=end, reason=reason.strip())


def _instant(value: Any, *, source: str, key: str) -> datetime:
    """A TOML date-time with an offset, or a date (midnight UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError(source, key, "needs a time zone offset (Z or +hh:mm)")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), UTC)
    if isinstance(value, str):
        try:
            return _instant(datetime.fromisoformat(value.replace("Z", "+00:00")),
                            source=source, key=key)
        except ValueError:
            pass
    raise ConfigError(source, key, f"must be a date-time like 2026-12-21T00:00:00Z, not "
                                   f"{value!r}")
