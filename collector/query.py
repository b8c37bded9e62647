"""Query and path parameters: declared once per endpoint, parsed by its handler, and described
in the OpenAPI document from the same declaration.

A handler declares its parameters as a `Query` of typed parameters and calls
`QUERY.parse(request.query)`; `collector/openapi.py` renders the same objects with
`QUERY.openapi()`. The document cannot promise a rule the parser does not keep, nor the other
way round. Every refusal is a BadPayload (400) that names the parameter.

Rules every parameter shares:
- an unknown parameter, or a single-valued one given twice, is refused: a typo must not widen a
  query silently, and "which of the two counts" is no question a client should have to ask;
- numbers are ASCII decimal digits: `str.isdigit()` also accepts "²" and "٣", which `int()`
  then refuses or reads as another number;
- times are RFC 3339 with their offset, within years `YEARS`, so that converting them to UTC
  and stepping through a schedule from them cannot leave Python's datetime range;
- text never holds NUL (PostgreSQL cannot store or compare it); blank text means "absent".

Path parameters (`Path`, at the end) follow the same rules: routes admit any one segment, and
the declaration decides, so a refusal says which parameter and why instead of aiohttp's bare
"Not Found". Their percent-encoding is read strictly as UTF-8: aiohttp leaves a sequence that
is not UTF-8 (`%ED%A0%80`, a lone surrogate's bytes; `%FF`) as literal text, which would make
two paths name one value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote

from collector.payloads.fields import BadPayload

# Ids are INTEGER columns: 32 bits on PostgreSQL, where a larger number cannot even be compared
# with one (asyncpg refuses to send it). No row has a larger id on any backend.
MAX_ID = 2_147_483_647
# The longest digit string read as a number: far beyond any bound here, and far below
# Python's int() limit on digits (4,300), past which int() raises instead of answering.
_MAX_DIGITS = 32

NUL_FREE = "^[^\\u0000]*$"

# The years a time may be written in, and the pattern that says so in the document (kept
# equal by tests/collector/test_query.py).
YEARS = (2000, 8999)
YEAR_PATTERN = "^[2-8][0-9]{3}-"
# RFC 3339 date-time (section 5.6); the offset is required, as in request bodies.
_RFC3339 = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})"
                      r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")

# A horizon: days, weeks or months up to 9999, years up to 999 (so that its end is a date).
HORIZON_PATTERN = "^([0-9]{1,4}[dwm]|[0-9]{1,3}y)$"
_HORIZON = re.compile(HORIZON_PATTERN)


class Param(Protocol):
    name: str
    repeatable: bool

    @property
    def default(self) -> Any: ...

    def parse(self, text: str) -> Any: ...

    def schema(self) -> dict[str, Any]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Integer:
    """A whole number within [minimum, maximum]."""

    name: str
    minimum: int
    maximum: int
    default: int | None = None
    description: str = ""
    repeatable = False

    def parse(self, text: str) -> int:
        if (text.isascii() and text.isdecimal() and len(text) <= _MAX_DIGITS
                and self.minimum <= int(text) <= self.maximum):
            return int(text)
        raise BadPayload(f"{self.name}: must be a whole number from {self.minimum} to "
                         f"{self.maximum}")

    def schema(self) -> dict[str, Any]:
        return _with_default({"type": "integer", "minimum": self.minimum,
                              "maximum": self.maximum}, self.default)

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """One of a fixed set of words."""

    name: str
    choices: tuple[str, ...]
    default: str | None = None
    description: str = ""
    repeatable = False

    def parse(self, text: str) -> str:
        if text not in self.choices:
            raise BadPayload(f"{self.name}: must be one of {', '.join(self.choices)}")
        return text

    def schema(self) -> dict[str, Any]:
        return _with_default({"type": "string", "enum": list(self.choices)}, self.default)

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """true or false."""

    name: str
    default: bool = False
    description: str = ""
    repeatable = False

    def parse(self, text: str) -> bool:
        if text not in ("true", "false"):
            raise BadPayload(f"{self.name}: must be true or false")
        return text == "true"

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": ["true", "false"],
                "default": "true" if self.default else "false"}

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceList:
    """Comma-separated words of a fixed set; empty items are skipped, and the parameter may be
    repeated (its lists are joined). Nothing chosen means the default."""

    name: str
    choices: tuple[str, ...]
    default: tuple[str, ...] = ()
    description: str = ""
    repeatable = True

    def parse(self, text: str) -> tuple[str, ...]:
        words = tuple(word for word in text.split(",") if word)
        for word in words:
            if word not in self.choices:
                raise BadPayload(f"{self.name}: must be one of {', '.join(self.choices)} "
                                 f"(comma-separated)")
        return words

    def schema(self) -> dict[str, Any]:
        word = f"({'|'.join(re.escape(c) for c in self.choices)})?"
        return {"type": "string", "pattern": f"^{word}(,{word})*$"}

    def describe(self) -> str:
        default = f" (default {','.join(self.default)})" if self.default else ""
        return (self.description or f"comma-separated: {', '.join(self.choices)}") + default


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """Free text up to `max_length` characters; blank means absent."""

    name: str
    max_length: int = 255
    description: str = ""
    default = None
    repeatable = False

    def parse(self, text: str) -> str | None:
        if len(text) > self.max_length:
            raise BadPayload(f"{self.name}: longer than {self.max_length} characters")
        if "\x00" in text:
            raise BadPayload(f"{self.name}: must not contain NUL characters")
        return text if text.strip() else None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length, "pattern": NUL_FREE}

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True, slots=True, kw_only=True)
class Time:
    """An RFC 3339 date-time with its offset, returned in UTC."""

    name: str
    description: str = ""
    default = None
    repeatable = False

    def parse(self, text: str) -> datetime:
        match = _RFC3339.fullmatch(text)
        if match is None:
            raise BadPayload(f"{self.name}: not an RFC 3339 time such as 2026-03-29T01:30:00Z")
        day, clock, fraction, offset = match.groups()
        if not YEARS[0] <= int(day[:4]) <= YEARS[1]:
            raise BadPayload(f"{self.name}: the year must be from {YEARS[0]} to {YEARS[1]}")
        # Python reads at most microseconds; RFC 3339 allows any number of digits.
        fraction = (fraction or "")[:7]
        offset = "+00:00" if offset in ("Z", "z") else offset
        try:
            moment = datetime.fromisoformat(f"{day}T{clock}{fraction}{offset}")
        except ValueError:  # 2026-02-30, 25:00:00, an offset of +24:00 ...
            raise BadPayload(f"{self.name}: {text!r} is not a valid time") from None
        return moment.astimezone(UTC)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN}

    def describe(self) -> str:
        return (f"{self.description} (RFC 3339 with its offset, e.g. 2026-03-29T01:30:00Z; "
                f"years {YEARS[0]}-{YEARS[1]})").lstrip()


@dataclass(frozen=True, slots=True, kw_only=True)
class Horizon:
    """How far ahead a report looks: 90d, 6w, 8m or 1y."""

    name: str
    default: str
    description: str = ""
    repeatable = False

    def parse(self, text: str) -> str:
        if _HORIZON.fullmatch(text) is None:
            raise BadPayload(f"{self.name}: not a horizon such as 90d, 6w, 8m or 1y "
                             f"(up to 9999 days, weeks or months, or 999 years)")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": HORIZON_PATTERN, "default": self.default}

    def describe(self) -> str:
        return self.description or "a horizon: days, weeks, months or years, e.g. 90d, 6w, 8m, 1y"


class Query:
    """The query parameters one endpoint accepts."""

    __slots__ = ("params",)

    def __init__(self, *params: Param) -> None:
        self.params = params

    def parse(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Every declared parameter's value (its default when absent), or BadPayload.

        `query` is aiohttp's `request.query` (a multidict: a key given twice appears twice).
        """
        known = {param.name: param for param in self.params}
        for name in query:
            if name not in known:
                raise BadPayload(f"{name[:60]}: unknown query parameter")
        values: dict[str, Any] = {}
        for param in self.params:
            given = query.getall(param.name, [])  # type: ignore[attr-defined]
            if len(given) > 1 and not param.repeatable:
                raise BadPayload(f"{param.name}: given more than once")
            if not given:
                values[param.name] = param.default
            elif param.repeatable:
                values[param.name] = (tuple(v for text in given for v in param.parse(text))
                                      or param.default)
            else:
                values[param.name] = param.parse(given[0])
        return values

    def openapi(self) -> list[dict[str, Any]]:
        """The OpenAPI parameter objects for these parameters."""
        out = []
        for param in self.params:
            item: dict[str, Any] = {"name": param.name, "in": "query", "schema": param.schema()}
            if description := param.describe():
                item["description"] = description
            out.append(item)
        return out


def _with_default(schema: dict[str, Any], default: object) -> dict[str, Any]:
    return schema if default is None else {**schema, "default": default}


# -- path parameters ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PathId:
    """An id: ASCII digits (else 400). A number no row can have (0, past MAX_ID) reads as None,
    which the handler answers 404 like any unused id, without asking the database: PostgreSQL
    cannot even compare an INTEGER with a number past MAX_ID."""

    name: str = "id"

    def parse(self, text: str) -> int | None:
        if not (text.isascii() and text.isdecimal() and len(text) <= _MAX_DIGITS):
            raise BadPayload(f"{self.name}: must be a whole number (ASCII digits 0-9)")
        value = int(text)
        return value if 1 <= value <= MAX_ID else None

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@dataclass(frozen=True, slots=True, kw_only=True)
class PathText:
    """A name as stored (a host's): 1 to `max_length` characters, no NUL, no '/'."""

    name: str
    max_length: int = 255

    def parse(self, text: str) -> str:
        if len(text) > self.max_length:
            raise BadPayload(f"{self.name}: longer than {self.max_length} characters")
        if "\x00" in text:
            raise BadPayload(f"{self.name}: must not contain NUL characters")
        return text

    def schema(self) -> dict[str, Any]:
        # '/' (%2F) reaches the handler too, but a client cannot rely on every HTTP library
        # keeping it encoded; the document promises only what every client can send.
        return {"type": "string", "pattern": f"^[^/\\u0000]{{1,{self.max_length}}}$"}


@dataclass(frozen=True, slots=True, kw_only=True)
class PathWord:
    """A word of `pattern` (a full match), e.g. a signed link's token."""

    name: str
    pattern: str
    rule: str

    def parse(self, text: str) -> str:
        if re.fullmatch(self.pattern, text) is None:
            raise BadPayload(f"{self.name}: {self.rule}")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{self.pattern}$"}


class Path:
    """The path parameters one route has (each route segment `{name:[^/]+}`)."""

    __slots__ = ("params",)

    def __init__(self, *params: PathId | PathText | PathWord) -> None:
        self.params = params

    def parse(self, request: Any) -> dict[str, Any]:
        """Every parameter's value, or BadPayload. `request` is aiohttp's request."""
        raw = _raw_segments(request)
        values: dict[str, Any] = {}
        for param in self.params:
            text = request.match_info[param.name]
            if param.name in raw:
                try:
                    text = unquote(raw[param.name], encoding="utf-8", errors="strict")
                except UnicodeDecodeError:
                    raise BadPayload(f"{param.name}: percent-encoded bytes that are not UTF-8 "
                                     f"text") from None
            values[param.name] = param.parse(text)
        return values

    def openapi(self) -> list[dict[str, Any]]:
        return [{"name": param.name, "in": "path", "required": True, "schema": param.schema()}
                for param in self.params]


def _raw_segments(request: Any) -> dict[str, str]:
    """{parameter: its segment as sent} from the route's pattern and the raw path: the segment
    in the same place (a parameter is one segment; an encoded '/' stays %2F in the raw path)."""
    resource = request.match_info.route.resource
    pattern = resource.canonical.split("/") if resource is not None else []
    sent = request.rel_url.raw_path.split("/")
    if len(pattern) != len(sent):
        return {}
    return {part[1:-1]: value for part, value in zip(pattern, sent, strict=True)
            if part.startswith("{") and part.endswith("}")}
