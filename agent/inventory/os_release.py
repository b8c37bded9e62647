"""The operating system as /etc/os-release describes it (os-release(5)).

The file is a list of shell-style assignments: a value may be in single quotes (literal) or
double quotes (where a backslash escapes $, ", \\ and `), or bare (a backslash escapes any
character). /usr/lib/os-release is the vendor's copy that /etc/os-release usually links to; it
is read when the /etc one is missing.
"""

from __future__ import annotations

import re

from agent.inventory.reading import Context, Reading

PATHS = ("/etc/os-release", "/usr/lib/os-release")

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOUBLE_QUOTED_ESCAPE = re.compile(r'\\([$"\\`])')
_BARE_ESCAPE = re.compile(r"\\(.)")


def unquote(value: str) -> str:
    """One os-release value as a POSIX shell would read it."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner if value[0] == "'" else _DOUBLE_QUOTED_ESCAPE.sub(r"\1", inner)
    if value[:1] in ("\"", "'"):  # an unbalanced quote: keep what is there rather than nothing
        return value[1:]
    return _BARE_ESCAPE.sub(r"\1", value)


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines -> {KEY: value}; comments, blank and malformed lines are skipped."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not _KEY.fullmatch(key):
            continue
        result[key] = unquote(value)
    return result


def read_os_release(ctx: Context) -> Reading:
    for name in PATHS:
        try:
            text = ctx.path(name).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        fields = parse_os_release(text)
        return Reading(fields, ({"source": "os-release", "raw": dict(fields)},))
    raise FileNotFoundError(f"neither {' nor '.join(PATHS)} exists")
