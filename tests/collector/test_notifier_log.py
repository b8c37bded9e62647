"""The notifier's retry and dead-letter log lines name the notice: ticket, kind, recipient,
channel, attempt; never a URL, a token or a link key.

The collector application, its SQLite store and a real webhook receiver (answering 500, then
400) run in this process (tests/collector/oncall_harness.py); time is an injected clock."""

from __future__ import annotations

import asyncio
import logging

from tests.collector.conftest import create_tokens
from tests.collector.oncall_harness import (
    HOOK_SECRET,
    LINK_SECRET,
    Clock,
    Receiver,
    collector,
    write_config,
)
from tests.services import free_port


def test_retry_and_dead_letter_lines_name_the_ticket(sqlite_db, tmp_path, caplog):
    clock, port, receiver = Clock(), free_port(), Receiver(script=[(500, {}), (400, {})])
    tokens = create_tokens(sqlite_db)
    caplog.set_level(logging.INFO, logger="regie.collector.notify")

    async def main() -> tuple[int, int]:
        await receiver.start()
        config = write_config(tmp_path, receiver_url=receiver.url, port=port)
        try:
            async with collector(config, sqlite_db, clock, tokens, port=port) as c:
                ticket = await c.open_ticket(host="db7", component="postgres")
                await c.sweep()
                assert await c.deliver() == 1           # 500: retried
                clock.advance(seconds=30)               # past the first backoff (10 s +-10 %)
                assert await c.deliver() == 1           # 400: a dead letter
                (notice,) = (await c.call("GET", "/api/v1/notifications?status=dead",
                                          role="admin"))["notifications"]
                assert notice["attempts"] == 2
                return ticket, notice["id"]
        finally:
            await receiver.stop()

    ticket, notice = asyncio.run(main())
    lines = [r.getMessage() for r in caplog.records if r.name == "regie.collector.notify"]
    about = (f"ticket {ticket}: trigger notice to alice via hook, attempt {{}} of 10 "
             f"(notification {notice})")
    retried = [line for line in lines if line.startswith(about.format(1) + " failed: ")]
    dead = [line for line in lines if line.startswith(about.format(2) + " given up ")]
    assert len(retried) == 1 and len(dead) == 1, lines
    assert "HTTP 500" in retried[0] and "; retrying in " in retried[0]
    assert "HTTP 400" in dead[0]
    for line in lines:
        assert "://" not in line and "127.0.0.1" not in line, line
        for secret in (HOOK_SECRET, LINK_SECRET, *tokens.values()):
            assert secret not in line
