"""What a person does with a notification: open its ticket link, press its buttons, open a
used link again. In a real headless Chromium (tests/collector/browser.py) against the real
collector application on SQLite and PostgreSQL, with the real webhook receiver; time comes
from an injected clock (tests/collector/oncall_harness.py). Screenshots go to
/tmp/regie-shots/ for a person to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.parse
from pathlib import Path

import aiohttp
import pytest

from tests.collector.browser import chromium
from tests.collector.conftest import create_tokens
from tests.collector.oncall_harness import Clock, Receiver, collector, write_config
from tests.services import free_port

SHOTS = Path("/tmp/regie-shots")


@contextlib.asynccontextmanager
async def world(db: str, tmp_path: Path, tokens: dict[str, str]):
    receiver = Receiver()
    await receiver.start()
    port = free_port()
    config = write_config(tmp_path, receiver_url=receiver.url, port=port)
    clock = Clock()
    try:
        async with collector(config, db, clock, tokens, port=port) as running:
            yield running, receiver
    finally:
        await receiver.stop()


@pytest.fixture
def db(collector_db) -> str:
    return collector_db


@pytest.fixture
def tokens(db) -> dict[str, str]:
    return create_tokens(db)


def run(coroutine):
    return asyncio.run(coroutine)


async def fetch(method: str, url: str, **kwargs) -> tuple[int, str, str]:
    """(status, content type, body) without following redirects."""
    async with aiohttp.ClientSession() as session, session.request(
            method, url, allow_redirects=False, **kwargs) as response:
        return response.status, response.content_type, await response.text()


def test_the_ticket_link_opens_a_page_and_its_buttons_act_as_the_recipient(db, tokens,
                                                                            tmp_path, request):
    backend = request.node.callspec.params["collector_db"]

    async def main():
        async with world(db, tmp_path, tokens) as (c, receiver):
            ticket = await c.open_ticket(host="db1", component="postgres")
            await c.settle()
            (first,) = receiver.deliveries
            assert first["recipient"] == "alice"
            links = first["links"]
            assert links["ticket"].startswith(f"{c.url}/ui/tickets/{ticket}?key=v2.")
            async with chromium() as page:
                await page.goto(links["ticket"])
                await page.screenshot(SHOTS / f"ticket-page-{backend}.png")
                text = await page.text()
                assert "postgres down on db1" in text and "P1" in text
                # The timeline says once, truthfully, who was paged through what.
                assert "step 1 (primary): queued for alice via hook: first notification" in text
                assert "trigger notice delivered to alice via hook" in text
                assert "via no channel" not in text
                assert "Read-only page for alice" in text
                buttons = await page.evaluate(
                    "[...document.querySelectorAll('form button')].map(b => b.innerText)")
                assert buttons == ["Acknowledge", "Resolve"]
                button_link = await page.evaluate("document.querySelector('form').action")
                await page.click("form button")                      # Acknowledge
                await page.screenshot(SHOTS / f"acknowledged-{backend}.png")
                text = await page.text()
                assert re.search(r"Acknowledged by alice \(one-click link\) at "
                                 r"2026-12-02 03:00 UTC\.", text), text
                assert await page.evaluate("document.querySelectorAll('button').length") == 0
                # The same button's link opened again: what was done, by whom, when.
                await page.goto(button_link)
                await page.screenshot(SHOTS / f"used-link-{backend}.png")
                text = await page.text()
                assert ("This link was used: acknowledged by alice (one-click link) at "
                        "2026-12-02 03:00 UTC.") in text
                assert await page.evaluate("document.querySelectorAll('button').length") == 0
                # The mail's own ack link (never used) shows the ticket is in hand: no button.
                await page.goto(links["ack"])
                text = await page.text()
                assert ("Already acknowledged by alice (one-click link) at 2026-12-02 03:00 "
                        "UTC.") in text
                assert await page.evaluate("document.querySelectorAll('button').length") == 0
                # Back on the ticket page: only Resolve is left.
                await page.goto(links["ticket"])
                assert await page.evaluate(
                    "[...document.querySelectorAll('form button')].map(b => b.innerText)"
                ) == ["Resolve"]
                await page.screenshot(SHOTS / f"ticket-page-acknowledged-{backend}.png")
            shown = await c.call("GET", f"/api/v1/tickets/{ticket}")
            assert shown["status"] == "acknowledged"
            acked = [e for e in shown["timeline"] if e["kind"] == "acknowledged"]
            assert [e["actor"] for e in acked] == ["alice (one-click link)"]

    run(main())


def test_one_click_answers_a_browser_with_a_page_and_a_program_with_json(db, tokens,
                                                                        tmp_path):
    async def main():
        async with world(db, tmp_path, tokens) as (c, receiver):
            ticket = await c.open_ticket()
            await c.settle()
            links = receiver.deliveries[0]["links"]
            # A form post (what the button sends): a confirmation page, not the record.
            status, kind, body = await fetch(
                "POST", links["ack"], data=b"",
                headers={"Content-Type": "application/x-www-form-urlencoded",
                         "Accept": "text/html"})
            assert (status, kind) == (200, "text/html")
            assert "Acknowledged by alice (one-click link) at 2026-12-02 03:00 UTC." in body
            assert '"dedup_key"' not in body
            # Again: refused, and the page says by whom and when.
            status, kind, body = await fetch("POST", links["ack"],
                                             headers={"Accept": "text/html"})
            assert (status, kind) == (409, "text/html")
            assert "used already: acknowledged by alice (one-click link)" in body
            # A program keeps JSON.
            resolved = await c.call("POST", links["resolve"].removeprefix(c.url), role="",
                                    expect=200)
            assert resolved["status"] == "resolved" and resolved["already"] is False
            assert resolved["message"] == (f"#{ticket} resolved by alice (one-click link) at "
                                           f"2026-12-02 03:00 UTC")

    run(main())


def test_view_links_are_read_only_scoped_and_expire(db, tokens, tmp_path):
    async def main():
        async with world(db, tmp_path, tokens) as (c, receiver):
            ticket = await c.open_ticket(host="web<1>", component="<script>alert(1)</script>")
            other = await c.open_ticket(host="db2")
            await c.settle()
            by_ticket = {d["ticket_id"]: d["links"] for d in receiver.deliveries
                         if d["recipient"] == "alice"}
            view = by_ticket[ticket]["ticket"]
            key = urllib.parse.parse_qs(urllib.parse.urlsplit(view).query)["key"][0]
            status, kind, body = await fetch("GET", view)
            assert (status, kind) == (200, "text/html")
            # Escaped, never markup.
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
            assert "web&lt;1&gt;" in body
            # A view link never acts: the action endpoint refuses it as a token.
            status, _, body = await fetch("POST", f"{c.url}/api/v1/actions/{key}")
            assert status == 403 and "malformed" in body
            # An action link is not a view link; a view link is for its ticket only.
            ack_token = by_ticket[ticket]["ack"].rsplit("/", 1)[1]
            status, _, body = await fetch("GET", f"{c.url}/ui/tickets/{ticket}?key={ack_token}")
            assert status == 403 and "not 'view'" in body
            status, _, body = await fetch("GET", f"{c.url}/ui/tickets/{other}?key={key}")
            assert status == 403 and "another ticket" in body
            tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
            status, kind, body = await fetch("GET", f"{c.url}/ui/tickets/{ticket}?key="
                                                    f"{tampered}", headers={"Accept": "text/html"})
            assert (status, kind) == (403, "text/html") and "bad signature" in body
            status, kind, _ = await fetch("GET", f"{c.url}/ui/tickets/{ticket}?key={key}&x=1")
            assert status == 400
            # Nothing changed through any of that.
            assert (await c.call("GET", f"/api/v1/tickets/{ticket}"))["status"] == "open"
            # Opened many times; still valid after the action links' day; gone after a week.
            c.clock.advance(days=2)
            assert (await fetch("GET", view))[0] == 200
            c.clock.advance(days=6)
            status, _, body = await fetch("GET", view)
            assert status == 403 and "expired" in body

    run(main())
