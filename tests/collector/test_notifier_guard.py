"""A channel that raises something nobody expected costs only its own delivery.

The collector application, its SQLite store and a real webhook receiver run in this process
(tests/collector/oncall_harness.py); time is an injected clock. The one fault injected: the
"broken" channel's send raises `UnicodeError` - an unexpected exception cannot be produced
through a real channel once every known cause is refused at start-up, which is the point of
this guard, so the channel object is replaced after start-up.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from alerting.notify.channels import Channel
from collector.notifier import ConfiguredChannel
from tests.collector.conftest import create_tokens
from tests.collector.oncall_harness import Clock, Receiver, collector, write_config
from tests.services import free_port


class _Raises(Channel):
    """A channel whose send raises, as a bug in a channel or a library would."""

    async def send(self, notification, *, delivery_id, ctx=None, timeout=None):
        raise UnicodeError("encoding with 'idna' codec failed")


def test_an_exception_in_one_channel_leaves_the_round_bookkept(sqlite_db, tmp_path):
    clock, port, receiver = Clock(), free_port(), Receiver()
    tokens = create_tokens(sqlite_db)

    async def main() -> None:
        await receiver.start()
        config = write_config(tmp_path, receiver_url=receiver.url, port=port, extra="""
[[oncall.channels]]
name = "broken"
kind = "file"
path = "-"
""")
        text = config.read_text().replace("[oncall]\n", "[oncall]\nmax_attempts = 2\n", 1)
        config.write_text(text)
        for key in ("hook.key", "link.key"):
            (tmp_path / key).chmod(0o600)
        try:
            async with collector(config, sqlite_db, clock, tokens, port=port) as c:
                notifier = c.oncall.notifier
                broken = notifier.channels["broken"]
                notifier.channels = {**notifier.channels, "broken": replace(
                    broken, channel=_Raises("file", broken.channel.settings))}
                assert isinstance(notifier.channels["broken"], ConfiguredChannel)
                tickets = [await c.open_ticket(host=f"db{n}", component=f"service{n}")
                           for n in range(3)]
                await c.sweep()
                assert await c.deliver() == 6
                listed = (await c.call("GET", "/api/v1/notifications"))["notifications"]
                hooks = [n for n in listed if n["channel"] == "hook"]
                broken_rows = [n for n in listed if n["channel"] == "broken"]
                assert sorted(n["ticket_id"] for n in hooks) == sorted(tickets)
                assert {n["status"] for n in hooks} == {"delivered"}
                assert [(n["status"], n["attempts"]) for n in broken_rows] == [("pending", 1)] * 3
                assert all("UnicodeError" in n["last_error"] for n in broken_rows)
                # Nothing more is due now: the good receiver is not told again.
                assert await c.deliver() == 0
                assert len(receiver.deliveries) == 3
                clock.advance(seconds=30)       # past the first backoff (10 s, +-10 %)
                assert await c.deliver() == 3
                listed = (await c.call("GET", "/api/v1/notifications"))["notifications"]
                dead = [n for n in listed if n["channel"] == "broken"]
                assert [(n["status"], n["attempts"]) for n in dead] == [("dead", 2)] * 3
                assert all("(after 2 attempts)" in n["last_error"] for n in dead)
                assert len(receiver.deliveries) == 3
        finally:
            await receiver.stop()

    asyncio.run(main())
