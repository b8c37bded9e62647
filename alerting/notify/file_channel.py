"""The ``file`` channel: one JSON line per notification appended to a file, or ``-`` for
standard output (the demo). The line is the webhook body (`payload_bytes`) plus a newline.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sys
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
            await asyncio.to_thread(_append, Path(settings.path), line)
    except TimeoutError:
        return Delivery.failed(f"file {settings.path}: write took too long", retry=True)
    except OSError as exc:
        return Delivery.failed(f"file {settings.path}: {exc.strerror or exc}",
                               retry=exc.errno not in _PERMANENT_ERRNOS)
    return Delivery.delivered(f"appended to {settings.path}")


def describe_file(s: FileSettings) -> str:
    return "file (standard output)" if s.path == "-" else f"file {s.path}"
