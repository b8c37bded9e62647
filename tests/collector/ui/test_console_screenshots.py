"""The README's console screenshots are made by code that runs here, on demo data
(tests/collector/ui/make_screenshots.py), in a real Chromium against the real collector
application, one of each page; here they go to a temporary directory and are checked to be
pictures (and the pages to have raised no console error)."""

from __future__ import annotations

import asyncio

import pytest

from tests.collector.ui.make_screenshots import PAGES, take


@pytest.mark.timeout(300)
def test_the_screenshots_are_taken_on_demo_data(sqlite_db, tmp_path):
    shots = asyncio.run(take(tmp_path / "shots", sqlite_db, tmp_path))
    assert [p.name for p in shots] == ["queue.png", "ticket.png",
                                       *(f"{name}.png" for name, _ in PAGES),
                                       "queue-phone.png"]
    for path in shots:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, path
