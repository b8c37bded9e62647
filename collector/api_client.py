"""The command line's HTTP client for the collector's API, shared by `regie ticket`,
`regie change`, `regie maintenance` and `regie vendor-case`.

The collector is `--url`, else `$REGIE_URL`, else the installation's `[cli] url`; the token is
found as collector/ticket_cli.py's `_token` says. Errors are two kinds, which the commands map
to their exit statuses: `ApiError` (the collector cannot be reached or failed: 1) and the
caller's `refused` class (bad input, a 4xx, or an installation or token the user must fix:
2 for the newer commands; `regie ticket` passes `ApiError` and keeps 1 for both).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from regie.inputs import url_problem


class ApiError(Exception):
    """The collector could not be reached, or failed (5xx)."""


class Refused(Exception):
    """Bad input, or the collector's 4xx: exit status 2."""


def request(args: argparse.Namespace, method: str, path: str,
            body: dict[str, Any] | None = None, *, refused: type[Exception] = Refused,
            text: bool = False) -> Any:
    """The JSON answer (or, with `text`, the body as text) of `method path` with `body`."""
    from collector import ticket_cli

    try:   # the installation and the token: the user's to fix
        base = (args.url or os.environ.get("REGIE_URL")
                or ticket_cli._installation(args).api_url).rstrip("/")
        token = ticket_cli._token(args)
    except ApiError as exc:
        raise refused(str(exc)) from None
    if problem := url_problem(base):
        raise refused(f"the collector URL {problem}")
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    call = urllib.request.Request(  # noqa: S310 (scheme checked above)
        base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=30) as response:  # noqa: S310 (operator URL)
            answer = response.read()
    except urllib.error.HTTPError as exc:
        try:
            reason = for_terminal(json.loads(exc.read()).get("error", exc.reason))
        except (ValueError, AttributeError):
            reason = exc.reason
        error = ApiError if exc.code >= 500 else refused
        raise error(f"{method} {path.split('?')[0]}: {exc.code} {reason}") from None
    except urllib.error.URLError as exc:
        raise ApiError(f"cannot reach the collector at {base}: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        # After the request was sent: no answer in time, the connection closed before or
        # during the answer (a collector restarting), or an answer that is not HTTP.
        said = (getattr(exc, "strerror", None) or " ".join(str(exc).split())[:120]
                or type(exc).__name__)
        if isinstance(exc, http.client.BadStatusLine) and not isinstance(exc, OSError):
            said = f"not an HTTP answer ({said!r})"
        raise ApiError(f"no answer from the collector at {base}: {said}") from None
    try:
        value = answer.decode() if text else json.loads(answer)
    except ValueError:   # not UTF-8 or not JSON: not the collector's API at that address
        raise ApiError(f"{method} {path.split('?')[0]}: the answer of {base} is not the "
                       f"collector's (not JSON)") from None
    return value if text or getattr(args, "json", False) else for_terminal(value)


# Shown as blocks of lines (a ticket's description, a change's plans): their line breaks kept.
_BLOCKS = frozenset({"description", "implementation_plan", "rollback_plan", "risk_assessment"})
# What a terminal acts on instead of showing: C0 and C1 controls and DEL (escape sequences set
# titles, move the cursor, erase lines), line and paragraph separators, and the bidirectional
# overrides and isolates that reorder what follows them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029"
                                  "\u202a-\u202e\u2066-\u2069]")


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(value: Any, key: str | None = None) -> Any:
    """An answer as the commands print it in tables and lines: every text's control
    characters written out as escapes (`\\x1b`), a line break too except in a block of lines.
    Text in an answer comes from whoever sent it (an alert's summary and host, a vendor case's
    update): as it was, an ingest token could write rows into `regie ticket list` or
    escape sequences into the operator's terminal. `--json` prints the answer unchanged."""
    if isinstance(value, str):
        pattern = _CONTROL_BUT_NEWLINE if key in _BLOCKS else _CONTROL
        return pattern.sub(_escaped, value)
    if isinstance(value, dict):
        return {k: for_terminal(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [for_terminal(v, key) for v in value]
    return value


def run(prog: str, dispatch: Callable[[argparse.Namespace], Any],
        args: argparse.Namespace) -> tuple[int, Any]:
    """`(0, dispatch(args))`, or the exit status after printing on one line why not: 2 for a
    refusal, 1 for a collector that cannot be reached or failed."""
    try:
        return 0, dispatch(args)
    except Refused as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2, None
    except ApiError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1, None
