"""The one JSON decoder: what every backend can store, or a refusal naming the field."""

from __future__ import annotations

import json
import sys

import pytest

from collector.payloads.fields import BadPayload
from collector.payloads.json_body import MAX_DEPTH, MAX_INT_DIGITS, decode, nesting_depth


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000, f"body: nested deeper than {MAX_DEPTH} levels"),
        (b"{\"a\":" * 5_000 + b"1" + b"}" * 5_000, f"body: nested deeper than {MAX_DEPTH}"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "body: nested deeper than"),
        (b'{"x": ' + b"7" * 4_301 + b"}", f"x: integer longer than {MAX_INT_DIGITS} digits"),
        (b'{"x": -' + b"7" * MAX_INT_DIGITS + b"}", "x: integer longer than"),
        (b'{"a": {"b": NaN}}', "a.b: NaN is not a JSON number"),
        (b'{"a": [1, Infinity]}', "a[1]: Infinity is not a JSON number"),
        (b'{"a": -Infinity}', "a: -Infinity is not a JSON number"),
        (b'{"a": 1e999}', "a: number 1e999 is out of range"),
        (b'{"annotations": {"summary": "\\ud800"}}',
         "annotations.summary: contains a lone surrogate (\\ud800)"),
        (b'{"a": "ok \\udfff"}', "a: contains a lone surrogate (\\udfff)"),
        (b'{"a": "\\ude00\\ud83d"}', "a: contains a lone surrogate (\\ude00)"),  # wrong order
        (b'{"a": {"\\ud800": 1}}', "a.\\ud800 (the key): contains a lone surrogate"),
        (b'{"a": {"k\\u0000": 1}}', "a.k\\u0000 (the key): must not contain NUL"),
        (b'[{"x": "a\\u0000b"}]', "body[0].x: must not contain NUL characters (\\u0000)"),
        (b'"\\ud800"', "body: contains a lone surrogate"),
        (b"\xff\xfe", "body: not UTF-8"),
        (b'"\xed\xa0\x80"', "body: not UTF-8"),  # a surrogate encoded raw is not UTF-8
        (b'{"a": "x\x00"}', "body: invalid JSON: Invalid control character"),
        (b"{not json", "body: invalid JSON"),
    ],
)
def test_refused_with_the_path(raw, reason):
    with pytest.raises(BadPayload) as refused:
        decode(raw)
    assert str(refused.value).startswith(reason), str(refused.value)


@pytest.mark.parametrize(
    "value",
    [
        {"emoji": "\U0001f600", "escaped": "\u003c\u003e&", "accent": "caf\u00e9"},
        {"deep": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))},
        {"brackets in strings": "[" * 10_000 + "{" * 10_000, "quote": 'a\\"[[[['},
        {"n": -(10 ** (MAX_INT_DIGITS - 2)), "f": 1.5e300, "neg": -0.0, "t": True, "z": None},
        [],
        "plain",
    ],
)
def test_storable_values_pass_unchanged(value):
    for ensure_ascii in (True, False):  # \\u escapes and raw UTF-8 alike
        assert decode(json.dumps(value, ensure_ascii=ensure_ascii).encode()) == value


def test_depth_scan_counts_only_structure():
    assert nesting_depth('{"a": "[[[[", "b": [[{}]]}') == 4
    assert nesting_depth('"\\"[[["') == 0
    assert nesting_depth("") == 0


def test_depth_scan_is_not_recursive():
    """A million brackets: refused by the scan, nowhere near the interpreter's recursion limit."""
    raw = b"[" * 1_000_000
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)  # json.loads would raise RecursionError at once
    try:
        with pytest.raises(BadPayload, match="nested deeper"):
            decode(raw)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("tail", [b"", b"\\"])
def test_an_unterminated_string_of_escaped_quotes_is_one_string(tail):
    """Each `\\"` holds a quote; had the scan failed on the unterminated string and started
    again at every quote, a body of them would cost quadratic time (minutes for 8 MiB)."""
    text = '[' * (MAX_DEPTH + 1) + '"' + '\\"' * 50_000 + tail.decode()
    assert nesting_depth(text) == MAX_DEPTH + 1
    with pytest.raises(BadPayload, match="nested deeper"):
        decode(text.encode())
    # The string runs to the end: brackets after its start are not structure.
    assert nesting_depth('["' + '\\"' * 10 + '[[[[') == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" + b"0," * 1000 + b'"\\ud800"]', "body[1000]: contains a lone surrogate"),
        (b'{"a": [{"b": {"c": [0, 1, {"d": "\\u0000"}]}}]}',
         "a[0].b.c[2].d: must not contain NUL"),
        (b'[' + b'1,' * 100 + b'1' * 70 + b']', "body[100]: integer longer than 64 digits"),
        (b'{"x": [2e308]}', "x[0]: number 2e308 is out of range"),
        (b'{"x": 1E+400}', "x: number 1E+400 is out of range"),
    ],
)
def test_paths_deep_in_large_bodies(raw, reason):
    with pytest.raises(BadPayload) as refused:
        decode(raw)
    assert str(refused.value).startswith(reason), str(refused.value)


def test_long_digit_runs_inside_strings_are_only_strings():
    assert decode(b'{"serial": "' + b"7" * 200 + b'", "n": 1e5}') == {"serial": "7" * 200,
                                                                      "n": 100000.0}
