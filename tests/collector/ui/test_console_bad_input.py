"""The console's query values and page ids that were 500s: now refused (4xx) or not found.

Real `regie collector run` processes with `[ui] enabled`, on SQLite and PostgreSQL; a
signed-in session over HTTP (tests/collector/ui/world.py's Browserless).
"""

from __future__ import annotations

import asyncio
import urllib.parse

import pytest

from tests.collector.conftest import collector_process
from tests.collector.ui.world import Browserless


@pytest.fixture
def console(tmp_path, collector_db):
    with collector_process(tmp_path, collector_db, "[ui]\nenabled = true\n") as service:
        yield service


BAD = [
    # A page cursor whose time is within years 1 to 9999 as written, not in UTC: the queue's
    # query overflowed converting it.
    "/ui/queue?after=" + urllib.parse.quote("P1~9999-12-31T23:59:59-01:00~1"),
    "/ui/queue?after=" + urllib.parse.quote("P1~0001-01-01T00:00:00+14:00~1"),
    "/ui/queue/live?after=" + urllib.parse.quote("P1~9999-12-31T23:59:59-01:00~1"),
    # Digits isdigit() accepts and int() refuses.
    "/ui/queue?since=" + urllib.parse.quote("\u00b2"),
    "/ui/queue/live?since=" + urllib.parse.quote("\u0663"),
]
# Over 4,300 digits int() raises; no id has more than 19.
LONG_IDS = ["/ui/changes/" + "1" * 5000, "/ui/vendor-cases/" + "1" * 5000,
            "/ui/ticket/" + "1" * 5000]


def test_bad_query_values_and_long_ids_are_no_500(console):
    async def main() -> dict[str, int]:
        person = Browserless(console.url)
        try:
            status, _, _ = await person.login(console.tokens["responder"])
            assert status == 303
            answers = {}
            for path in BAD + LONG_IDS:
                answers[path], _, _ = await person.get(path)
            # The pages still answer a good request.
            answers["/ui/queue"], _, _ = await person.get("/ui/queue")
            return answers
        finally:
            await person.close()

    answers = asyncio.run(main())
    assert answers.pop("/ui/queue") == 200
    assert all(answers[path] == 400 for path in BAD), answers
    assert all(answers[path] == 404 for path in LONG_IDS), answers
