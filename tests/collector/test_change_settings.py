"""The `[changes]` settings through `load_settings` with real TOML files: maintenance hours,
freezes, the incident window; every problem a ConfigError naming the file and the key."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from collector.config import load_settings
from regie.configfile import ConfigError

VALID = """\
[changes]
default_team = "ops"
incident_window_hours = 12

[changes.maintenance_hours.ops]
days = ["sat", "Sunday"]
start = "22:00"
end = "04:00"
timezone = "Europe/Amsterdam"

[[changes.freeze]]
start = 2026-12-21T00:00:00Z
end = 2027-01-04
reason = "year-end closing"
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "regie.toml"
    path.write_text(text)
    return load_settings(path)


def test_valid_settings(tmp_path):
    changes = _load(tmp_path, VALID).changes
    assert changes.default_team == "ops"
    assert changes.incident_window_hours == 12
    hours = changes.maintenance_hours["ops"]
    assert (hours.days, hours.start, hours.end, hours.timezone.key) == (
        frozenset({5, 6}), time(22), time(4), "Europe/Amsterdam")
    (freeze,) = changes.freezes
    assert (freeze.start, freeze.end, freeze.reason) == (
        datetime(2026, 12, 21, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC),
        "year-end closing")


def test_defaults(tmp_path):
    changes = _load(tmp_path, "").changes
    assert (changes.default_team, dict(changes.maintenance_hours), changes.freezes,
            changes.incident_window_hours) == (None, {}, (), 24.0)


@pytest.mark.parametrize(("text", "key", "reason"), [
    ('[changes]\ncolour = 1\n', "changes.colour", "unknown key"),
    ('[changes]\nincident_window_hours = -1\n', "changes.incident_window_hours",
     "must be a number of hours"),
    ('[changes.maintenance_hours.ops]\ndays = ["someday"]\nstart = "02:00"\nend = "04:00"\n',
     "changes.maintenance_hours.ops.days", "must list weekdays"),
    ('[changes.maintenance_hours.ops]\ndays = ["sat"]\nstart = "2:00"\nend = "04:00"\n',
     "changes.maintenance_hours.ops.start", "must be a time of day"),
    ('[changes.maintenance_hours.ops]\ndays = ["sat"]\nstart = "02:00"\nend = "02:00"\n',
     "changes.maintenance_hours.ops.end", "must differ from start"),
    ('[changes.maintenance_hours.ops]\ndays = ["sat"]\nstart = "02:00"\nend = "04:00"\n'
     'timezone = "Mars/Olympus"\n', "changes.maintenance_hours.ops.timezone",
     "unknown time zone 'Mars/Olympus'"),
    ('[[changes.freeze]]\nstart = 2026-12-21T00:00:00Z\nend = 2026-12-20T00:00:00Z\n'
     'reason = "x"\n', "changes.freeze[0].end", "must be after start"),
    ('[[changes.freeze]]\nstart = 2026-12-21T00:00:00\nend = 2026-12-22T00:00:00Z\n'
     'reason = "x"\n', "changes.freeze[0].start", "needs a time zone offset"),
    ('[[changes.freeze]]\nstart = 2026-12-21\nend = 2026-12-22\n',
     "changes.freeze[0].reason", "is required"),
])
def test_problems_name_the_key(tmp_path, text, key, reason):
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert f"regie.toml: {key}: {reason}" in str(raised.value), raised.value
