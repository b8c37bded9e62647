"""The console's query values and page ids that were 500s: now refused (4xx) or not found.

Real `regie collector run` processes with `[ui] enabled`, on SQLite and PostgreSQL; a
signed-in session over HTTP (tests/collector/ui/world.py's Browserless).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse

import aiohttp
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


def _multipart(*parts: tuple[str, str, bytes]) -> bytes:
    """A multipart/form-data body (boundary XX) of (headers, name, value) parts."""
    out = b""
    for head, name, value in parts:
        disposition = f'form-data; name="{name}"' if name else "form-data"
        out += (f"--XX\r\nContent-Disposition: {disposition}\r\n{head}\r\n").encode()
        out += value + b"\r\n"
    return out + b"--XX--\r\n"


def test_a_form_that_cannot_be_read_is_400_and_writes_nothing(console):
    """aiohttp decodes a form with whatever charset it names (an unknown codec, `rot13` or
    `utf-32` raised), and with `unicode_escape` a lone surrogate reached the database; bytes
    that are not UTF-8 and multipart bodies it cannot take apart raised too: each was a 500
    with a traceback, on the login form before any session as well."""
    form = "application/x-www-form-urlencoded"

    async def main() -> tuple[list[int], list[int]]:
        person = Browserless(console.url)
        try:
            assert (await person.login(console.tokens["responder"]))[0] == 303
            await person.get("/ui/report")            # the session's CSRF token
            csrf = person.csrf.encode()
            good = ("", "csrf", csrf)
            bodies = [
                (f"{form}; charset=unicode_escape", b"csrf=" + csrf + b"&summary=\\ud800x"),
                (f"{form}; charset=rot13", b"csrf=" + csrf + b"&summary=x"),
                (f"{form}; charset=no-such-codec", b"csrf=" + csrf + b"&summary=x"),
                (form, b"csrf=" + csrf + b"&summary=\xff\xfe"),
                ("multipart/form-data; boundary=XX", _multipart(
                    good, ("Content-Type: text/plain; charset=unicode_escape", "summary",
                           b"\\ud800y"))),
                ("multipart/form-data; boundary=XX", _multipart(good, ("", "summary",
                                                                       b"\xff\xfe"))),
                ("multipart/form-data; boundary=XX", _multipart(good, ("", "", b"x"))),
                ("multipart/form-data; boundary=XX", b"--XX\r\ngarbage"),
                ("multipart/form-data", b"x"),
            ]
            reports = []
            for content_type, body in bodies:
                async with person.session.post(
                        console.url + "/ui/report", data=body, allow_redirects=False,
                        headers={"Content-Type": content_type}) as answer:
                    reports.append(answer.status)
            logins = []
            for charset in ("utf-32", "rot13", "no-such-codec"):
                async with person.session.post(
                        console.url + "/ui/login", data=b"csrf=a&token=b",
                        headers={"Content-Type": f"{form}; charset={charset}"}) as answer:
                    logins.append(answer.status)
            return reports, logins
        finally:
            await person.close()

    reports, logins = asyncio.run(main())
    assert reports == [400] * len(reports), reports
    assert logins == [400] * len(logins), logins
    status, listed = console.call("GET", "/api/v1/tickets?status=open", token="viewer")
    assert status == 200 and listed["tickets"] == [], listed


def test_where_to_go_after_login_is_a_location_header_can_hold(console, tmp_path):
    """The login form's `next` went into the Location header as given: with CR, LF, NUL or
    DEL aiohttp refused the header after the handler had answered, so the connection closed
    without a response (a traceback in the log); non-ASCII text went out as raw bytes."""
    wanted = {"/ui/queue\r\nSet-Cookie: evil=1": "/ui/queue", "/ui/\x00": "/ui/queue",
              "/ui/\x7f": "/ui/queue", "/ui/\t/x": "/ui/queue",
              "/ui/hosts/caf\u00e9 01": "/ui/hosts/caf%C3%A9%2001",
              "/ui/queue?after=P1~2026-12-07T10:00:00%2B00:00~3":
                  "/ui/queue?after=P1~2026-12-07T10:00:00%2B00:00~3"}

    async def main() -> dict[str, str | None]:
        got = {}
        for target in wanted:
            person = Browserless(console.url)
            try:
                status, text, _ = await person.get("/ui/login")
                form_csrf = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
                status, _, headers = await person.post(
                    "/ui/login", {"token": console.tokens["viewer"], "next": target},
                    csrf=form_csrf)
                got[target] = headers.get("Location") if status == 303 else f"{status}"
            except aiohttp.ClientError as exc:   # no response at all
                got[target] = type(exc).__name__
            finally:
                await person.close()
        return got

    assert asyncio.run(main()) == wanted
    log = (tmp_path / f"collector-{console.port}.log").read_text()
    assert "Traceback" not in log, log
