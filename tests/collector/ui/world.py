"""A console to test against: the real collector application with `[ui] enabled`, on-call
configured and a real webhook receiver (tests/collector/oncall_harness.py); only time is
injected. And a logged-in HTTP client that reads forms as a browser would."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.collector.oncall_harness import Clock, Receiver, collector, write_config
from tests.services import free_port

CONSOLE = """
[ui]
enabled = true

[criticality.hosts]
db1 = "business-critical"
db2 = "business-critical"
"""


@contextlib.asynccontextmanager
async def world(db: str, tmp_path: Path, tokens: dict[str, str], *, extra: str = "",
                enabled: bool = True):
    receiver = Receiver()
    await receiver.start()
    port = free_port()
    config = write_config(tmp_path, receiver_url=receiver.url, port=port,
                          extra=(CONSOLE if enabled else CONSOLE.replace("true", "false"))
                          + extra)
    clock = Clock()
    try:
        async with collector(config, db, clock, tokens, port=port) as running:
            yield running, receiver
    finally:
        await receiver.stop()


def alert(name: str, *, host: str, summary: str, severity: str = "critical",
          status: str = "firing", **labels: str) -> dict[str, Any]:
    """An Alertmanager webhook message (version 4) with one alert."""
    return {"version": "4", "status": status, "receiver": "regie", "groupKey": name,
            "alerts": [{"status": status, "fingerprint": f"{name}-{host}",
                        "labels": {"alertname": name, "host": host, "severity": severity,
                                   **labels},
                        "annotations": {"summary": summary},
                        "startsAt": "2026-12-02T02:59:00Z"}]}


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browserless:
    """A person's HTTP session with the console (cookies kept, redirects not followed)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str) -> tuple[int, str, Any]:
        async with self.session.get(self.url + path, allow_redirects=False) as answer:
            text = await answer.text()
            found = CSRF.search(text)
            if found and path != "/ui/login" and not path.startswith("/ui/login?"):
                self.csrf = found.group(1)
            return answer.status, text, answer.headers

    async def post(self, path: str, form: dict[str, str], *,
                   csrf: str | None = None) -> tuple[int, str, Any]:
        data = {**form}
        if csrf is None:
            data["csrf"] = self.csrf
        elif csrf != "-":
            data["csrf"] = csrf
        async with self.session.post(self.url + path, data=data,
                                     allow_redirects=False) as answer:
            return answer.status, await answer.text(), answer.headers

    async def login(self, token: str) -> tuple[int, str, Any]:
        status, text, _ = await self.get("/ui/login")
        assert status == 200, text
        form_csrf = CSRF.search(text).group(1)
        answer = await self.post("/ui/login", {"token": token, "next": "/ui/queue"},
                                 csrf=form_csrf)
        if answer[0] == 303:
            await self.get("/ui/queue")   # the session's CSRF token, from its first page
        return answer

    async def close(self) -> None:
        await self.session.close()
