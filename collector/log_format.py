"""The collector's logging (`regie collector run`, `regie demo`): the one format every Regie
process writes (regie/log_format.py, shared with the agent), plus the collector's own quiet
libraries."""

from __future__ import annotations

import logging
from typing import TextIO

from regie import log_format


def configure(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    log_format.configure(level, stream)
    # Alembic narrates its plugins at INFO; the migrate command prints its own one line.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
