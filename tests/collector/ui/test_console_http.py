"""The console over plain HTTP, against the real collector application (SQLite, and both
backends for the queue's order): sign-in, session cookie, expiry and logout, security headers,
refusals with reasons, the queue's order and pages, the report form, the on-call and
end-of-support pages beside the CLI. Time is the injected clock (sessions expire by advancing
it)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import pytest

from regie.configfile import ConfigError
from tests.collector.conftest import create_tokens
from tests.collector.ui.world import Browserless, world


@pytest.fixture
def tokens(sqlite_db) -> dict[str, str]:
    return create_tokens(sqlite_db)


def run(coroutine):
    return asyncio.run(coroutine)


def test_login_sets_a_strict_session_cookie_and_every_page_its_security_headers(
        sqlite_db, tokens, tmp_path):
    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            person = Browserless(c.url)
            try:
                status, _, headers = await person.get("/ui/queue")
                assert status == 303
                assert headers["Location"] == "/ui/login?next=%2Fui%2Fqueue"
                status, _, headers = await person.login(tokens["responder"])
                assert status == 303 and headers["Location"] == "/ui/queue"
                cookie = next(v for k, v in headers.items() if k == "Set-Cookie"
                              and v.startswith("regie_session="))
                for flag in ("HttpOnly", "SameSite=Strict", "Path=/ui/"):
                    assert flag in cookie
                assert "Secure" not in cookie       # plain HTTP here; TLS sets it
                for path in ("/ui/queue", "/ui/oncall", "/ui/eos", "/ui/hosts",
                             "/ui/report", "/ui/login"):
                    status, text, headers = await person.get(path)
                    assert status == 200, (path, text)
                    csp = headers["Content-Security-Policy"]
                    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
                    assert "frame-ancestors 'none'" in csp
                    assert headers["X-Frame-Options"] == "DENY"
                    assert "<script>" not in text and " style=" not in text
                    assert "<style" not in text
                    for form in re.findall(r'<form[^>]*method="post".*?</form>', text, re.S):
                        assert 'name="csrf"' in form, (path, form)
            finally:
                await person.close()

    run(main())


def test_the_ui_settings_are_read_and_checked(sqlite_db, tmp_path):
    from collector.config import load_settings

    conf = tmp_path / "ui.toml"
    conf.write_text("[ui]\nenabled = true\nsecure_cookies = true\nsession_hours = 2\n")
    settings = load_settings(conf, db=sqlite_db)
    assert settings.ui.enabled and settings.ui.secure_cookies
    assert settings.ui.session_hours == 2
    conf.write_text("[ui]\nsession_hours = 0\n")
    with pytest.raises(ConfigError, match=r"ui\.session_hours"):
        load_settings(conf, db=sqlite_db)
    conf.write_text("")
    assert not load_settings(conf, db=sqlite_db).ui.enabled   # off unless asked for


def test_without_ui_enabled_there_is_no_console(sqlite_db, tokens, tmp_path):
    async def main():
        async with world(sqlite_db, tmp_path, tokens, enabled=False) as (c, _):
            person = Browserless(c.url)
            try:
                for path in ("/ui/queue", "/ui/login", "/ui/static/console.css"):
                    assert (await person.get(path))[0] == 404
            finally:
                await person.close()

    run(main())


def test_refused_tokens_expiry_and_logout(sqlite_db, tokens, tmp_path):
    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            for token, reason in ((tokens["agent"], "may not use the console"),
                                  (tokens["ingest"], "may not use the console"),
                                  ("regie_not-a-token", "unknown or revoked token")):
                person = Browserless(c.url)
                try:
                    status, text, _ = await person.login(token)
                    assert status == 401 and reason in text
                finally:
                    await person.close()
            person = Browserless(c.url)
            try:
                status, text, _ = await person.post("/ui/login",
                                                    {"token": tokens["admin"]}, csrf="-")
                assert status == 403 and "anti-forgery" in text
                await person.login(tokens["admin"])
                assert (await person.get("/ui/queue"))[0] == 200
                c.clock.advance(hours=12, seconds=1)      # [ui] session_hours = 12
                status, _, headers = await person.get("/ui/queue")
                assert status == 303 and headers["Location"].startswith("/ui/login")
                status, text, _ = await person.post("/ui/report", {"summary": "x"})
                assert status == 401 and "log in again" in text
                await person.login(tokens["admin"])
                status, _, headers = await person.post("/ui/logout", {})
                assert status == 303 and headers["Location"] == "/ui/login"
                assert (await person.get("/ui/queue"))[0] == 303
            finally:
                await person.close()

    run(main())


def test_bad_filters_and_unknown_tickets_get_pages_with_the_reason(sqlite_db, tokens,
                                                                    tmp_path):
    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            person = Browserless(c.url)
            try:
                await person.login(tokens["viewer"])
                for path, status, reason in (
                        ("/ui/queue?priority=P9", 400, "priority: one of P1, P2, P3, P4"),
                        ("/ui/queue?status=closed", 400, "open and acknowledged"),
                        ("/ui/queue?after=P1~yesterday~3", 400, "after: not a page cursor"),
                        ("/ui/queue?colour=red", 400, "colour: unknown query parameter"),
                        ("/ui/queue?host=%00", 400, "control characters"),
                        ("/ui/ticket/99999", 404, "no such ticket"),
                        ("/ui/ticket/%D9%A3", 404, "no such ticket"),
                        ("/ui/ticket/1?x=1", 400, "x: unknown query parameter"),
                        ("/ui/eos?within=5y", 400, "within: one of"),
                        ("/ui/hosts/nowhere", 404, "no such host"),
                        ("/ui/static/../../etc/passwd", 404, ""),
                        ("/ui/report", 403, "may not report")):
                    got, text, headers = await person.get(path)
                    assert got == status, (path, got, text[:300])
                    assert reason in text, (path, text[:500])
                    if got != 404 or "static" not in path:
                        assert headers["Content-Type"].startswith("text/html")
            finally:
                await person.close()

    run(main())


def test_the_report_form_prices_a_report_as_the_api_does(sqlite_db, tokens, tmp_path):
    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            person = Browserless(c.url)
            try:
                await person.login(tokens["responder"])
                form = {"summary": "checkout fails", "host": "db1", "impact": "high",
                        "urgency": "high", "description": ""}
                status, _, headers = await person.post("/ui/report", form)
                assert status == 303
                from_page = await c.call("GET", "/api/v1" + headers["Location"].replace(
                    "/ui/ticket/", "/tickets/"))
                from_api = await c.call("POST", "/api/v1/tickets", expect=201, body={
                    k: v for k, v in form.items() if v})
                for key in ("priority", "impact", "urgency", "host", "source"):
                    assert from_page[key] == from_api[key], key
                assert from_page["priority"] == "P1"    # db1 is business-critical here
                status, text, _ = await person.post("/ui/report", {"summary": ""})
                assert status == 400 and "summary" in text
            finally:
                await person.close()

    run(main())


def test_oncall_page_shows_what_the_cli_shows(sqlite_db, tokens, tmp_path):
    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            person = Browserless(c.url)
            try:
                await person.login(tokens["viewer"])
                status, text, _ = await person.get("/ui/oncall")
                assert status == 200
                return text, c.clock.now
            finally:
                await person.close()

    text, now = run(main())
    cli = subprocess.run(
        [sys.executable, "-m", "regie", "oncall", "who", "--schedule",
         str(tmp_path / "oncall.yml"), "--at", now.isoformat()],
        capture_output=True, text=True, timeout=60, check=False)
    assert cli.returncode == 0, cli.stderr
    people = set(re.findall(r'<strong class="person">([^<]+)</strong>', text))
    assert people == {"alice", "bob", "carol"}
    for name in people:
        assert name in cli.stdout
    # The hand-off at 09:00 UTC the same day, as the schedule says.
    assert (now.replace(hour=9) .strftime("%Y-%m-%d %H:%M UTC")) in text
    assert "No gap in the next 4 weeks." in text


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_queue_is_by_priority_then_age_in_pages(backend, tmp_path):
    from tests.collector.conftest import migrated, throwaway_database

    with throwaway_database(backend, tmp_path) as url:
        db = migrated(url)
        tokens = create_tokens(db)

        async def main():
            async with world(db, tmp_path, tokens) as (c, _):
                opened = []
                for index in range(130):
                    urgency = ("high", "medium", "low")[index % 3]
                    ticket = await c.call("POST", "/api/v1/tickets", expect=201, body={
                        "summary": f"problem {index}", "impact": "medium",
                        "urgency": urgency})
                    opened.append((ticket["priority"], index, ticket["id"]))
                    c.clock.advance(minutes=1)
                person = Browserless(c.url)
                try:
                    await person.login(tokens["viewer"])
                    seen, path = [], "/ui/queue"
                    while path:
                        status, text, _ = await person.get(path)
                        assert status == 200
                        seen += [int(i) for i in re.findall(r'data-id="(\d+)"', text)]
                        more = re.search(r'class="more" href="([^"]+)"', text)
                        path = more.group(1).replace("&amp;", "&") if more else None
                    counts = dict(re.findall(r'class="count (P\d)"[^>]*>P\d <strong>(\d+)',
                                             text))
                    return seen, counts, opened
                finally:
                    await person.close()

        seen, counts, opened = run(main())
        expected = [ident for _, _, ident in sorted(opened)]
        assert seen == expected                  # oldest first within a priority
        assert len(seen) == 130 and len(set(seen)) == 130
        by_priority = {}
        for priority, _, _ in opened:
            by_priority[priority] = by_priority.get(priority, 0) + 1
        assert {p: int(n) for p, n in counts.items() if int(n)} == by_priority


def test_end_of_support_page_shows_what_the_cli_shows(sqlite_db, tokens, tmp_path):
    """The demo's sample hardware and contracts plus a host past end of support; the page's
    groups and lines against `regie registry eos --by host --json` for the same day."""
    import json
    import uuid

    from collector.demo_registry import import_samples

    run(import_samples(sqlite_db))

    async def main():
        async with world(sqlite_db, tmp_path, tokens) as (c, _):
            await c.call("POST", "/api/v1/inventory", role="agent", expect=202, body={
                "idempotency_key": uuid.uuid4().hex,
                "document": {"schema": "regie.inventory/v1", "host": {"hostname": "db-old"},
                             "observations": [{"source": "os-release",
                                               "raw": {"ID": "debian", "VERSION_ID": "10"}}]}})
            person = Browserless(c.url)
            try:
                await person.login(tokens["viewer"])
                status, text, _ = await person.get("/ui/eos?by=host")
                assert status == 200
                return text, c.clock.now.date()
            finally:
                await person.close()

    text, today = run(main())
    cli = subprocess.run(
        [sys.executable, "-m", "regie", "registry", "eos", "--db", sqlite_db, "--by", "host",
         "--json", "--today", today.isoformat(), "--within", "8m"],
        capture_output=True, text=True, timeout=60, check=False)
    assert cli.returncode == 0, cli.stderr
    items = json.loads(cli.stdout)["items"]
    groups: dict[str, list[dict]] = {}   # per host, in the order hosts first appear
    for item in items:
        groups.setdefault(item["host"], []).append(item)
    assert "db-old" in groups
    shown_hosts = re.findall(r'<h2><a href="/ui/hosts/[^"]+">([^<]+)</a> <small>\((\d+)\)',
                             text)
    assert [(host, str(len(members))) for host, members in groups.items()] == shown_hosts
    for members in groups.values():
        for item in members:
            assert f'<td class="eos {item["status"]}">{item["status"]}</td>' in text
            assert (item["date"] or "-") in text
