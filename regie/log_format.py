"""One log format for every Regie process, set up once at start (`regie collector run`,
`regie demo`, `regie agent run`, the demo's agent child):

    2026-12-07T03:12:05.123Z INFO regie.collector.tickets: ticket 42 opened at P1, ...

Times are UTC in ISO 8601 (a log read beside another machine's, or a ticket timeline, needs no
zone arithmetic); then the level and the logger's name. What is logged at INFO: a service
starting and stopping, tickets opened, acknowledged, resolved and escalated, notifications
delivered; WARNING and above: what needs a person (dead letters, schedule gaps, an agent's
failing collector). Never tokens, link tokens or secrets: messages name tickets, hosts, people
and channels only.

Standard library only: the agent uses it and must not import the collector.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class UTCFormatter(logging.Formatter):
    """`asctime` as 2026-12-07T03:12:05.123Z."""

    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return (time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
                + f".{int(record.msecs):03d}Z")


def configure(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Route every logger of the process through one stderr handler in FORMAT. Called again
    (the demo runs the collector's start-up), it replaces its own handler, never adds one."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "regie", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(UTCFormatter(FORMAT))
    handler.regie = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
