"""The ``file`` channel: one JSON line per notification appended to a file, or ``-`` for
standard output (the demo). The line is the webhook body (`payload_bytes`) plus a newline.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerting.notify.delivery import Delivery
from alerting.notify.message import Notification
from alerting.notify.send_context import DEFAULT_CONTEXT, SendContext
from alerting.notify.webhook import payload_bytes
from regie.configfile import build, check


def _file_target(value: str) -> str | None:
    return None if value.strip() else "must be a file path or '-' for standard output"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSettings:
    path: str = field(default="-", metadata=check(_file_target))   # "-": standard output


def parse_file(data: Mapping[str, Any], *, source: str, prefix: str) -> FileSettings:
    return build(FileSettings, data, source=source, prefix=prefix)


def _append(path: Path, line: str) -> None:
    # Created 0600 whatever the umask: the lines carry live acknowledge/resolve links.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(line)


# Files with a write in progress. A write may never return (a named pipe nobody reads, a file
# on a hung network mount): it runs in a thread of its own, never in the event loop's default
# executor, whose few threads (six on two CPUs) the webhooks' DNS lookups, TLS set-up and the
# evaluator's parsing share; one blocked write per file at most, the next attempt fails at
# once until it returns. Daemon threads: one that never returns does not hold up the exit.
_WRITING: set[str] = set()


async def _write(path: str, line: str) -> None:
    if path in _WRITING:
        raise _StillWriting
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def finish(error: BaseException | None) -> None:
        _WRITING.discard(path)
        if not done.done():
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            _append(Path(path), line)
        except BaseException as exc:  # handed to the awaiting send, whatever it is
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(finish, error)

    # A write that ends after its attempt timed out has nobody to tell: its error is read
    # here, so asyncio does not log it as never retrieved.
    done.add_done_callback(lambda future: future.cancelled() or future.exception())
    _WRITING.add(path)
    threading.Thread(target=run, name="file-channel", daemon=True).start()
    # Shielded: a timed-out attempt leaves the write to finish (and clear _WRITING) alone.
    await asyncio.shield(done)


class _StillWriting(Exception):
    """The last write to this file has not returned."""


# Errors a later attempt will meet again.
_PERMANENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR,
                               errno.EISDIR, errno.EROFS})


async def send_file(settings: FileSettings, notification: Notification, *,
                    delivery_id: str, ctx: SendContext = DEFAULT_CONTEXT,
                    timeout: float | None = None) -> Delivery:
    line = payload_bytes(notification, delivery_id).decode("utf-8") + "\n"
    try:
        if settings.path == "-":
            out = ctx.stdout or sys.stdout
            out.write(line)
            out.flush()
            return Delivery.delivered("written to standard output")
        async with asyncio.timeout(timeout or 10.0):
            await _write(settings.path, line)
    except TimeoutError:
        return Delivery.failed(f"file {settings.path}: write took too long", retry=True)
    except _StillWriting:
        return Delivery.failed(f"file {settings.path}: an earlier write has not returned",
                               retry=True)
    except OSError as exc:
        return Delivery.failed(f"file {settings.path}: {exc.strerror or exc}",
                               retry=exc.errno not in _PERMANENT_ERRNOS)
    return Delivery.delivered(f"appended to {settings.path}")


def describe_file(s: FileSettings) -> str:
    return "file (standard output)" if s.path == "-" else f"file {s.path}"
