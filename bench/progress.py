"""Progress lines: they go to stderr, so that stdout holds the report alone."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
