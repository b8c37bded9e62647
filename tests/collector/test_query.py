"""collector/query.py: typed query parameters, and their OpenAPI schemas saying the same.

Pure: the parsers take text and answer a value or BadPayload; the schema agreement is checked
with jsonschema-rs (what schemathesis validates with) on the same texts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import jsonschema_rs
import pytest
from multidict import MultiDict

from collector.payloads.fields import BadPayload
from collector.query import (
    MAX_ID,
    YEAR_PATTERN,
    YEARS,
    Choice,
    ChoiceList,
    Flag,
    Horizon,
    Integer,
    PathId,
    PathText,
    PathWord,
    Query,
    Text,
    Time,
)

LIMIT = Integer(name="limit", minimum=1, maximum=500, default=100)
ID = Integer(name="before", minimum=0, maximum=MAX_ID)
STATUS = ChoiceList(name="status", choices=("open", "closed"), default=("open",))
AT = Time(name="at")
WITHIN = Horizon(name="within", default="8m")
HOST = Text(name="host", max_length=10)
ROLE = Choice(name="role", choices=("primary", "secondary"))
FLAG = Flag(name="include_attached")


@pytest.mark.parametrize(("param", "text", "value"), [
    (LIMIT, "1", 1), (LIMIT, "500", 500), (LIMIT, "007", 7),
    (ID, "0", 0), (ID, str(MAX_ID), MAX_ID),
    (STATUS, "open,closed", ("open", "closed")), (STATUS, "open,,", ("open",)),
    (AT, "2026-03-29T01:30:00Z", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    (AT, "2026-03-29T03:30:00.1234567+02:00",
     datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)),
    (AT, "8999-12-31T23:59:59-23:59", datetime(9000, 1, 1, 23, 58, 59, tzinfo=UTC)),
    (WITHIN, "90d", "90d"), (WITHIN, "9999m", "9999m"), (WITHIN, "999y", "999y"),
    (HOST, "web-1", "web-1"), (HOST, "   ", None), (HOST, "", None),
    (ROLE, "primary", "primary"), (FLAG, "true", True), (FLAG, "false", False),
])
def test_accepted(param, text, value):
    assert param.parse(text) == value
    assert _valid(param, text), "the document must allow what the parser accepts"


@pytest.mark.parametrize(("param", "text", "reason"), [
    # isdigit() is true for these; int() refuses "²" and reads "٣" as 3.
    (LIMIT, "²", "limit: must be a whole number from 1 to 500"),
    (LIMIT, "٣", "limit: must be a whole number"),
    (LIMIT, "0", "limit: must be a whole number"), (LIMIT, "501", "limit: must be"),
    (LIMIT, "-1", "limit: must be"), (LIMIT, "+1", "limit: must be"), (LIMIT, "", "limit:"),
    (LIMIT, " 1", "limit: must be"), (LIMIT, "9" * 5000, "limit: must be"),
    (ID, str(MAX_ID + 1), "before: must be a whole number from 0 to 2147483647"),
    (STATUS, "open,bogus", "status: must be one of open, closed"),
    (AT, "", "at: not an RFC 3339 time"), (AT, "2026-03-29", "at: not an RFC 3339 time"),
    (AT, "2026-03-29T01:30:00", "at: not an RFC 3339 time"),  # no offset
    (AT, "9999-12-31T00:00:00Z", "at: the year must be from 2000 to 8999"),
    (AT, "0001-01-01T00:00:00+14:00", "at: the year must be"),
    (AT, "2026-02-30T00:00:00Z", "at: '2026-02-30T00:00:00Z' is not a valid time"),
    (AT, "2026-01-01T00:00:00+24:00", "at: '2026-01-01T00:00:00+24:00' is not a valid time"),
    (AT, "\uff12\uff10\uff12\uff16-01-01T00:00:00Z", "at: not an RFC 3339 time"),  # fullwidth
    (WITHIN, "", "within: not a horizon"), (WITHIN, "1000y", "within: not a horizon"),
    (WITHIN, "8M", "within: not a horizon"), (WITHIN, " 8m", "within: not a horizon"),
    (WITHIN, "٨m", "within: not a horizon"),
    (HOST, "a\x00b", "host: must not contain NUL"), (HOST, "x" * 11, "host: longer than 10"),
    (ROLE, "boss", "role: must be one of primary, secondary"),
    (FLAG, "yes", "include_attached: must be true or false"),
])
def test_refused(param, text, reason):
    with pytest.raises(BadPayload) as refused:
        param.parse(text)
    assert str(refused.value).startswith(reason)
    # The document forbids it too, except where OpenAPI cannot say it: a number's text form
    # (leading zeros, spaces, other scripts' digits) and a valid-looking date that is not one.
    if not isinstance(param, Integer) and reason not in {"at: '2026-02-30T00:00:00Z' is not "
                                                         "a valid time"}:
        assert not _valid(param, text), text


def _valid(param, text: str) -> bool:
    schema = param.schema()
    value: object = text
    if schema["type"] == "integer":
        if not re.fullmatch("-?[0-9]+", text):
            return False
        value = int(text)
    return jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(value)


def test_year_pattern_is_the_year_range():
    for year in range(10_000):
        written = re.match(YEAR_PATTERN, f"{year:04d}-01-01T00:00:00Z") is not None
        assert written == (YEARS[0] <= year <= YEARS[1]), year


def test_query_defaults_unknown_and_repeated():
    query = Query(LIMIT, STATUS, HOST)
    assert query.parse(MultiDict()) == {"limit": 100, "status": ("open",), "host": None}
    assert query.parse(MultiDict([("status", "closed"), ("status", "open")]))["status"] == (
        "closed", "open")
    assert query.parse(MultiDict([("status", "")]))["status"] == ("open",)
    with pytest.raises(BadPayload, match=r"^colour: unknown query parameter$"):
        query.parse(MultiDict([("colour", "red")]))
    with pytest.raises(BadPayload, match=r"^limit: given more than once$"):
        query.parse(MultiDict([("limit", "1"), ("limit", "2")]))


def test_openapi_parameters():
    rendered = Query(LIMIT, WITHIN).openapi()
    assert rendered == [
        {"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
        {"name": "within", "in": "query",
         "schema": {"type": "string", "pattern": "^([0-9]{1,4}[dwm]|[0-9]{1,3}y)$",
                    "default": "8m"},
         "description": "a horizon: days, weeks, months or years, e.g. 90d, 6w, 8m, 1y"},
    ]


# Path parameters: the same declarations, the same agreement with the document. A PathId that
# reads as None is well formed but names no row (404); the document allows 1 to MAX_ID only.
PATH_ID = PathId()
HOST_NAME = PathText(name="name", max_length=10)
LINK = PathWord(name="token", pattern="[A-Za-z0-9_.-]{1,512}", rule="not a link token")


@pytest.mark.parametrize(("param", "text", "value"), [
    (PATH_ID, "1", 1), (PATH_ID, str(MAX_ID), MAX_ID), (PATH_ID, "007", 7),
    (HOST_NAME, "web-1", "web-1"), (HOST_NAME, "café", "café"), (HOST_NAME, "a\nb", "a\nb"),
    (LINK, "abc.DEF-_1", "abc.DEF-_1"),
])
def test_path_accepted(param, text, value):
    assert param.parse(text) == value
    assert _valid(param, text), "the document must allow what the parser accepts"


@pytest.mark.parametrize(("param", "text"), [
    (PATH_ID, "0"), (PATH_ID, str(MAX_ID + 1)), (PATH_ID, "9" * 32),
])
def test_path_ids_no_row_can_have(param, text):
    assert param.parse(text) is None
    assert not _valid(param, text)


@pytest.mark.parametrize(("param", "text", "reason"), [
    (PATH_ID, "٣", "id: must be a whole number (ASCII digits 0-9)"),
    (PATH_ID, "²", "id: must be a whole number (ASCII digits 0-9)"),
    (PATH_ID, "-1", "id: must be a whole number (ASCII digits 0-9)"),
    (PATH_ID, "9" * 33, "id: must be a whole number (ASCII digits 0-9)"),
    (HOST_NAME, "a\x00b", "name: must not contain NUL characters"),
    (HOST_NAME, "x" * 11, "name: longer than 10 characters"),
    (LINK, "a b", "token: not a link token"), (LINK, "x" * 513, "token: not a link token"),
])
def test_path_refused(param, text, reason):
    with pytest.raises(BadPayload) as refused:
        param.parse(text)
    assert str(refused.value) == reason
    assert not _valid(param, text), "the document must forbid what the parser refuses"
