"""A collector with on-call configured, in this process, driven by an injected clock.

The collector is the real application (make_app with the real stores, escalation and
notification code) serving HTTP on a loopback port; the webhook receiver is a real aiohttp
server that verifies each delivery's HMAC signature. Only time is fake: `Clock` stands in for
the wall clock, and tests call `sweep()` / `deliver()` where the service's loops would, so
"five minutes later" takes no time and no test depends on timing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.services import free_port

HOOK_SECRET = "receiver-shared-secret-0123456789"
LINK_SECRET = "link-signing-key-abcdefghijklmnop"

SCHEDULE = """\
people:
  alice: {email: alice@example.org}
  bob: {email: bob@example.org}
  carol: {email: carol@example.org}
teams:
  - name: ops
    timezone: UTC
    business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
    layers:
      primary: {participants: [alice], rotation: daily, handoff: "09:00", start: 2026-01-01}
      secondary: {participants: [bob], rotation: daily, handoff: "09:00", start: 2026-01-01}
      escalation_manager:
        {participants: [carol], rotation: daily, handoff: "09:00", start: 2026-01-01}
"""

# A Wednesday, 03:00 UTC: outside business hours.
NIGHT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = NIGHT) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Receiver:
    """A webhook receiver on loopback: verifies signatures, answers from a script."""

    deliveries: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answers to give
    refused: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get("X-Regie-Signature", "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        expected = hmac.new(HOOK_SECRET.encode(), parts.get("t", "").encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            self.refused += 1
            return web.Response(status=401, text="bad signature")
        if self.script:
            status, headers = self.script.pop(0)
            if status >= 300:
                return web.Response(status=status, headers=headers, text="not now")
        self.deliveries.append({**json.loads(body),
                                "_delivery": request.headers.get("X-Regie-Delivery")})
        return web.Response(status=200, text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def told(self) -> list[tuple[str, str | None]]:
        """(kind, recipient) of every delivery, in arrival order."""
        return [(d["kind"], d.get("recipient")) for d in self.deliveries]


def write_config(tmp_path: Path, *, receiver_url: str, port: int,
                 policies: str | None = None, extra: str = "",
                 hook_rate: float | None = None) -> Path:
    schedule = tmp_path / "oncall.yml"
    schedule.write_text(SCHEDULE)
    (tmp_path / "hook.key").write_text(HOOK_SECRET + "\n")
    (tmp_path / "link.key").write_text(LINK_SECRET + "\n")
    for key in ("hook.key", "link.key"):
        (tmp_path / key).chmod(0o600)   # secret files other users can read are refused
    policy_line = ""
    if policies is not None:
        (tmp_path / "policies.yml").write_text(policies)
        policy_line = f'policy_file = "{tmp_path / "policies.yml"}"\n'
    config = tmp_path / "collector.toml"
    config.write_text(f"""\
[oncall]
schedule_file = "{schedule}"
{policy_line}public_url = "http://127.0.0.1:{port}"
link_secret_file = "{tmp_path / 'link.key'}"

[[oncall.channels]]
name = "hook"
kind = "webhook"
url = "{receiver_url}"
secret_file = "{tmp_path / 'hook.key'}"
allow_networks = ["127.0.0.1/32"]
timeout_seconds = 5
{f"rate_per_minute = {hook_rate}" if hook_rate else ""}
{extra}""")
    return config


@dataclass
class Running:
    app: web.Application
    url: str
    clock: Clock
    tokens: dict[str, str]

    @property
    def oncall(self):
        from collector.app import ONCALL

        return self.app[ONCALL]

    async def sweep(self) -> int:
        return (await self.oncall.escalator.sweep_once()).claimed

    async def deliver(self) -> int:
        return await self.oncall.notifier.deliver_once()

    async def settle(self) -> None:
        """Sweep and deliver until nothing more is due at the clock's time."""
        for _ in range(20):
            if not (await self.sweep() + await self.deliver()):
                return
        raise AssertionError("still busy after 20 rounds")

    async def call(self, method: str, path: str, *, role: str = "responder",
                   body: Any = None, expect: int | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        async with aiohttp.ClientSession() as session, session.request(
                method, self.url + path, json=body, headers=headers) as response:
            text = await response.text()
            if expect is not None:
                assert response.status == expect, (response.status, text)
            try:
                return json.loads(text)
            except ValueError:
                return text

    async def open_ticket(self, *, host: str = "db1", component: str = "postgres",
                          impact: str = "business-critical", urgency: str = "high") -> int:
        ticket = await self.call("POST", "/api/v1/tickets", expect=201, body={
            "summary": f"{component} down on {host}", "host": host, "component": component,
            "impact": impact, "urgency": urgency})
        return ticket["id"]

    async def timeline(self, ticket_id: int) -> list[dict[str, Any]]:
        return (await self.call("GET", f"/api/v1/tickets/{ticket_id}"))["timeline"]


@contextlib.asynccontextmanager
async def collector(config: Path, db: str, clock: Clock, tokens: dict[str, str], *,
                    port: int, run_loops: bool = False) -> AsyncIterator[Running]:
    from collector.app import make_app
    from collector.config import load_settings
    from collector.service import load_oncall, oncall_context, stores_context

    settings = load_settings(config, db=db, listen=f"127.0.0.1:{port}")
    app = make_app(settings, stores_ctx=stores_context(settings, clock=clock),
                   extra_ctx=[oncall_context(settings, load_oncall(settings), clock=clock,
                                             run_loops=run_loops)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Running(app=app, url=f"http://127.0.0.1:{port}", clock=clock, tokens=tokens)
    finally:
        await runner.cleanup()


@dataclass
class OnCall:
    """One test's world: a database, tokens, a webhook receiver, a clock, a collector port
    (the `oncall` fixture, tests/collector/conftest.py)."""

    db: str
    tmp_path: Path
    tokens: dict[str, str]
    receiver: Receiver = field(default_factory=lambda: Receiver())
    clock: Clock = field(default_factory=lambda: Clock())
    port: int = field(default_factory=free_port)
    config: Path | None = None

    async def prepare(self, **config: Any) -> Path:
        """Start the receiver and write the collector's configuration (write_config's
        keyword arguments: policies, extra, hook_rate)."""
        await self.receiver.start()
        self.config = write_config(self.tmp_path, receiver_url=self.receiver.url,
                                   port=self.port, **config)
        return self.config

    def collector(self, *, run_loops: bool = False):
        assert self.config is not None, "prepare() first"
        return collector(self.config, self.db, self.clock, self.tokens, port=self.port,
                         run_loops=run_loops)

    @contextlib.asynccontextmanager
    async def running(self, **config: Any) -> AsyncIterator[Running]:
        """Receiver, configuration and collector; the receiver stops afterwards."""
        await self.prepare(**config)
        try:
            async with self.collector() as running:
                yield running
        finally:
            await self.receiver.stop()
