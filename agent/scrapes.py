"""Scrapes that share one collection: at most one runs at a time, a bounded number wait.

Collecting reads /proc, runs every health collector and can take tens of milliseconds; a
thousand requests arriving together (slow clients finishing their half-sent requests at once)
must not become a thousand collections. So, as node_exporter bounds its work with
``--web.max-requests``:

- collections run in ONE worker thread, never in the event loop;
- a request that arrives while a collection runs waits for that one and is served its result
  (singleflight); the next request after it finishes starts a fresh one, so values stay as
  fresh as a scrape of its own would get;
- at most `max_waiting` requests wait or collect at once; beyond that the answer is 503 at
  once, and Prometheus retries at its next interval.

Each response is encoded from the shared families for the format that request negotiated
(text or OpenMetrics, gzip or not, ``name[]`` filter), also in the worker thread, and an
encoding is reused by the other requests of the same collection that asked for the same.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.metrics_core import Metric

from agent.http_stats import HttpStats


class Busy(Exception):
    """Too many scrapes are waiting already."""


@dataclass(frozen=True, slots=True)
class Body:
    content: bytes
    headers: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Collected:
    families: list[Metric]
    # (content type, gzip, names) -> encoded body, for the requests that share this collection.
    bodies: dict[tuple[str, bool, tuple[str, ...]], Body] = field(default_factory=dict)


class _Families:
    """A registry-shaped view of already-collected families, for prometheus_client's encoders."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


class SharedScrapes:
    def __init__(self, registry: CollectorRegistry, stats: HttpStats, *, max_waiting: int) -> None:
        self._registry = registry
        self._stats = stats
        self._max_waiting = max_waiting
        self._waiting = 0
        self._inflight: asyncio.Future[_Collected] | None = None
        # One thread: collections and encodings never run side by side, whatever the load.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scrape")

    async def body(self, headers: Mapping[str, str], params: Mapping[str, Sequence[str]]
                   ) -> Body:
        """The /metrics response for one request; `Busy` when too many wait already."""
        if self._waiting >= self._max_waiting:
            self._stats.scrapes["busy"] += 1
            raise Busy
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            inflight = self._inflight
            if inflight is None or inflight.done():
                inflight = self._inflight = loop.run_in_executor(self._worker, self._collect)
                self._stats.collections += 1
                self._stats.scrapes["collected"] += 1
            else:
                self._stats.scrapes["shared"] += 1
            # Shielded: one client going away must not cancel the collection others wait for.
            collected = await asyncio.shield(inflight)
            return await loop.run_in_executor(self._worker, _encode, collected,
                                              headers.get("accept", ""),
                                              headers.get("accept-encoding", ""),
                                              tuple(sorted(params.get("name[]", ()))))
        finally:
            self._waiting -= 1

    def _collect(self) -> _Collected:
        return _Collected(list(self._registry.collect()))

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


# The exposition versions prometheus_client writes, per media type. Its choose_encoder() takes
# any other version a client names: one it cannot compare ('abc', '1..0', 22 digits) raised
# TypeError or ValueError (a 500 and a logged traceback per request), and one it can
# ('1.0.0.0', '1.0.00001') was echoed into Content-Type and made one more cached encoding.
_WRITABLE_VERSIONS = {"application/openmetrics-text": frozenset({"0.0.1", "1.0.0", "2.0.0"}),
                      "text/plain": frozenset({"0.0.4", "1.0.0"})}


def _writable(accept: str) -> str:
    """`accept` without the entries asking for a version not written here (as if unnamed by
    the client: the next entry, or the text format, is served). Versions are read as
    prometheus_client reads them: the first `version=` parameter, as written."""
    kept = []
    for entry in accept.split(","):
        media, *params = entry.split(";")
        versions = _WRITABLE_VERSIONS.get(media.strip())
        version = next((value for key, _, value in (p.strip().partition("=") for p in params)
                        if key == "version"), None)
        if versions is None or not version or version in versions:
            kept.append(entry)
    return ",".join(kept)


def _encode(collected: _Collected, accept: str, accept_encoding: str,
            names: tuple[str, ...]) -> Body:
    encoder, content_type = choose_encoder(_writable(accept))
    compress = gzip_accepted(accept_encoding)
    key = (content_type, compress, names)
    body = collected.bodies.get(key)
    if body is None:
        families: Iterable[Metric] = collected.families
        if names:
            wanted = set(names)
            families = [m for m in (f._restricted_metric(wanted) for f in families) if m]
        content = encoder(_Families(families))
        headers = [("Content-Type", content_type)]
        if compress:
            content = gzip.compress(content)
            headers.append(("Content-Encoding", "gzip"))
        body = collected.bodies[key] = Body(content, tuple(headers))
    return body
