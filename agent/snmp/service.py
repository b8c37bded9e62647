"""`SnmpService`: polls every configured SNMP target in the background and caches the result.

A daemon thread runs its own asyncio loop: one round polls all targets, at most
`concurrency` at a time, then the next round starts `interval_seconds` after this one
started. Scrapes read the cached samples through `collector()` and never wait on a device.
Each target's poll is cut off at `interval_seconds`, so a stuck device cannot make rounds
pile up. pysnmp is imported only when the first round starts (poller.py), keeping it out of
agents that merely import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from agent.config import SnmpSettings
from agent.snmp.metrics import SnmpMetrics
from agent.snmp.sample import Sample, SystemInfo, failed

if TYPE_CHECKING:
    from agent.snmp.poller import TargetPoller

log = logging.getLogger(__name__)


class SnmpService:
    def __init__(self, settings: SnmpSettings) -> None:
        self._settings = settings
        self._metrics = SnmpMetrics(self.samples)
        # Guards the caches below: written on the loop thread, read by scrapes and pushes.
        self._lock = threading.Lock()
        self._latest: dict[str, Sample] = {}
        # The last system group each target answered with, for inventory.
        self._known: dict[str, SystemInfo] = {}
        self._failing: set[str] = set()
        # One thread drives the loop at a time: poll_once() before start(), or the poller thread.
        self._run_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pollers: list[TargetPoller] | None = None
        self._round_lock = asyncio.Lock()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Poll in the background from now on, first round immediately."""
        with self._run_lock:
            if self._closed:
                raise RuntimeError("SnmpService is closed")
            if self._thread is not None:
                raise RuntimeError("SnmpService is already started")
            loop = self._ensure_loop()
            self._task = loop.create_task(self._serve())
            self._thread = threading.Thread(target=self._run, name="regie-snmp", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop polling (an in-flight round is cancelled) and release the sockets."""
        with self._run_lock:
            self._closed = True
            thread, loop, task = self._thread, self._loop, self._task
            if thread is None:
                if loop is not None and not loop.is_closed():
                    self._shutdown(loop)
                return
        if thread.is_alive() and loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(task.cancel)
            thread.join(timeout)
            if thread.is_alive():
                log.warning("SNMP poller thread did not stop within %gs", timeout)

    def poll_once(self) -> None:
        """Run one round now and return when every target has answered or failed."""
        with self._run_lock:
            if self._closed:
                raise RuntimeError("SnmpService is closed")
            if self._thread is None:
                self._ensure_loop().run_until_complete(self._round())
                return
            loop = self._loop
        assert loop is not None
        asyncio.run_coroutine_threadsafe(self._round(), loop).result()

    def collector(self) -> SnmpMetrics:
        """The custom collector to register; it serves the cached samples."""
        return self._metrics

    def samples(self) -> list[Sample]:
        """The latest sample of each target polled so far, in configuration order."""
        with self._lock:
            return [self._latest[t.name] for t in self._settings.targets
                    if t.name in self._latest]

    def observations(self) -> list[dict[str, Any]]:
        """One inventory observation per target that has answered since start."""
        with self._lock:
            known = [(t.name, self._known[t.name]) for t in self._settings.targets
                     if t.name in self._known]
        return [
            {"source": "snmp",
             "raw": {"sysDescr": info.descr, "sysName": info.name,
                     "sysObjectID": info.object_id, "target": name}}
            for name, info in known
        ]

    # The loop side.

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def _run(self) -> None:
        assert self._loop is not None and self._task is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._shutdown(self._loop)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._settings.interval_seconds
        while True:
            started = loop.time()
            try:
                await self._round()
            except Exception:  # a bug must not end polling for the agent's lifetime
                log.exception("SNMP polling round failed")
            await asyncio.sleep(max(0.0, started + interval - loop.time()))

    async def _round(self) -> None:
        async with self._round_lock:
            limit = asyncio.Semaphore(self._settings.concurrency)

            async def one(poller: TargetPoller) -> None:
                async with limit:
                    sample = await self._poll(poller)
                self._record(sample)

            await asyncio.gather(*(one(p) for p in self._ensure_pollers()))

    def _ensure_pollers(self) -> list[TargetPoller]:
        if self._pollers is None:
            from agent.snmp.poller import TargetPoller  # pysnmp: only when polling

            self._pollers = [TargetPoller(t, self._settings) for t in self._settings.targets]
        return self._pollers

    async def _poll(self, poller: TargetPoller) -> Sample:
        deadline = self._settings.interval_seconds
        start = time.perf_counter()
        try:
            return await asyncio.wait_for(poller.poll(), deadline)
        except TimeoutError:
            return failed(poller.target.name, duration_seconds=time.perf_counter() - start,
                          error=f"poll took longer than the {deadline:g}s interval")

    def _record(self, sample: Sample) -> None:
        name = sample.target
        with self._lock:
            self._latest[name] = sample
            if sample.up and sample.system is not None:
                self._known[name] = sample.system
            went_down = not sample.up and name not in self._failing
            came_back = sample.up and name in self._failing
            if went_down:
                self._failing.add(name)
            elif came_back:
                self._failing.discard(name)
        # One warning per failure streak, not one per round. The error text carries no
        # credentials (poller.py redacts them).
        if went_down:
            log.warning("SNMP target %s is down, its series are dropped until it answers: %s",
                        name, sample.error)
        elif came_back:
            log.info("SNMP target %s answers again", name)

    def _shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel what is left, close the engines' sockets, close the loop (its own thread)."""
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(self._release())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    async def _release(self) -> None:
        for poller in self._pollers or ():
            poller.close()
        # Let the transports' close callbacks run before the loop closes.
        await asyncio.sleep(0)
