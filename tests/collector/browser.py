"""A real headless Chromium, driven over the DevTools protocol (CDP) with aiohttp's websocket
client: open a page, read its DOM text, type into a field, click a button, take a screenshot,
and, once `watch()` is called, record every request the page makes and every console error,
Content-Security-Policy violations included.

No browser automation library is needed (Playwright's own browser download is not possible
here); Chromium comes from the distribution (`apt-get install chromium`, deploy/test-deps.sh).
Waiting is by events with a deadline (the page's load event), never by sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.services import require_binary

DEADLINE_SECONDS = 30.0


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._loads: asyncio.Queue[None] = asyncio.Queue()
        self.requests: list[str] = []          # every URL requested, once watch() is on
        self.console_errors: list[str] = []    # console errors, exceptions, CSP reports
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._pending:
                self._pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Page.loadEventFired":
                self._loads.put_nowait(None)
            elif data.get("method") == "Network.requestWillBeSent":
                self.requests.append(data["params"]["request"]["url"])
            elif data.get("method") == "Runtime.exceptionThrown":
                details = data["params"]["exceptionDetails"]
                self.console_errors.append(details.get("text", "exception"))
            elif data.get("method") == "Runtime.consoleAPICalled" and \
                    data["params"].get("type") in ("error", "assert"):
                self.console_errors.append(json.dumps(data["params"].get("args"))[:500])
            elif data.get("method") == "Log.entryAdded" and \
                    data["params"]["entry"].get("level") == "error":
                self.console_errors.append(data["params"]["entry"].get("text", ""))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        done = asyncio.get_running_loop().create_future()
        self._pending[call_id] = done
        await self._ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        async with asyncio.timeout(DEADLINE_SECONDS):
            answer = await done
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def _loaded(self) -> None:
        async with asyncio.timeout(DEADLINE_SECONDS):
            await self._loads.get()

    async def goto(self, url: str) -> None:
        while not self._loads.empty():
            self._loads.get_nowait()
        await self.send("Page.navigate", url=url)
        await self._loaded()

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def text(self) -> str:
        return await self.evaluate("document.body.innerText")

    async def html(self) -> str:
        return await self.evaluate("document.documentElement.outerHTML")

    async def click(self, selector: str) -> None:
        """Click the element and wait for the page the click leads to (a form post)."""
        while not self._loads.empty():
            self._loads.get_nowait()
        found = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
            f"if (!e) return false; e.click(); return true; }})()")
        assert found, f"no element matches {selector!r}"
        await self._loaded()

    async def watch(self) -> None:
        """Record requests and console errors from now on."""
        for domain in ("Network.enable", "Runtime.enable", "Log.enable"):
            await self.send(domain)

    async def fill(self, selector: str, value: str) -> None:
        """Set a form field's value (as typing would leave it)."""
        found = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
            f"if (!e) return false; e.value = {json.dumps(value)}; return true; }})()")
        assert found, f"no element matches {selector!r}"

    async def wait_for(self, expression: str, seconds: float) -> float:
        """Poll `expression` (JavaScript) until it is true; the seconds it took, or an
        AssertionError after `seconds`."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while not await self.evaluate(expression):
            if loop.time() - start > seconds:
                raise AssertionError(f"not true within {seconds} s: {expression}")
            await asyncio.sleep(0.05)
        return loop.time() - start

    async def viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=mobile)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Page]:
    """One headless Chromium with one page; stopped afterwards."""
    binary = require_binary("chromium")
    # Chromium's helper processes (renderer, crash handler) may still write into the profile
    # after the browser itself exited: they are stopped with it (its own process group), and
    # what they leave in the throw-away profile does not fail the test that used it.
    with tempfile.TemporaryDirectory(prefix="regie-chromium-",
                                     ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--no-first-run", "--window-size=1100,900",
             f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            port = await _devtools_port(Path(profile), process)
            async with aiohttp.ClientSession() as session:
                async with asyncio.timeout(DEADLINE_SECONDS):
                    async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
                        targets = await answer.json()
                target = next(t for t in targets if t.get("type") == "page")
                async with session.ws_connect(target["webSocketDebuggerUrl"],
                                              max_msg_size=64 * 1024 * 1024) as ws:
                    page = Page(ws)
                    try:
                        await page.send("Page.enable")
                        yield page
                    finally:
                        await page.close()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)   # helpers that outlived it


async def _devtools_port(profile: Path, process: subprocess.Popen) -> int:
    """Chromium writes the port it picked to DevToolsActivePort in its profile."""
    marker = profile / "DevToolsActivePort"
    async with asyncio.timeout(DEADLINE_SECONDS):
        while True:
            if process.poll() is not None:
                raise AssertionError(f"chromium exited with {process.returncode}")
            if marker.exists():
                first = marker.read_text().splitlines()[:1]
                if first and first[0].isdigit():
                    return int(first[0])
            await asyncio.sleep(0.05)
