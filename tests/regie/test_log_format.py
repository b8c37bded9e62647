"""regie/log_format.py: the one log line format of every Regie process."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest

from regie.log_format import FORMAT, UTCFormatter, configure


@pytest.mark.parametrize(("created", "expected"), [
    (1796615498.0185, "2026-12-07T03:51:38.018Z WARNING regie.demo: agent exited"),
    (0.0, "1970-01-01T00:00:00.000Z WARNING regie.demo: agent exited"),
    (1796615498.9999, "2026-12-07T03:51:38.999Z WARNING regie.demo: agent exited"),
])
def test_a_line_is_utc_iso_time_level_logger_message(created, expected):
    record = logging.LogRecord("regie.demo", logging.WARNING, __file__, 1, "agent %s", ("exited",),
                               None)
    record.created, record.msecs = created, (created - int(created)) * 1000
    assert UTCFormatter(FORMAT).format(record) == expected


def test_configure_replaces_its_own_handler_and_keeps_others():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    other = logging.NullHandler()
    root.addHandler(other)
    first, second = io.StringIO(), io.StringIO()
    try:
        configure("warning", first)
        configure("info", second)
        logging.getLogger("regie.test").info("ticket %d opened", 7)
        assert first.getvalue() == ""
        assert second.getvalue().endswith("Z INFO regie.test: ticket 7 opened\n")
        assert other in root.handlers
        assert sum(getattr(h, "regie", False) for h in root.handlers) == 1
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_it_needs_only_the_standard_library():
    """The agent uses it and installs neither the collector nor its libraries."""
    code = ("import sys, regie.log_format; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'collector', 'agent', 'aiohttp', 'sqlalchemy', 'prometheus_client'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"
