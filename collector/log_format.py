"""The collector's logging (`regie collector run`, `regie demo`): the one format every Regie
process writes (regie/log_format.py, shared with the agent), plus the collector's own quiet
libraries.

Requests aiohttp's HTTP parser refuses (raw bytes in the request line, a malformed head, a
`Content-Encoding` it cannot undo) are answered 400 before any of the collector's code runs,
and aiohttp logs each with a traceback at ERROR: anyone who can reach the port could fill the
log with them. `BadRequestDigest` turns them into one WARNING line per streak and a count at
most every `BAD_REQUEST_SUMMARY_SECONDS`; every other error of aiohttp's server is left whole.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TextIO

from aiohttp.http_exceptions import BadHttpMessage

from regie import log_format

# A summary line of refused requests at most this often; a streak ends after as long a quiet.
BAD_REQUEST_SUMMARY_SECONDS = 60.0
# How much of the parser's reason a line keeps (it quotes the sender's bytes).
_REASON_CHARS = 200


def configure(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    log_format.configure(level, stream)
    # Alembic narrates its plugins at INFO; the migrate command prints its own one line.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
    server = logging.getLogger("aiohttp.server")
    for old in [f for f in server.filters if isinstance(f, BadRequestDigest)]:
        server.removeFilter(old)   # configured again (the demo): one digest, not two
    server.addFilter(BadRequestDigest())


class BadRequestDigest(logging.Filter):
    """On the `aiohttp.server` logger: its records of `BadHttpMessage` (and subclasses) become
    one concise WARNING per streak, then one count per `interval` while the streak lasts."""

    def __init__(self, *, interval: float = BAD_REQUEST_SUMMARY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()   # a filter may be called from any thread
        self._unlogged = 0              # refused since the last line written
        self._last_line = 0.0
        self._last_seen: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        error = _bad_request(record.exc_info[1] if record.exc_info else None)
        if error is None or record.levelno < logging.WARNING:
            return True   # aiohttp logs a non-HTTP first request at DEBUG: seen only when asked
        now = self._clock()
        with self._lock:
            new_streak = self._last_seen is None or now - self._last_seen >= self._interval
            self._last_seen = now
            self._unlogged += 1
            if new_streak:
                earlier, self._unlogged = self._unlogged - 1, 0
                message = ("refused a malformed HTTP request from %s: %s; further ones are "
                           f"counted, one line per {self._interval:.0f}s at most")
                if earlier:
                    message += f" ({earlier} more of the previous streak were not logged)"
            elif now - self._last_line >= self._interval:
                message = (f"refused {self._unlogged} more malformed HTTP requests in "
                           f"{now - self._last_line:.0f}s, the last from %s: %s")
                self._unlogged = 0
            else:
                return False
            self._last_line = now
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg, record.args = message, (remote, _one_line(error))
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None   # the traceback is aiohttp's, never ours
        return True


def _bad_request(error: BaseException | None) -> BadHttpMessage | None:
    """The parser's refusal behind `error`, if any. A body the parser cannot decode (a corrupt
    gzip stream) reaches the handler as RequestPayloadError caused by one; after the handler
    answered 400, aiohttp meets the same error again draining the body and logs it as an
    "Unhandled exception"."""
    seen = 0
    while error is not None and seen < 8:   # a cause chain is short; a cycle is not followed
        if isinstance(error, BadHttpMessage):
            return error
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _one_line(error: BaseException) -> str:
    """The parser's reason on one line; the sender's bytes in it stay escaped (a repr)."""
    text = " ".join(str(error).split())
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS] + "..."
