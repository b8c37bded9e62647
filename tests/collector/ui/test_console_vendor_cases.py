"""The console's vendor case pages over plain HTTP, against the real collector application
(SQLite): the list (waiting or every case, overdue marked) and one case with its timeline, the
same warnings as the API, text escaped, the security headers, refusals with reasons. Time is
the injected clock."""

from __future__ import annotations

import asyncio
import uuid

from tests.collector.conftest import create_tokens
from tests.collector.ui.world import Browserless, world


def test_vendor_case_pages(sqlite_db, tmp_path):
    tokens = create_tokens(sqlite_db)

    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            await c.call("POST", "/api/v1/inventory", role="agent", expect=202, body={
                "idempotency_key": uuid.uuid4().hex,
                "document": {"schema": "regie.inventory/v1", "host": {"hostname": "db-old"},
                             "observations": [{"source": "os-release",
                                               "raw": {"ID": "debian", "VERSION_ID": "10"}}]}})
            waiting = await c.call("POST", "/api/v1/vendor-cases", expect=201, body={
                "vendor": "Dell", "case_number": "SR-1", "hosts": ["db-old"],
                "summary": "<script>alert(1)</script> resets", "owner": "alice",
                "follow_up_days": 1})
            closed = await c.call("POST", "/api/v1/vendor-cases", expect=201, body={
                "vendor": "HPE", "case_number": "5300-9", "summary": "iLO gone"})
            await c.call("POST", f"/api/v1/vendor-cases/{closed['id']}/close", expect=200)
            c.clock.advance(days=2)       # the first case is past its follow-up date
            person = Browserless(c.url)
            try:
                assert (await person.get("/ui/vendor-cases"))[0] == 303   # not signed in
                await person.login(tokens["viewer"])
                status, text, headers = await person.get("/ui/vendor-cases")
                assert status == 200, text
                assert "script-src 'self'" in headers["Content-Security-Policy"]
                assert '<a href="/ui/vendor-cases" class="here"' in text
                assert f'href="/ui/vendor-cases/{waiting["id"]}"' in text
                assert "5300-9" not in text                      # closed: not waiting
                assert "(overdue)" in text
                assert "&lt;script&gt;alert(1)&lt;/script&gt; resets" in text
                assert "<script>alert" not in text
                assert "debian 10 on db-old is past end of support" in text
                status, every, _ = await person.get("/ui/vendor-cases?show=all")
                assert status == 200 and "5300-9" in every
                status, page, _ = await person.get(f"/ui/vendor-cases/{waiting['id']}")
                assert status == 200
                api = await c.call("GET", f"/api/v1/vendor-cases/{waiting['id']}",
                                   role="viewer")
                for entry in api["timeline"]:
                    assert f"<td>{entry['kind']}</td>" in page
                assert '<a href="/ui/hosts/db-old">db-old</a>' in page
                for path, status_, reason in [
                    ("/ui/vendor-cases?show=mine", 400, "show: one of waiting, all"),
                    ("/ui/vendor-cases?colour=red", 400, "colour: unknown query parameter"),
                    ("/ui/vendor-cases/999999", 404, "no vendor case has that number"),
                    ("/ui/vendor-cases/%D9%A3", 404, "no vendor case has that number"),
                ]:
                    got, text, _ = await person.get(path)
                    assert (got, reason in text) == (status_, True), (path, text)
            finally:
                await person.close()

    asyncio.run(main())
