"""Follow-up reminders of vendor cases, delivered to a real webhook receiver (HMAC-verified) by
the real application (stores, reminder sweep, notification queue and delivery), on SQLite and
PostgreSQL: once per interval, across a collector restart, and with two collectors sharing
one PostgreSQL database.

Only time is fake (tests/collector/oncall_harness.py `Clock`): the tests call the reminder
sweep and the notifier's delivery round where the service's loops would, so "a day later"
takes no time and nothing depends on timing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from tests.collector.conftest import create_tokens, migrated, throwaway_database
from tests.collector.oncall_harness import Clock, Receiver, Running, write_config
from tests.services import free_port


@contextlib.asynccontextmanager
async def collector(config: Path, db: str, clock: Clock, tokens: dict[str, str]
                    ) -> AsyncIterator[Running]:
    """The real app with on-call and the reminder sweep, loops not running (driven here)."""
    from collector.app import make_app
    from collector.config import load_settings
    from collector.service import load_oncall, oncall_context, stores_context
    from collector.vendor_case_reminders import reminders_context

    port = free_port()
    settings = load_settings(config, db=db, listen=f"127.0.0.1:{port}")
    app = make_app(settings, stores_ctx=stores_context(settings, clock=clock),
                   extra_ctx=[oncall_context(settings, load_oncall(settings), clock=clock,
                                             run_loops=False),
                              reminders_context(settings, clock=clock, run_loop=False)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Running(app=app, url=f"http://127.0.0.1:{port}", clock=clock, tokens=tokens)
    finally:
        await runner.cleanup()


async def sweep(running: Running) -> int:
    from collector.vendor_case_reminders import REMINDERS

    return (await running.app[REMINDERS].sweep_once()).claimed


async def open_case(running: Running, **fields) -> dict:
    return await running.call("POST", "/api/v1/vendor-cases", expect=201, body={
        "vendor": "Dell", "case_number": "SR-1001", "summary": "RAID controller resets",
        "owner": "alice", "follow_up_days": 1, **fields})


def reminders(receiver: Receiver) -> list[tuple[str, str | None, int]]:
    return [(d["kind"], d["recipient"], d["case_id"]) for d in receiver.deliveries]


async def kinds(running: Running, case_id: int) -> list[str]:
    case = await running.call("GET", f"/api/v1/vendor-cases/{case_id}", role="viewer")
    return [e["kind"] for e in case["timeline"]]


def test_reminded_once_per_interval_until_updated(collector_db, tmp_path):
    tokens = create_tokens(collector_db)

    async def main() -> None:
        receiver = Receiver()
        await receiver.start()
        clock = Clock()
        config = write_config(tmp_path, receiver_url=receiver.url, port=free_port())
        try:
            async with collector(config, collector_db, clock, tokens) as c:
                case = await open_case(c)
                one = ("vendor_case_reminder", "alice", case["id"])
                clock.advance(days=1, seconds=-1)
                assert (await sweep(c), await c.deliver()) == (0, 0)
                clock.advance(seconds=1)                     # exactly one interval: due
                assert (await sweep(c), await c.deliver()) == (1, 1)
                assert reminders(receiver) == [one]
                delivered = receiver.deliveries[0]
                assert delivered["vendor"] == "Dell" and delivered["case_number"] == "SR-1001"
                assert delivered["follow_up_days"] == 1
                # Sweeping again, however often, within the interval: nothing more.
                for _ in range(3):
                    clock.advance(hours=7)
                    assert (await sweep(c), await c.deliver()) == (0, 0)
                clock.advance(hours=3)                       # one interval after the reminder
                assert (await sweep(c), await c.deliver()) == (1, 1)
                assert reminders(receiver) == [one, one]
                # A note is a follow-up: the interval starts again from it.
                clock.advance(hours=12)
                await c.call("POST", f"/api/v1/vendor-cases/{case['id']}/note", expect=200,
                             body={"text": "chased the vendor by phone"})
                clock.advance(hours=23, minutes=59)
                assert await sweep(c) == 0
                clock.advance(minutes=1)
                assert (await sweep(c), await c.deliver()) == (1, 1)
                # Resolved: nobody waits on anyone, no more reminders.
                await c.call("POST", f"/api/v1/vendor-cases/{case['id']}/update",
                             expect=200, body={"status": "resolved"})
                clock.advance(days=5)
                assert await sweep(c) == 0
                assert len(reminders(receiver)) == 3
                timeline = await kinds(c, case["id"])
                assert timeline.count("reminder_queued") == 3
                assert timeline.count("reminded") == 3
                shown = await c.call("GET", f"/api/v1/vendor-cases/{case['id']}", role="viewer")
                assert shown["reminders"] == 3
                queue = await c.call("GET", "/api/v1/notifications?status=delivered",
                                     role="viewer")
                assert {n["vendor_case_id"] for n in queue["notifications"]} == {case["id"]}
                assert {n["ticket_id"] for n in queue["notifications"]} == {None}
        finally:
            await receiver.stop()

    asyncio.run(main())


def test_a_restart_neither_repeats_nor_loses_a_reminder(collector_db, tmp_path):
    tokens = create_tokens(collector_db)

    async def main() -> None:
        receiver = Receiver()
        await receiver.start()
        clock = Clock()
        config = write_config(tmp_path, receiver_url=receiver.url, port=free_port())
        try:
            async with collector(config, collector_db, clock, tokens) as c:
                case = await open_case(c)
                clock.advance(days=1, hours=1)
                assert await sweep(c) == 1          # queued; the process stops before sending
            async with collector(config, collector_db, clock, tokens) as c:
                assert await sweep(c) == 0          # already queued for this interval
                assert await c.deliver() == 1       # the queue outlived the process
                assert reminders(receiver) == [("vendor_case_reminder", "alice", case["id"])]
            async with collector(config, collector_db, clock, tokens) as c:
                assert (await sweep(c), await c.deliver()) == (0, 0)
                clock.advance(days=1)
                assert (await sweep(c), await c.deliver()) == (1, 1)
            assert len(reminders(receiver)) == 2
        finally:
            await receiver.stop()

    asyncio.run(main())


def test_two_collectors_on_postgresql_remind_once(tmp_path):
    with throwaway_database("postgresql", tmp_path) as url:
        _two_collectors(migrated(url), tmp_path)


def _two_collectors(db: str, tmp_path: Path) -> None:
    tokens = create_tokens(db)

    async def main() -> None:
        receiver = Receiver()
        await receiver.start()
        clock = Clock()
        config = write_config(tmp_path, receiver_url=receiver.url, port=free_port())
        try:
            async with collector(config, db, clock, tokens) as a, \
                    collector(config, db, clock, tokens) as b:
                cases = [await open_case(a, case_number=f"SR-{n}") for n in range(5)]
                for _ in range(2):          # two intervals
                    clock.advance(days=1)
                    claimed = 0
                    for _ in range(3):      # both sweep, at once, again and again
                        claimed += sum(await asyncio.gather(sweep(a), sweep(b), sweep(a),
                                                            sweep(b)))
                    assert claimed == len(cases)
                    for _ in range(3):
                        await asyncio.gather(a.deliver(), b.deliver())
                told = sorted(r[2] for r in reminders(receiver))
                assert told == sorted([c["id"] for c in cases] * 2)
                assert len({d["_delivery"] for d in receiver.deliveries}) == len(told)
        finally:
            await receiver.stop()

    asyncio.run(main())


def test_the_owner_is_reminded_by_email_and_a_refusal_is_on_the_timeline(sqlite_db, tmp_path):
    """A real SMTP server (aiosmtpd, STARTTLS, AUTH): `[vendor_cases] channels = ["mail"]`
    sends reminders by e-mail only, to the owner's address from the on-call schedule. A
    webhook that refuses (400) a reminder leaves a dead letter and `reminder_failed` on the
    case's timeline."""
    from tests.alerting.notify.peers import PASSWORD, USER, smtp_server
    from tests.tls import make_tls

    tokens = create_tokens(sqlite_db)
    (tmp_path / "tls").mkdir()
    tls = make_tls(tmp_path / "tls")
    (tmp_path / "smtp.password").write_text(PASSWORD + "\n")
    (tmp_path / "smtp.password").chmod(0o600)   # secret files other users can read are refused

    async def main(box) -> None:
        receiver = Receiver()
        await receiver.start()
        clock = Clock()
        mail = f"""
[[oncall.channels]]
name = "mail"
kind = "email"
host = "127.0.0.1"
port = {box.port}
mode = "starttls"
ca_file = "{tls.ca}"
username = "{USER}"
password_file = "{tmp_path / 'smtp.password'}"
from_address = "Regie <regie@example.org>"
"""
        try:
            only_mail = write_config(tmp_path, receiver_url=receiver.url, port=free_port(),
                                     extra=mail + '\n[vendor_cases]\nchannels = ["mail"]\n')
            async with collector(only_mail, sqlite_db, clock, tokens) as c:
                case = await open_case(c, owner="bob")
                clock.advance(days=1)
                assert (await sweep(c), await c.deliver()) == (1, 1)
                assert receiver.deliveries == []            # the webhook is not one of them
            hook_only = write_config(tmp_path, receiver_url=receiver.url, port=free_port())
            receiver.script = [(400, {})]
            async with collector(hook_only, sqlite_db, clock, tokens) as c:
                clock.advance(days=1)
                assert (await sweep(c), await c.deliver()) == (1, 1)
                shown = await c.call("GET", f"/api/v1/vendor-cases/{case['id']}",
                                     role="viewer")
                failed = [e for e in shown["timeline"] if e["kind"] == "reminder_failed"]
                assert len(failed) == 1 and "HTTP 400" in failed[0]["message"], failed
                dead = await c.call("GET", "/api/v1/notifications?status=dead", role="viewer")
                assert [n["vendor_case_id"] for n in dead["notifications"]] == [case["id"]]
        finally:
            await receiver.stop()

    with smtp_server(tls=tls, mode="starttls") as box:
        asyncio.run(main(box))
        assert [rcpt for _, rcpt, _ in box.messages] == [["bob@example.org"]]
        message = box.messages[0][2]
        assert message["Subject"] == ("[medium] Follow up Dell case SR-1001: RAID controller "
                                      "resets")
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert body.startswith("Vendor case #1 needs a follow-up: RAID controller resets")
        assert "No update for: 1 day(s)" in body
