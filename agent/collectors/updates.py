"""Pending package updates as metrics: how many, how many for security, and since when.

The package manager is asked by the inventory's own readers (agent/inventory/updates.py: an
`apt-get -s` simulation or dnf's cache, nothing changes on the host), at most every
`health.updates_interval_seconds`, in a thread of its own: a scrape never waits for apt. Until
the first answer the families are empty; a host with neither apt nor dnf has none at all.

"Since when" is when the agent first saw each pending security update (by manager, package and
architecture; a newer version of a package still unpatched keeps its date). Those dates are
kept in `health.updates_state_file`, so an agent restart does not reset a 14-day-old backlog
to zero; without a writable file they are kept in memory only (logged once).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.inventory import updates
from agent.inventory.reading import Context, run_command

log = logging.getLogger(__name__)

Check = Callable[[], list[dict[str, Any]] | None]


def check_updates(readers: Sequence[Callable[[Context], Any]] = (updates.read_apt,
                                                                  updates.read_dnf)
                  ) -> list[dict[str, Any]] | None:
    """The pending updates (inventory's `updates` shape), None without apt or dnf."""
    ctx = Context(root=Path("/"), run=run_command)
    for read in readers:
        reading = read(ctx)
        if reading is not None:
            return list(reading.value)
    return None


def _key(update: dict[str, Any]) -> str:
    return f"{update.get('manager')}/{update.get('package')}/{update.get('architecture')}"


class UpdatesCollector:
    name = "updates"

    def __init__(self, *, interval_seconds: float, state_file: Path | None,
                 check: Check = check_updates, clock: Callable[[], float] = time.time,
                 start: bool = True) -> None:
        self._interval = interval_seconds
        self._state_file = state_file
        self._check = check
        self._clock = clock
        self._lock = threading.Lock()
        self._result: tuple[float, int, int, float | None] | None = None
        self._first_seen: dict[str, float] = self._load()
        self._persist_warned = False
        self._stop = threading.Event()
        if start:
            threading.Thread(target=self._loop, name="updates check", daemon=True).start()

    def _load(self) -> dict[str, float]:
        if self._state_file is None:
            return {}
        try:
            data = json.loads(self._state_file.read_text())
            return {str(k): float(v) for k, v in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("updates state file %s unreadable (%s); starting afresh",
                        self._state_file, exc)
            return {}

    def _save(self) -> None:
        if self._state_file is None:
            return
        try:
            tmp = self._state_file.with_name(f".{self._state_file.name}.tmp")
            tmp.write_text(json.dumps(self._first_seen, sort_keys=True))
            tmp.replace(self._state_file)
        except OSError as exc:
            if not self._persist_warned:
                self._persist_warned = True
                log.warning("cannot keep pending-update dates in %s (%s); they are kept in "
                            "memory only", self._state_file, exc.strerror or exc)

    def refresh(self) -> None:
        """Ask the package manager once and remember the answer (the thread's work)."""
        pending = self._check()
        now = self._clock()
        if pending is None:
            with self._lock:
                self._result = None
            return
        security = [u for u in pending if u.get("security")]
        keys = {_key(u) for u in security}
        with self._lock:
            first_seen = {k: v for k, v in self._first_seen.items() if k in keys}
            for key in keys:
                first_seen.setdefault(key, now)
            changed = first_seen != self._first_seen
            self._first_seen = first_seen
            oldest = min(first_seen.values()) if first_seen else None
            self._result = (now, len(pending), len(security), oldest)
        if changed:
            self._save()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception as exc:  # a broken apt must not end the thread
                log.warning("checking for pending updates failed: %s: %s",
                            type(exc).__name__, exc)
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()

    def collect(self) -> Iterable[Metric]:
        checked = GaugeMetricFamily("regie_updates_check_timestamp_seconds",
                                    "When the package manager was last asked (Unix time).")
        pending = GaugeMetricFamily("regie_updates_pending",
                                    "Package updates pending (apt dist-upgrade or dnf).")
        security = GaugeMetricFamily("regie_updates_security_pending",
                                     "Pending updates from a security source.")
        since = GaugeMetricFamily(
            "regie_updates_security_pending_since_timestamp_seconds",
            "When the agent first saw the oldest still-pending security update (Unix time).")
        with self._lock:
            result = self._result
        if result is not None:
            at, count, count_security, oldest = result
            checked.add_metric([], at)
            pending.add_metric([], count)
            security.add_metric([], count_security)
            if oldest is not None:
                since.add_metric([], oldest)
        yield from (checked, pending, security, since)
