"""Fetching end-of-support data: from the live endoflife.date API v1, a mirror of it, or a
directory in its shape; validated before anything is stored.

`fetch(origin)` reads everything and parses every product (`registry.end_of_support`); the
caller stores the result only when `check()` accepts it, so a broken mirror, a truncated
download or an API change never replaces good data with bad.

A URL is the API's base (`https://endoflife.date/api/v1`): `GET {base}/products/` lists the
products, `GET {base}/products/<name>/` gives each. Requests run 8 at a time, each with a
timeout and up to 3 tries.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from registry.end_of_support import Catalog, DataError, Product, load_directory, parse_product

CONCURRENCY = 8
TIMEOUT_SECONDS = 30.0
TRIES = 3
# A sync that loses more than this share of the products is refused: the source is broken.
MAX_SKIPPED_SHARE = 0.10


class SyncError(Exception):
    """The source cannot be used at all (unreachable, not the API v1 shape)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    catalog: Catalog
    skipped: tuple[tuple[str, str], ...]     # (product or file, reason)
    origin: str                              # where it came from, without credentials


def shown(origin: str) -> str:
    """The origin for messages and the store: a URL without user info or query."""
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    return origin


def check(fetched: Fetched) -> str | None:
    """Why this data must not replace what is stored, or None when it may."""
    total = len(fetched.catalog) + len(fetched.skipped)
    if not len(fetched.catalog):
        return "no valid product in the data"
    if total and len(fetched.skipped) / total > MAX_SKIPPED_SHARE:
        return (f"{len(fetched.skipped)} of {total} products are malformed (more than "
                f"{MAX_SKIPPED_SHARE:.0%}): the source looks broken")
    return None


def fetch(origin: str, *, progress: Callable[[int, int], None] | None = None) -> Fetched:
    """Read and parse everything from a directory or an API v1 base URL."""
    if origin.startswith(("http://", "https://")):
        return asyncio.run(_fetch_url(origin.rstrip("/"), progress))
    path = Path(origin)
    try:
        result = load_directory(path)
    except DataError as exc:
        raise SyncError(str(exc)) from None
    if progress is not None:
        count = len(result.catalog) + len(result.skipped)
        progress(count, count)
    return Fetched(result.catalog, result.skipped, str(path))


async def _fetch_url(base: str, progress: Callable[[int, int], None] | None) -> Fetched:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout,
                                     headers={"User-Agent": "regie-registry"}) as session:
        listing = await _get_json(session, f"{base}/products/")
        names = _product_names(listing, f"{shown(base)}/products/")
        limit = asyncio.Semaphore(CONCURRENCY)
        done = 0
        products: list[Product] = []
        skipped: list[tuple[str, str]] = []

        async def one(name: str) -> None:
            nonlocal done
            url = f"{base}/products/{name}/"
            async with limit:
                try:
                    document = await _get_json(session, url)
                    products.append(parse_product(document, name))
                except SyncError as exc:
                    skipped.append((name, str(exc)))
                except DataError as exc:
                    skipped.append((name, exc.reason))
            done += 1
            if progress is not None:
                progress(done, len(names))

        await asyncio.gather(*(one(name) for name in names))
    order = {name: i for i, name in enumerate(names)}
    products.sort(key=lambda p: order.get(p.name, len(order)))
    unique: dict[str, Product] = {}
    for product in products:
        if product.name.lower() in unique:
            skipped.append((product.name, "listed twice"))
        else:
            unique[product.name.lower()] = product
    return Fetched(Catalog(tuple(unique.values())), tuple(skipped), shown(base))


def _product_names(listing: Any, where: str) -> list[str]:
    result = listing.get("result") if isinstance(listing, dict) else None
    if not isinstance(result, list):
        raise SyncError(f"{where}: not the API v1 product list (no 'result' array)")
    names = []
    for item in result:
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name and "/" not in name and name not in (".", ".."):
            names.append(name)
    if not names:
        raise SyncError(f"{where}: the product list is empty")
    return names


async def _get_json(session: Any, url: str) -> Any:
    import aiohttp

    reason = ""
    for attempt in range(TRIES):
        if attempt:
            await asyncio.sleep(0.5 * 2 ** attempt)
        try:
            async with session.get(url, allow_redirects=True) as response:
                if response.status == 404:
                    raise SyncError(f"{shown(url)}: 404 Not Found")
                if response.status >= 500 or response.status == 429:
                    reason = f"HTTP {response.status}"
                    continue
                if response.status != 200:
                    raise SyncError(f"{shown(url)}: HTTP {response.status}")
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = type(exc).__name__ if not str(exc) else str(exc)
            continue
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SyncError(f"{shown(url)}: invalid JSON ({exc.msg} at line {exc.lineno})") \
                from None
    raise SyncError(f"{shown(url)}: {reason} after {TRIES} tries")
