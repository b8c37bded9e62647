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


def test_a_nul_in_a_form_or_a_host_page_is_400_on_both_backends(console):
    """PostgreSQL stores no NUL: a note, an acknowledgement's note, a priority reason and an
    assignee with one were 500s there through the console (SQLite stored them, though the API
    refuses NUL on both), as were /ui/hosts?after= and /ui/hosts/{name} with one."""
    status, ticket = console.call("POST", "/api/v1/tickets", {"summary": "disk", "host": "db1"},
                                  token="responder")
    assert status == 201, ticket
    status, before = console.call("GET", f"/api/v1/tickets/{ticket['id']}", token="viewer")
    assert status == 200, before
    base = f"/ui/ticket/{ticket['id']}"
    forms = [(f"{base}/note", {"text": "a\x00b"}), (f"{base}/ack", {"note": "a\x00b"}),
             (f"{base}/priority", {"priority": "P1", "reason": "a\x00b"}),
             (f"{base}/assign", {"assignee": "a\x00b"})]

    async def main() -> tuple[list[int], list[int]]:
        person = Browserless(console.url)
        try:
            assert (await person.login(console.tokens["responder"]))[0] == 303
            await person.get(base)                     # the page's CSRF token
            posted = [(await person.post(path, form))[0] for path, form in forms]
            pages = [(await person.get(path))[0]
                     for path in ("/ui/hosts?after=a%00b", "/ui/hosts/a%00b")]
            return posted, pages
        finally:
            await person.close()

    posted, pages = asyncio.run(main())
    assert posted == [400] * len(forms), posted
    assert pages == [400, 400], pages
    # Nothing was written: the ticket is still open, unassigned, with its opening entry only.
    status, after = console.call("GET", f"/api/v1/tickets/{ticket['id']}", token="viewer")
    assert status == 200 and after["status"] == "open" and after["priority"] == before["priority"]
    assert not after.get("assignee") and after["timeline"] == before["timeline"]
