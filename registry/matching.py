"""Match inventory observations against the end-of-support catalog: `Matcher`.

An observation is what an agent saw: `{"source": "dpkg", "raw": {"package": "nginx", "version":
"1.22.1-9"}}`. `Matcher.match(source, raw)` answers the product and release cycle it belongs to
(`Match`), or None when no product in the data matches.

How (pure; the catalog is the only input), one module per step:

1. A reader per source (registry/sources.py: SOURCES, one table) turns the raw fields into a
   `Hit`: a product name, the version as observed, and hints (Windows build and edition, SQL
   Server service pack, ...). Readers are lenient about key names (case, punctuation:
   VERSION_ID, versionId and version-id are one key) and never raise on odd values. The
   observation's shapes, `Fields`, `Hit` and `Match`, are in registry/observations.py.
2. Products are found through indexes built once from the data (registry/catalog_index.py):
   product names, aliases and labels; cpe, purl (deb/rpm/apk/docker/oci/pypi/...) and
   repology identifiers (parsed by registry/identifiers.py); plus the small tables of
   registry/product_rules.py where the data's names are not enough.
3. The cycle (registry/cycle_selection.py) is the longest of the product's cycle names that is
   a prefix of the version on version-component boundaries (1.1.1k is in 1.1.1; 10.11 is not
   in 10.1; 9.6.24 is in 9.6, 10.23 in 10), after the product's normaliser (Java's 1.8.0 is 8,
   SLES 15-SP4 is 15.4, AIX 7200-05 is 7.2.5). A few products have dedicated pickers (Windows
   builds and editions, SQL Server service-pack build bands, NVIDIA driver branches, Jenkins
   weekly vs LTS).

A product recognised without a usable version gives a Match with cycle None (sample s019:
kernel 3.10 is `linux` but the data has no 3.10 cycle). A wrong match is worse than none, so
ambiguous names (claimed by two products) and short or generic names are never matched.

Decisions on ambiguous cases (see also registry/product_rules.py):

- Distribution packages match the upstream product's lifecycle, which is what the data
  describes (sample s013: Debian's nginx 1.22.1-9 is nginx 1.22, EOL 2023-04-11, although
  Debian still patches it). The distribution's own support is the OS cycle's question; a
  report should show both. Vendor kernels likewise: 5.14.0-362.el9 is linux 5.14.
- Only server and runtime packages count, and packages whose name is the product's (or that
  the data lists as a purl or repology name). Client libraries, -dev/-doc/-common packages
  and language modules do not: libpq5 is not a PostgreSQL server, python3-requests is not
  Python, nginx-common is not nginx (nginx and nginx-core are).
- Each observation is matched on its own. Two packages of one product on one host (nginx and
  nginx-core, postgresql and postgresql-15) give equal `Match` values; `Match` is hashable,
  so a caller counting products per host puts them in a set rather than counting twice.

Package observations (dpkg, rpm, apk) are by far the most numerous and repeat across hosts:
`match_package(manager, name, version)` is memoised in a bounded LRU cache; `match()`
delegates to it. Other observations are memoised on their (hashable) raw fields. This module
holds the matcher and its caches; `Match` (registry/observations.py) is re-exported as the
matcher's answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from registry import product_rules as rules
from registry.catalog_index import CatalogIndex
from registry.end_of_support import Catalog
from registry.observations import Fields, Hit, Match
from registry.sources import IDENTIFIERS_LAST, SOURCES, identifier_hit, read_unknown

__all__ = ["DEFAULT_CACHE_SIZE", "OBSERVATION_CACHE_SIZE", "CacheInfo", "Match", "Matcher"]

DEFAULT_CACHE_SIZE = 1 << 17  # distinct (manager, package, version) keys kept
OBSERVATION_CACHE_SIZE = 1 << 14


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """How the memo caches did: package lookups (hits, misses, entries kept) and the number
    of other observations kept."""

    package_hits: int
    package_misses: int
    packages: int
    observations: int


# Canonical source names map to themselves: no strip()/lower() on the hot path.
_SOURCE_KEYS = {name: name for name in (*SOURCES, *rules.PACKAGE_MANAGERS)}


class Matcher:
    """Matches observations against one catalog; indexes are built here, once.

    Thread-safe for reading (the caches are the only mutable state; lru_cache is safe and the
    observation cache tolerates races: at worst a result is computed twice)."""

    def __init__(self, catalog: Catalog, *, cache_size: int = DEFAULT_CACHE_SIZE,
                 observation_cache_size: int = OBSERVATION_CACHE_SIZE) -> None:
        self.catalog = catalog
        self.index = CatalogIndex(catalog)
        self._package = lru_cache(maxsize=cache_size)(self._match_package)
        self._observations: dict[tuple[str, Any], Match | None] = {}
        self._observation_limit = max(1, observation_cache_size)

    def match(self, source: str, raw: Mapping[str, Any]) -> Match | None:
        """The product and cycle of one observation, or None. Never raises on odd input."""
        if type(source) is not str:
            return None
        key = _SOURCE_KEYS.get(source) or source.strip().lower()
        if key in rules.PACKAGE_MANAGERS and (type(raw) is dict or isinstance(raw, Mapping)):
            name = raw.get("package") or raw.get("name")
            version = raw.get("version")
            if type(name) is str and type(version) is str:
                return self._package(key, name, version)
            return self._package_fields(key, raw)
        if isinstance(raw, str):
            raw = {"text": raw}
        if not isinstance(raw, Mapping):
            return None
        try:
            cache_key = (key, frozenset(raw.items()))
            cached = self._observations.get(cache_key, self)
        except TypeError:  # nested or unhashable values: not cached
            return self._observe(key, raw)
        if cached is not self:
            return cached  # type: ignore[return-value]
        result = self._observe(key, raw)
        if len(self._observations) >= self._observation_limit:
            # Drop the oldest entry; another thread may be doing the same.
            with contextlib.suppress(StopIteration, RuntimeError):
                self._observations.pop(next(iter(self._observations)), None)
        self._observations[cache_key] = result
        return result

    def match_package(self, manager: str, name: str, version: str) -> Match | None:
        """The fast path for installed packages (dpkg, rpm, apk, ...): memoised on the
        (manager, name, version) triple. `version` may carry an epoch and a release."""
        return self._package(manager, name, version)

    def cache_info(self) -> CacheInfo:
        packages = self._package.cache_info()
        return CacheInfo(package_hits=packages.hits, package_misses=packages.misses,
                         packages=packages.currsize, observations=len(self._observations))

    def _match_package(self, manager: str, name: str, version: str) -> Match | None:
        if not isinstance(manager, str) or not isinstance(name, str):
            return None
        ptype = rules.PACKAGE_MANAGERS.get(manager.strip().lower())
        if ptype is None:
            return None
        product, named_version = self.index.package(ptype, name.strip().lower())
        if product is None:
            return None
        text = named_version or (version if isinstance(version, str) else None)
        return self.index.resolve(Hit(product, text))

    def _package_fields(self, key: str, raw: Mapping[str, Any]) -> Match | None:
        f = Fields(raw)
        name = f.text("package", "name", "pkg", "packagename")
        version = f.text("version", "ver", "evr", "fullversion") or ""
        if name:
            return self._package(key, name, version)
        return self.index.resolve(identifier_hit(self.index, f))

    def _observe(self, source: str, raw: Mapping[str, Any]) -> Match | None:
        f = Fields(raw)
        reader = SOURCES.get(source, read_unknown)
        if source in IDENTIFIERS_LAST:
            hit = reader(self.index, f) or identifier_hit(self.index, f)
        else:
            hit = identifier_hit(self.index, f) or reader(self.index, f)
        return self.index.resolve(hit)
