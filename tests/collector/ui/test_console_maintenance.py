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
