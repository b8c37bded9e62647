"""Request bytes -> a JSON value every backend can store, or `BadPayload` naming the field.

The one decoder behind every endpoint that takes a body (`collector.app.read_json`). It refuses,
with the JSON path of the offending value, everything that would otherwise fail only later,
inside the database, and so fail a whole group commit of other senders' alerts with it:

- nesting deeper than `MAX_DEPTH`, found by a linear scan *before* `json.loads` (whose
  recursion would otherwise end in RecursionError after ~1,000 levels);
- integer literals longer than `MAX_INT_DIGITS` (Python refuses over 4,300 digits, and no
  field needs more than a 64-bit value);
- NaN, Infinity and numbers that overflow to infinity (not JSON; PostgreSQL's JSON types
  refuse them, SQLite would store them: the backends must agree);
- lone UTF-16 surrogates (`"\\ud800"`: no UTF-8 encoding exists, so no database can store
  them) and NUL (PostgreSQL cannot store it in text or JSON), in values and keys alike.

Pure: bytes in, value out.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from collector.payloads.fields import BadPayload

# Deep enough for any real payload (Alertmanager and inventory documents nest < 10 levels,
# PagerDuty custom_details a few more), shallow enough to keep every walk cheap.
MAX_DEPTH = 64
# Digits (sign included) of an integer literal; 64-bit values have at most 20.
MAX_INT_DIGITS = 64
# A path longer than this is cut in error messages.
_PATH_KEY_CHARS = 64

# A JSON string, escapes included; removing strings leaves only structure, whose brackets the
# depth scan counts. An unterminated string runs to the end of the text (json.loads refuses
# it later): were it a failed match, every quote after it would start another scan to the
# end, quadratic time for a body of escaped quotes. Possessive: no backtracking either.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# The same for the raw bytes: every byte but the four brackets, deleted by bytes.translate (a
# table lookup a byte, 5x cheaper than the regex); in UTF-8 no byte of a multi-byte character
# is ASCII, so the brackets left are exactly the text's.
_NOT_BRACKET_BYTES = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP_BYTES = {ord(k): v for k, v in _DEPTH_STEP.items()}
# What no database stores: NUL and the surrogate code points (only lone ones survive
# json.loads, which joins escaped pairs into one character).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The escapes that can produce them (\u0000, \ud800-\udfff); Go escapes <, > and & as
# \u003c..., so a plain "\u" would send most Alertmanager bodies through the walk.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class _Refused:
    """A number json.loads read that no field may hold; the walk reports it with its path."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def decode(raw: bytes) -> Any:
    """The body as a JSON value; `BadPayload` with the field's path when it is not acceptable."""
    try:
        # RFC 8259: JSON between systems is UTF-8 (json.loads alone would guess UTF-16/32).
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("body: not UTF-8") from None
    # Cheapest first: the brackets' depth with strings left in (an upper bound: brackets
    # inside strings are rare), when there are enough brackets to reach it; only a body that
    # may be too deep is scanned with its strings taken out.
    brackets = raw.translate(None, _NOT_BRACKET_BYTES)
    if (len(brackets) > MAX_DEPTH
            and max(0, max(accumulate(map(_DEPTH_STEP_BYTES.__getitem__, brackets)),
                           default=0)) > MAX_DEPTH
            and nesting_depth(text) > MAX_DEPTH):
        raise BadPayload(f"body: nested deeper than {MAX_DEPTH} levels")
    refused = False

    def parse_int(literal: str) -> int | _Refused:
        nonlocal refused
        if len(literal) > MAX_INT_DIGITS:
            refused = True
            return _Refused(f"integer longer than {MAX_INT_DIGITS} digits")
        return int(literal)

    def parse_float(literal: str) -> float | _Refused:
        nonlocal refused
        value = float(literal)
        if not math.isfinite(value):
            refused = True
            return _Refused(f"number {literal[:40]} is out of range")
        return value

    def parse_constant(name: str) -> _Refused:
        nonlocal refused
        refused = True
        return _Refused(f"{name} is not a JSON number")

    try:
        # The hooks cost a call per number literal (under a microsecond), little next to the
        # strings that make most bodies.
        value = json.loads(text, parse_int=parse_int, parse_float=parse_float,
                           parse_constant=parse_constant)
    except json.JSONDecodeError as exc:
        raise BadPayload(f"body: invalid JSON: {exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # whatever the scan above did not foresee
        raise BadPayload(f"body: invalid JSON: {type(exc).__name__}") from None
    # Lone surrogates and NUL can only come from \u escapes (raw ones are not UTF-8 or not
    # valid JSON): most bodies have none and skip the walk.
    if refused or _UNSTORABLE_ESCAPE.search(text):
        _check(value)
    return value


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, in linear time and without recursion
    (about 0.1 s per MiB at worst)."""
    return _depth(_NOT_BRACKET.sub("", _STRING.sub("", text)))


def _depth(brackets: str) -> int:
    return max(0, max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0))


def _check(root: Any) -> None:
    """Walk the value (depth already bounded) and refuse the first unstorable item found.

    Only strings and refused numbers are looked at, and a path is built only for containers
    and for the item refused: a body of millions of small numbers costs one type test each."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        value, path = stack.pop()
        if type(value) is dict:
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    _check_string(key, _child(path, key), key=True)
                kind = type(item)
                if kind is dict or kind is list:
                    stack.append((item, _child(path, key)))
                elif kind is str or kind is _Refused:
                    _check_item(item, path, key)
        elif type(value) is list:
            for i, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    stack.append((item, f"{path or 'body'}[{i}]"))
                elif kind is str or kind is _Refused:
                    _check_item(item, path, i)
        else:  # a bare scalar body
            _check_item(value, "", None)


def _child(path: str, key: str | int | None) -> str:
    if key is None:
        return path or "body"
    if isinstance(key, int):
        return f"{path or 'body'}[{key}]"
    return f"{path}.{_label(key)}" if path else _label(key)


def _check_item(item: Any, path: str, key: str | int | None) -> None:
    if isinstance(item, _Refused):
        raise BadPayload(f"{_child(path, key)}: {item.reason}")
    if isinstance(item, str) and _UNSTORABLE.search(item):
        _check_string(item, _child(path, key))


def _check_string(value: str, path: str, *, key: bool = False) -> None:
    found = _UNSTORABLE.search(value)
    if found is None:
        return
    where = f"{path} (the key)" if key else path
    if found.group() == "\x00":
        raise BadPayload(f"{where}: must not contain NUL characters (\\u0000)")
    raise BadPayload(f"{where}: contains a lone surrogate (\\u{ord(found.group()):04x})")


def _label(key: str) -> str:
    """A key as it appears in a path: unstorable characters escaped, long keys cut."""
    shown = _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)
    return shown if len(shown) <= _PATH_KEY_CHARS else shown[:_PATH_KEY_CHARS] + "..."
