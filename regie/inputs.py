"""What the commands and the API take from people before they use it: command-line arguments
that are text, times within the years the API reads, IANA time zones by name, and files
written in one rename. One place, so that `regie ticket`, `regie change`, `regie oncall`, the
configuration files and the API's change payloads refuse the same inputs with the same words
(commands: exit status 2) instead of a traceback."""

from __future__ import annotations

import functools
import urllib.parse
import zoneinfo
from datetime import date, datetime
from pathlib import Path

# The years a time may be written in on the command line: the API's (collector/query.py
# YEARS; tests/regie/test_cli_bad_input.py keeps them equal). Beyond them a time shifted to
# UTC, or the next shift of a rotation, leaves the calendar (year 9999).
YEARS = (2000, 8999)


def not_text(argv: list[str]) -> str | None:
    """The first argument that is not text, described; None when all are. On Linux an
    argument's bytes that are not UTF-8 reach Python as lone surrogates (PEP 383), which no
    request body, URL or database can carry."""
    for number, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            # The bytes as given: the undecodable ones as \xNN.
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return f"argument {number} ({shown[:60]}) is not UTF-8 text"
    return None


def year_problem(value: date | datetime) -> str | None:
    """Why `value` is outside YEARS (None when it is not)."""
    if YEARS[0] <= value.year <= YEARS[1]:
        return None
    return f"the year must be from {YEARS[0]} to {YEARS[1]}"


def day_argument(text: str) -> date:
    """argparse type of a day (YYYY-MM-DD) within YEARS: a report as of 9999-12-31 looks
    past its end of year (OverflowError) before it says anything."""
    import argparse

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not a date such as 2026-10-01"
                                         ) from None
    if problem := year_problem(day):
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return day


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA time zones this machine knows."""
    return frozenset(zoneinfo.available_timezones())


def zone_named(name: object) -> zoneinfo.ZoneInfo | None:
    """The time zone called `name`, or None when it names none this machine knows. Only
    known names reach ZoneInfo, which would otherwise look a name up as a file: a name too
    long for one raised OSError, not the ValueError of a bad name."""
    if not isinstance(name, str) or name not in time_zones():
        return None
    return zoneinfo.ZoneInfo(name)


def url_problem(url: str) -> str | None:
    """Why `url` is no http:// or https:// URL a request can be sent to (None when it is):
    a URL that only fails inside the HTTP client (a host that is not a name, '[::1', a port
    out of range, a space) raised ValueError or UnicodeError there, not an error message."""
    shown = url if len(url) <= 200 else f"{url[:200]}..."
    if not url.startswith(("http://", "https://")):
        return f"must start with http:// or https://, not {shown!r}"
    if any(c.isspace() or not c.isprintable() for c in url):
        return f"must not hold spaces or control characters: {shown!r}"
    if not url.isascii():   # HTTP's request line and Host header are ASCII
        return f"must be ASCII (a host name in its xn-- form, other characters %-encoded): " \
               f"{shown!r}"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port   # ValueError when it is not a number from 0 to 65535
        host = parts.hostname
        if host and ":" not in host:   # a name's labels: 1-63 characters each
            host.encode("idna")
    except (ValueError, UnicodeError) as exc:
        return f"is not a valid URL ({exc}): {shown!r}"
    if not host:
        return f"names no host: {shown!r}"
    if port == 0:
        return f"port 0 cannot be reached: {shown!r}"
    return None


def write_atomically(text: str, out: Path, *, newline: str | None = None) -> None:
    """Replace `out` with `text` in one rename: a reader never sees half a file. OSError when
    it cannot be written, also when `out` names no file (an empty path, a directory)."""
    if not out.name or out.is_dir():
        raise IsADirectoryError(21, "names a directory, not a file", str(out))
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline=newline) as handle:
        handle.write(text)
    tmp.replace(out)
