"""The registry inside the collector: the end-of-support data in memory, matched on every
inventory push, and what priorities and /metrics need from it.

The data comes from the store (the last `regie registry sync`) or, before any sync, from the
curated dataset bundled with Regie. A sync runs in its own process (the CLI): the collector
notices the new sync within `refresh_seconds` and loads it. The hosts whose operating system
is past end of support (no security and no extended support left) are kept in memory for the
priority matrix, which raises a ticket's impact for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from collector.failure_streak import FailureStreak
from collector.store.registry import RegistryStore, software_row
from registry import fleet
from registry.end_of_support import Catalog, DataError, catalog_from_dump, load_default
from registry.imports import Asset
from registry.lifecycle import Software, is_past

log = logging.getLogger("regie.collector.registry")


class Registry:
    def __init__(self, store: RegistryStore, *, clock: Callable[[], datetime],
                 refresh_seconds: float = 30.0) -> None:
        self.store = store
        self._clock = clock
        self._refresh = refresh_seconds
        self.catalog: Catalog = Catalog()
        self.matcher: Any = None
        self.sync_id: int | None = None
        self.origin = "none"
        self._past: set[str] = set()

    async def load(self) -> None:
        """The stored data (last sync), else the bundled dataset."""
        from registry.matching import Matcher

        info = await self.store.latest_sync()
        catalog = None
        if info is not None:
            try:
                catalog = catalog_from_dump(await self.store.catalog_documents(), "the store")
                self.origin = f"sync {info.id} from {info.source}"
            except DataError as exc:  # written validated; a hand edit could still break it
                log.error("stored end-of-support data unusable (%s); using the bundled data",
                          exc)
        if catalog is None:
            catalog = load_default()
            self.origin = "bundled dataset"
        self.catalog = catalog
        self.matcher = Matcher(catalog)
        self.sync_id = info.id if info is not None else None
        log.info("end-of-support data: %d products (%s)", len(catalog), self.origin)
        await self.refresh_past()

    def match(self, host: str, document: Mapping[str, Any],
              now: datetime) -> tuple[list[dict[str, Any]], Asset | None]:
        """The `host_software` rows and the hardware asset for one inventory document."""
        rows = [software_row(found, now)
                for found in fleet.software(self.matcher, self.catalog, document)]
        return rows, fleet.asset(host, document)

    def pushed(self, host: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """After a committed push: the host's past-end-of-support standing."""
        today = self._clock().date()
        if any(_past_os(row, host, today) for row in rows):
            self._past.add(host)
        else:
            self._past.discard(host)

    def past_end_of_support(self, host: str | None) -> bool:
        return host is not None and host in self._past

    async def refresh_past(self) -> None:
        today = self._clock().date()
        rows = await self.store.software()
        self._past = {r.host for r in rows if r.category == "os" and is_past(r, today)}

    async def run(self) -> None:
        """Reload when another process synced; recompute who is past end of support (dates
        pass while nothing changes)."""
        failures = FailureStreak("registry refresh", log)  # one entry per outage, not round
        while True:
            await asyncio.sleep(self._refresh)
            try:
                info = await self.store.latest_sync()
                if info is not None and info.id != self.sync_id:
                    await self.load()
                else:
                    await self.refresh_past()
            except Exception as exc:  # a database hiccup must not end the refresh for good
                failures.failed(exc)
            else:
                failures.succeeded()


def _past_os(row: Mapping[str, Any], host: str, today: date) -> bool:
    if row.get("category") != "os" or row.get("cycle") is None:
        return False
    return is_past(Software(host=host, product=row["product"], cycle=row["cycle"],
                            category="os", eol_date=row.get("eol_date"),
                            eol_flag=row.get("eol_flag"), eoes_date=row.get("eoes_date")),
                   today)
