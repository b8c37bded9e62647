"""The console's change pages over plain HTTP, against the real collector application
(SQLite, on-call configured): the list (open or every change) with warnings, one change with
its risk reasons and timeline as the API gives them, text escaped, refusals with reasons.
Time is the injected clock."""

from __future__ import annotations

import asyncio

from tests.collector.conftest import create_tokens
from tests.collector.ui.world import Browserless, world


def test_change_pages(sqlite_db, tmp_path):
    tokens = create_tokens(sqlite_db)

    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            await c.call("POST", "/api/v1/tickets", expect=201,
                         body={"summary": "disk", "host": "web-1"})
            window = {"planned_start": "2026-12-05T01:00:00Z",
                      "planned_end": "2026-12-05T03:00:00Z"}
            first = await c.call("POST", "/api/v1/changes", expect=201, body={
                "type": "normal", "summary": "<script>alert(1)</script> kernel",
                "hosts": ["web-*"], "timezone": "Europe/Amsterdam", **window})
            second = await c.call("POST", "/api/v1/changes", expect=201, body={
                "type": "standard", "summary": "log rotation", "hosts": ["web-1"], **window})
            done = await c.call("POST", "/api/v1/changes", expect=201, body={
                "type": "normal", "summary": "finished long ago", **window})
            for change in (first, second, done):
                await c.call("POST", f"/api/v1/changes/{change['id']}/submit", expect=200)
            await c.call("POST", f"/api/v1/changes/{done['id']}/reject", role="admin",
                         expect=200, body={"reason": "not now"})
            person = Browserless(c.url)
            try:
                assert (await person.get("/ui/changes"))[0] == 303   # not signed in
                await person.login(tokens["viewer"])
                status, text, headers = await person.get("/ui/changes")
                assert status == 200, text
                assert "script-src 'self'" in headers["Content-Security-Policy"]
                assert '<a href="/ui/changes" class="here"' in text
                assert f'href="/ui/changes/{first["id"]}"' in text
                assert "finished long ago" not in text             # rejected: not open
                assert "&lt;script&gt;alert(1)&lt;/script&gt; kernel" in text
                assert "<script>alert" not in text
                # Its window in its own time zone (CET, UTC+1), and the overlap warned about.
                assert "2026-12-05 02:00 to 2026-12-05 04:00" in text
                assert f"change #{second['id']} touches web-1 in an overlapping window" in text
                status, every, _ = await person.get("/ui/changes?show=all")
                assert status == 200 and "finished long ago" in every
                status, page, _ = await person.get(f"/ui/changes/{first['id']}")
                assert status == 200, page
                api = await c.call("GET", f"/api/v1/changes/{first['id']}", role="viewer")
                for reason in api["risk"]["reasons"]:
                    assert f"<li>{reason}</li>" in page.replace("&#39;", "'")
                for entry in api["timeline"]:
                    assert f"<td>{entry['kind']}</td>" in page
                assert '<a href="/ui/hosts/web-1">web-1</a>' in page
                for path, status_, reason in [
                    ("/ui/changes?show=mine", 400, "show: one of open, all"),
                    ("/ui/changes?colour=red", 400, "colour: unknown query parameter"),
                    ("/ui/changes/999999", 404, "no change has that number"),
                    ("/ui/changes/%D9%A3", 404, "no change has that number"),
                ]:
                    got, text, _ = await person.get(path)
                    assert (got, reason in text) == (status_, True), (path, text)
            finally:
                await person.close()

    asyncio.run(main())
