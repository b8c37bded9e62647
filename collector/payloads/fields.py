"""Small typed readers for JSON bodies; every failure names the field path."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)

_STR_ONLY = frozenset({str})
# RFC 3339 in UTC with "Z", as Go formats time.Time (at most nanoseconds).
_GO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z")


class BadPayload(ValueError):
    """The body is not acceptable; the message says where and why."""


def mapping(value: Any, path: str) -> Mapping[str, Any]:
    # A decoded body's objects are dicts: tested first, the ABC check costs 10x more.
    if type(value) is not dict and not isinstance(value, Mapping):
        raise BadPayload(f"{path}: must be an object")
    return value


def no_unknown(value: Mapping[str, Any], allowed: set[str], path: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        where = f"{path}." if path else ""
        raise BadPayload(f"{where}{unknown[0]}: unknown field")


def string(value: Any, path: str, *, max_length: int, required: bool = True,
           allow_empty: bool = False) -> str | None:
    if value is None:
        if required:
            raise BadPayload(f"{path}: is required")
        return None
    if not isinstance(value, str):
        raise BadPayload(f"{path}: must be a string")
    if not value.strip() and not allow_empty:
        if required:
            raise BadPayload(f"{path}: must not be empty")
        return None
    if len(value) > max_length:
        raise BadPayload(f"{path}: longer than {max_length} characters")
    if "\x00" in value:
        raise BadPayload(f"{path}: must not contain NUL characters")
    return value


def choice(value: Any, kind: type[E], path: str, *, default: E | None = None) -> E:
    if value is None and default is not None:
        return default
    try:
        return kind(value)
    except (ValueError, TypeError):
        choices = ", ".join(repr(m.value) for m in kind)
        raise BadPayload(f"{path}: must be one of {choices}") from None


def plain_string_map(value: Any, *, max_items: int = 200, max_length: int = 4096) -> bool:
    """Whether `value` is a decoded JSON object that `string_map` takes as it is: the same
    checks in C-coded passes over the map, for the label maps of every alert. A caller that
    owns the decoded body may keep `value` itself (no copy); anything this does not accept
    goes through `string_map`, which cuts long values or names the first offending entry."""
    if type(value) is not dict or len(value) > max_items:
        return False
    values = value.values()
    return (set(map(type, values)) <= _STR_ONLY
            and max(map(len, values), default=0) <= max_length
            and max(map(len, value), default=0) <= 256)


def cut(text: str, max_length: int) -> str:
    """`text` within `max_length` characters: when longer, its start and a mark saying how
    long it was (`... [cut from 10,234 characters]`). The same text is always cut the same
    way, so a cut label still compares equal to itself (dedup, inhibition)."""
    if len(text) <= max_length:
        return text
    mark = f" … [cut from {len(text):,} characters]"
    return text[:max_length - len(mark)] + mark


def string_map(value: Any, path: str, *, max_items: int = 200,
               max_length: int = 4096) -> dict[str, str]:
    """A map of names to strings (an alert's labels or annotations). A value over
    `max_length` characters is cut (`cut`), not refused: Alertmanager does not send a refused
    notification again, so refusing one long annotation would lose every alert of its group.
    What no alert of a real Alertmanager carries is refused: a value that is not a string,
    a name over 256 characters, more than `max_items` entries."""
    if plain_string_map(value, max_items=max_items, max_length=max_length):
        return dict(value)
    items = mapping(value, path)
    if len(items) > max_items:
        raise BadPayload(f"{path}: more than {max_items} entries")
    out = {}
    for key, item in items.items():
        if not isinstance(item, str):
            raise BadPayload(f"{path}.{key}: must be a string")
        if len(key) > 256:
            raise BadPayload(f"{path}.{key[:40]}...: name longer than 256 characters")
        out[key] = cut(item, max_length)
    return out


def go_utc(value: Any) -> datetime | None:
    """`value` read when it is what Alertmanager and Prometheus write (UTC, "Z", up to
    nanoseconds) and not Go's zero time, else None (then `timestamp` reads it, or refuses it
    with its reason). Python reads that form as it is, cutting the digits past microseconds
    as the general path does, and it is UTC already."""
    if type(value) is str and _GO_UTC.fullmatch(value) and not value.startswith("0001-"):
        try:
            return datetime.fromisoformat(value)
        except ValueError:  # an impossible date: the general path names it
            return None
    return None


def timestamp(value: Any, path: str, *, default: datetime) -> datetime:
    """RFC 3339; Go's zero time (0001-01-01...) and absence mean `default`."""
    if value is None or value == "" or (isinstance(value, str) and value.startswith("0001-")):
        return default
    if (parsed := go_utc(value)) is not None:
        return parsed
    if not isinstance(value, str):
        raise BadPayload(f"{path}: must be an RFC 3339 timestamp string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Go emits nanoseconds; Python reads at most microseconds.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[:min(digits, 6)]}{tail[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadPayload(f"{path}: not an RFC 3339 timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise BadPayload(f"{path}: needs a time zone (Z or +hh:mm)")
    try:
        # 9999-12-31T23:59:59-01:00 is a valid timestamp whose UTC is past year 9999.
        return parsed.astimezone(UTC)
    except OverflowError:
        raise BadPayload(f"{path}: out of range once converted to UTC "
                         f"(years 0001 to 9999)") from None
