"""Details over the limit keep their small entries and a marker naming what was cut."""

from __future__ import annotations

import json

from collector.payloads.details import MAX_DETAILS_BYTES, PREVIEW_CHARS, capped


def size(value) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def test_small_details_are_kept_whole():
    details = {"labels": {"alertname": "A"}, "annotations": {"summary": "s"}}
    assert capped(details) == details


def test_large_details_keep_small_entries_and_name_the_cut():
    custom = {"blob": "x" * (8 * 1024 * 1024)}
    details = {"class": "disk", "severity": "critical", "custom_details": custom,
               "client": "nagios"}
    out = capped(details)
    assert size(out) <= MAX_DETAILS_BYTES
    assert {k: out[k] for k in ("class", "severity", "client")} == {
        "class": "disk", "severity": "critical", "client": "nagios"}
    assert "custom_details" not in out
    assert out["_truncated"] is True
    assert out["original_bytes"] == size(details)
    assert out["limit_bytes"] == MAX_DETAILS_BYTES
    assert out["omitted"] == ["custom_details"]
    assert out["preview"].startswith('{"custom_details": {"blob": "xxx')
    assert len(out["preview"]) == PREVIEW_CHARS


def test_multibyte_text_stays_within_the_limit():
    details = {"labels": {"a": "\u00e9" * 1000}, "annotations": {"d": "\U0001f600" * 40_000}}
    out = capped(details)
    assert size(out) <= MAX_DETAILS_BYTES
    assert out["labels"] == details["labels"]
    assert out["omitted"] == ["annotations"]


def test_several_large_entries_are_all_cut_when_none_fits():
    details = {"a": "x" * 70_000, "b": "y" * 70_000}
    out = capped(details, limit=MAX_DETAILS_BYTES)
    assert out["omitted"] == ["a", "b"]
    assert size(out) <= MAX_DETAILS_BYTES
