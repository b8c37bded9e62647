"""The typed readers' fast paths (collector/payloads/fields.py) accept and refuse exactly what
their general paths do: Go's UTC timestamps, and label maps of plain strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collector.payloads.fields import BadPayload, string_map, timestamp

DEFAULT = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    # Go's form: "Z", 0-9 fraction digits, digits past microseconds cut (not rounded).
    ("2026-12-07T02:30:00Z", datetime(2026, 12, 7, 2, 30, tzinfo=UTC)),
    ("2026-12-07T02:30:00.5Z", datetime(2026, 12, 7, 2, 30, 0, 500000, tzinfo=UTC)),
    ("2026-12-07T02:30:00.123456789Z", datetime(2026, 12, 7, 2, 30, 0, 123456, tzinfo=UTC)),
    ("2026-12-07T02:30:00.999999999Z", datetime(2026, 12, 7, 2, 30, 0, 999999, tzinfo=UTC)),
    ("9999-12-31T23:59:59.999999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    # The general path: offsets, lower-case z, spaces around.
    ("2026-12-07T03:30:00.123456789+01:00",
     datetime(2026, 12, 7, 2, 30, 0, 123456, tzinfo=UTC)),
    ("2026-12-07T02:30:00z", datetime(2026, 12, 7, 2, 30, tzinfo=UTC)),
    ("2026-12-07T02:30:00.1234567890Z", datetime(2026, 12, 7, 2, 30, 0, 123456, tzinfo=UTC)),
    (" 2026-12-07T02:30:00Z ", datetime(2026, 12, 7, 2, 30, tzinfo=UTC)),
    ("0001-01-01T00:00:00Z", DEFAULT),     # Go's zero time
])
def test_timestamps(text, expected):
    value = timestamp(text, "t", default=DEFAULT)
    assert value == expected
    assert value.utcoffset() == timedelta(0)
    assert value.tzinfo is UTC


@pytest.mark.parametrize(("text", "reason"), [
    ("2026-02-30T00:00:00Z", "not an RFC 3339 timestamp"),     # Go's form, impossible date
    ("2026-12-07T24:00:00Z", "not an RFC 3339 timestamp"),
    ("2026-12-07T02:30:00", "needs a time zone"),
    ("9999-12-31T23:59:59-01:00", "out of range once converted to UTC"),
])
def test_refused_timestamps(text, reason):
    with pytest.raises(BadPayload, match=reason):
        timestamp(text, "t", default=DEFAULT)


def test_string_maps_accept_plain_strings_within_bounds():
    labels = {"alertname": "DiskFull", "k" * 256: "v" * 4096, "empty": ""}
    assert string_map(labels, "labels") == labels
    assert string_map({}, "labels") == {}


def test_string_maps_cut_long_values_and_say_so():
    """A label or annotation over 4,096 characters is cut, with its length, not refused:
    one long annotation must not cost its whole Alertmanager group."""
    long = "é" * 10_000
    (kept,) = string_map({"description": long}, "annotations").values()
    assert len(kept) == 4096
    assert kept.startswith("é" * 4000) and kept.endswith(" … [cut from 10,000 characters]")
    assert string_map({"description": long}, "annotations") == {"description": kept}
    assert string_map({"a": "x" * 4096}, "labels") == {"a": "x" * 4096}


@pytest.mark.parametrize(("value", "reason"), [
    ({"a": "x", "b": 1}, "labels.b: must be a string"),
    ({"a": None}, "labels.a: must be a string"),
    ({"k" * 257: "x"}, "name longer than 256 characters"),
    ({f"k{i}": "x" for i in range(201)}, "more than 200 entries"),
    (["a"], "labels: must be an object"),
])
def test_string_maps_refuse_with_the_entry(value, reason):
    with pytest.raises(BadPayload, match=reason):
        string_map(value, "labels")
