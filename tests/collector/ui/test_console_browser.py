"""The operator console in a real headless Chromium (Debian's, driven over CDP by
tests/collector/browser.py) against the real collector application with on-call, on SQLite and
PostgreSQL, and a real webhook receiver for the pages. Only time is injected (the escalation's
timeout passes by advancing the clock), so no test waits for an escalation step.

The one timed expectation is the issue's own: a P1 that arrives through the Alertmanager
webhook shows in the open queue within 2 s, without a reload (console.js polls every 1.5 s).
Screenshots go to /tmp/regie-shots/console/ (the README's come from here too, see
tests/collector/ui/test_console_screenshots.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.collector.browser import chromium
from tests.collector.conftest import create_tokens
from tests.collector.ui.world import Browserless, alert, world

SHOTS = Path("/tmp/regie-shots/console")


@pytest.fixture
def db(collector_db) -> str:
    return collector_db


@pytest.fixture
def tokens(db) -> dict[str, str]:
    return create_tokens(db)


async def log_in(page, url: str, token: str) -> None:
    await page.goto(f"{url}/ui/queue")          # not logged in: the login page
    assert await page.evaluate("location.pathname") == "/ui/login"
    await page.fill("#token", token)
    await page.click("form.stack button")
    assert await page.evaluate("location.pathname") == "/ui/queue"


def same_origin(page, url: str) -> None:
    origin = urlparse(url)
    elsewhere = [u for u in page.requests
                 if not u.startswith(("data:", "about:"))
                 and (urlparse(u).scheme, urlparse(u).netloc) != (origin.scheme, origin.netloc)]
    assert elsewhere == []
    assert page.requests, "no request was recorded: the watch is not on"


@pytest.mark.timeout(300)
def test_a_p1_arrives_live_is_acknowledged_from_its_page_and_its_escalation_stops(
        db, tokens, tmp_path, request):
    backend = request.node.callspec.params["collector_db"]

    async def main():
        async with world(db, tmp_path, tokens) as (c, receiver), chromium() as page:
            await page.watch()
            await log_in(page, c.url, tokens["responder"])
            # A second P1, left alone: what the acknowledged one would have done.
            await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200,
                         body=alert("PostgresDown", host="db2", summary="postgres down on db2"))
            await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200,
                         body=alert("DiskFull", host="db1", summary="disk full on db1"))
            await page.wait_for(
                "[...document.querySelectorAll('tr.ticket.P1.new')]"
                ".some(r => r.innerText.includes('disk full on db1'))", 2.0)
            assert await page.evaluate("document.querySelector('#counts').innerText"
                                       ".includes('P1 2')")
            await page.screenshot(SHOTS / f"queue-live-{backend}.png")
            await c.settle()                      # both P1s paged their primary, alice
            assert sorted(receiver.told()) == [("trigger", "alice"), ("trigger", "alice")]
            link = await page.evaluate(
                "[...document.querySelectorAll('tr.ticket a')]"
                ".find(a => a.innerText.includes('disk full on db1')).getAttribute('href')")
            await page.goto(c.url + link)
            assert "disk full on db1" in await page.text()
            await page.click("#ack")
            text = await page.text()
            assert "acknowledged" in await page.evaluate(
                "document.querySelector('.status-line .status').innerText")
            assert "acknowledged by responder" in text
            await page.screenshot(SHOTS / f"ticket-acknowledged-{backend}.png")
            ticket_id = int(link.rsplit("/", 1)[1])
            c.clock.advance(hours=2)               # well past every step's timeout
            await c.settle()
            paged = [(d["ticket_id"], d["kind"], d["recipient"]) for d in receiver.deliveries]
            # Nobody further up is paged for it (the policy may remind its acknowledger);
            # the other P1, left alone, went on to the secondary.
            assert not [p for p in paged if p[0] == ticket_id and p[1] == "escalate"], paged
            assert any(p[0] != ticket_id and p[1:] == ("escalate", "bob") for p in paged), paged
            await page.goto(c.url + link)
            timeline = await page.evaluate("document.getElementById('timeline').innerText")
            assert "acknowledged by responder" in timeline
            assert "bob" not in timeline and "carol" not in timeline
            assert page.console_errors == []
            same_origin(page, c.url)

    asyncio.run(main())


@pytest.mark.timeout(300)
def test_resolve_note_and_priority_from_the_page_and_html_in_a_summary_is_text(
        db, tokens, tmp_path, request):
    backend = request.node.callspec.params["collector_db"]

    async def main():
        async with world(db, tmp_path, tokens) as (c, _receiver), chromium() as page:
            await page.watch()
            summary = '<script>alert("x")</script><b>disk</b> & co'
            ticket = await c.call("POST", "/api/v1/tickets", expect=201, body={
                "summary": summary, "host": "web1", "impact": "medium", "urgency": "medium"})
            await log_in(page, c.url, tokens["responder"])
            await page.goto(f"{c.url}/ui/ticket/{ticket['id']}")
            assert await page.evaluate("document.getElementById('summary').innerText") == summary
            assert await page.evaluate("document.querySelectorAll('main script, main b')"
                                       ".length") == 0
            await page.fill("#note-text", "checked the array: one disk <failed>")
            await page.click("#add-note")
            await page.fill("#priority-reason", "the shop's checkout runs here")
            await page.evaluate("document.getElementById('priority').value = 'P2'")
            await page.click("#set-priority")
            await page.click("#resolve")
            shown = await c.call("GET", f"/api/v1/tickets/{ticket['id']}")
            assert shown["status"] == "resolved"
            assert shown["priority"] == "P2"
            assert shown["priority_override_reason"] == "the shop's checkout runs here"
            kinds = [(e["kind"], e["actor"]) for e in shown["timeline"]]
            assert kinds[-3:] == [("note", kinds[0][1]), ("priority_overridden", kinds[0][1]),
                                  ("resolved", kinds[0][1])]
            assert kinds[0][1].startswith("responder-")   # the token that logged in
            timeline = await page.evaluate("document.getElementById('timeline').innerText")
            assert "checked the array: one disk <failed>" in timeline
            assert "P3 -> P2: the shop's checkout runs here" in timeline
            await page.screenshot(SHOTS / f"ticket-resolved-{backend}.png")
            assert page.console_errors == []
            same_origin(page, c.url)

    asyncio.run(main())


@pytest.mark.timeout(300)
def test_a_viewer_sees_no_buttons_and_forged_posts_are_refused(db, tokens, tmp_path):
    async def main():
        async with world(db, tmp_path, tokens) as (c, _receiver), chromium() as page:
            ticket = await c.open_ticket()
            await log_in(page, c.url, tokens["viewer"])
            await page.goto(f"{c.url}/ui/ticket/{ticket}")
            assert await page.evaluate("document.querySelectorAll('main form').length") == 0
            assert await page.evaluate("document.querySelectorAll('main button').length") == 0
            # The viewer forges the responder's form with the session's own CSRF token.
            viewer = Browserless(c.url)
            try:
                await viewer.login(tokens["viewer"])
                status, text, _ = await viewer.post(f"/ui/ticket/{ticket}/ack", {})
                assert status == 403
                assert "may not respond" in text
            finally:
                await viewer.close()
            responder = Browserless(c.url)
            try:
                await responder.login(tokens["responder"])
                for csrf in ("-", "forged-token", viewer.csrf):   # none, made up, another's
                    status, text, _ = await responder.post(f"/ui/ticket/{ticket}/ack", {},
                                                           csrf=csrf)
                    assert status == 403, csrf
                    assert "anti-forgery token is missing or wrong" in text
                assert (await c.call("GET", f"/api/v1/tickets/{ticket}"))["status"] == "open"
                status, _, _ = await responder.post(f"/ui/ticket/{ticket}/ack", {})
                assert status == 303            # the session's own token: done
            finally:
                await responder.close()
            assert (await c.call("GET", f"/api/v1/tickets/{ticket}"))["status"] == \
                "acknowledged"

    asyncio.run(main())
