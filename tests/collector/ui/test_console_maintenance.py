"""The console shows a ticket opened during maintenance as such, in the queue and on its page
(real collector application, SQLite, injected clock)."""

from __future__ import annotations

import asyncio
import html
from datetime import timedelta

from tests.collector.conftest import create_tokens
from tests.collector.ui.world import Browserless, alert, world


def test_queue_and_ticket_page_say_during_maintenance(sqlite_db, tmp_path):
    tokens = create_tokens(sqlite_db)

    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            now = c.clock.now
            await c.call("POST", "/api/v1/maintenance", expect=201, body={
                "name": "db1 <reboot>", "hosts": ["db1"], "start": now.isoformat(),
                "end": (now + timedelta(hours=1)).isoformat()})
            for host in ("db1", "db2"):
                await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200,
                             body=alert("HostDown", host=host, summary=f"{host} down"))
            person = Browserless(c.url)
            try:
                await person.login(tokens["viewer"])
                status, page, _ = await person.get("/ui/queue")
                assert status == 200
                rows = {host: row for host in ("db1", "db2") for row in
                        page.split('<tr class="ticket')[1:] if f"{host} down" in row}
                expected = (f"during maintenance: {html.escape('db1 <reboot>')} (until "
                            f"{(now + timedelta(hours=1)).isoformat()}): not paged")
                assert expected in rows["db1"]
                assert "during maintenance" not in rows["db2"]
                tickets = (await c.call("GET", "/api/v1/tickets?host=db1", role="viewer"))
                status, page, _ = await person.get(f"/ui/ticket/{tickets['tickets'][0]['id']}")
                assert status == 200
                assert 'id="maintenance">During maintenance: <strong>db1 &lt;reboot&gt;' \
                    "</strong>" in page
                assert "during maintenance: db1 &lt;reboot&gt; (window 1, until" in page
            finally:
                await person.close()

    asyncio.run(main())


def test_the_maintenance_page_lists_windows_and_what_holds_alerts_now(sqlite_db, tmp_path):
    tokens = create_tokens(sqlite_db)

    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            now = c.clock.now
            running = await c.call("POST", "/api/v1/maintenance", expect=201, body={
                "name": "web <patching>", "hosts": ["web-*"], "start": now.isoformat(),
                "duration": "1h", "comment": "kernel 6.1"})
            await c.call("POST", "/api/v1/maintenance", expect=201, body={
                "name": "nightly backup", "services": ["backup"], "timezone": "UTC",
                "start": "2026-11-30T23:00", "end": "2026-12-01T01:00", "rrule": "FREQ=DAILY"})
            ended = await c.call("POST", "/api/v1/maintenance", expect=201, body={
                "name": "old one", "hosts": ["db1"], "start": now.isoformat(),
                "duration": "2h"})
            await c.call("POST", f"/api/v1/maintenance/{ended['id']}/end", expect=200)
            person = Browserless(c.url)
            try:
                await person.login(tokens["viewer"])
                status, page, _ = await person.get("/ui/maintenance")
                assert status == 200
                assert '<a href="/ui/maintenance"' in page           # in the menu, not greyed
                active = page.split('id="active"')[1].split("</table>")[0]
                assert "web &lt;patching&gt;" in active and "nightly backup" not in active
                listed = page.split('id="windows"')[1].split("</table>")[0]
                assert f"#{running['id']} web &lt;patching&gt; <strong>running</strong>" in listed
                assert "FREQ=DAILY from 2026-11-30T23:00:00+00:00 (UTC), 120 min each" in listed
                assert "2026-12-02T23:00:00+00:00 to 2026-12-03T01:00:00+00:00" in listed
                assert "old one" not in listed
                status, page, _ = await person.get("/ui/maintenance?show=all")
                assert "old one" in page and "(ended " in page
                status, page, _ = await person.get("/ui/maintenance?show=bogus")
                assert status == 400 and "show: one of current, all" in page
            finally:
                await person.close()

    asyncio.run(main())
