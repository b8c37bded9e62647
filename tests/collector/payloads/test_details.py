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


def test_the_string_bound_is_never_below_the_size():
    """The shortcut keeps details unserialised only when they surely fit."""
    from collector.payloads.details import string_bound

    nasty = "\"\\\n\u0001\u00e9\u20ac\U0001f600<>&"
    for n in (0, 1, 10, 200):
        labels = {f"{nasty}{i}": nasty * i for i in range(n)}
        annotations = {"summary": nasty * n, "": ""}
        details = {"labels": labels, "annotations": annotations, "generator_url": nasty,
                   "starts_at": "2026-11-29T19:50:08.829000+00:00"}
        assert string_bound(labels, annotations, nasty) >= size(details)


def test_details_that_only_the_bound_would_refuse_are_still_measured():
    """A bound over the limit means "measure", not "cut": these fit once measured."""
    labels = {"a": "x" * 20_000}
    details = {"labels": labels}
    assert capped(details, strings=10 * MAX_DETAILS_BYTES) == details
