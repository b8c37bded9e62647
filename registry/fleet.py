"""From an agent's inventory document to what the registry keeps: matched software and the
hardware asset. Pure: the matcher and the document in, plain records out.

Each package (dpkg, rpm, apk) is also given the support rule that applies to it
(registry/distro_support.py): a package of the host's distribution release is covered by that
release, found from the document's os-release observation.

One host usually lists the same product more than once (`nginx`, `nginx-core`; `postgresql-15`
and `postgresql-client-15` when both match): a product cycle is kept once per host, from its
first observation in the document's order (the OS release comes first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.distro_support import UPSTREAM, Coverage, Exceptions, Release, bundled, coverage
from registry.end_of_support import Catalog
from registry.imports import Asset
from registry.product_rules import PACKAGE_MANAGERS

# Sources whose observations are installed packages ({package|name, version}).
PACKAGE_SOURCES = frozenset(PACKAGE_MANAGERS)

# DMI keys the agent reports (agent/inventory) -> asset fields.
_DMI = {"vendor": ("sys_vendor", "system_manufacturer", "manufacturer"),
        "model": ("product_name", "system_product_name", "model"),
        "serial": ("product_serial", "system_serial_number", "serial")}
# Values firmware writes when nobody filled the field in.
_PLACEHOLDERS = frozenset({"", "to be filled by o.e.m.", "default string", "system product name",
                           "system manufacturer", "not specified", "none", "0", "123456789"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """One matched product cycle on a host."""

    product: str
    cycle: str | None
    category: str
    eol: date | bool | None
    eoes: date | bool | None
    source: str
    observed: str
    coverage: Coverage = UPSTREAM


# Observations that name the host's operating system release.
RELEASE_SOURCES = ("os-release", "lsb_release", "redhat-release")


def observations(document: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """(source, raw) pairs of a regie.inventory/v1 document, skipping malformed ones."""
    for item in document.get("observations") or ():
        # type() first: isinstance() against an ABC costs 80 ns, a fleet has 20 M of these.
        if type(item) is dict or isinstance(item, Mapping):
            source, raw = item.get("source"), item.get("raw")
            if type(source) is str and (type(raw) is dict or isinstance(raw, Mapping)):
                yield source, raw


def software(matcher: Any, catalog: Catalog, document: Mapping[str, Any], *,
             exceptions: Exceptions | None = None) -> list[Found]:
    """Every product cycle the document's observations match, once each.

    Installed packages (most of a document) go straight to `Matcher.match_package`, the
    memoised fast path `Matcher.match` would take after its checks: a fleet re-match spends
    its time here (bench/registry.py). `exceptions`: the distributions' lists of packages
    with ended or limited support (default: the bundled ones)."""
    out: list[Found] = []
    seen: set[tuple[str, str | None]] = set()
    match_package = matcher.match_package
    host_release = release(matcher, catalog, document)
    exceptions = exceptions if exceptions is not None else bundled()
    for source, raw in observations(document):
        match = None
        covered = None
        if source in PACKAGE_SOURCES:
            name = raw.get("package") or raw.get("name")
            version = raw.get("version")
            if type(name) is str and type(version) is str:
                match = match_package(source, name, version)
                if match is None:
                    continue
                covered = coverage(
                    source=source, package=name, version=_full_version(raw, version),
                    product=match.product, release=host_release,
                    releases=lambda p, c: distro_release(catalog, p, c), exceptions=exceptions,
                    source_package=_text(raw.get("source_package")))
        if match is None:
            match = matcher.match(source, raw)
            if match is None:
                continue
        if (match.product, match.cycle) in seen:
            continue
        seen.add((match.product, match.cycle))
        product = catalog.get(match.product)
        cycle = product.cycle(match.cycle) if product is not None and match.cycle else None
        out.append(Found(product=match.product, cycle=match.cycle,
                         category=(product.category if product else None) or "",
                         eol=cycle.eol if cycle is not None else None,
                         eoes=cycle.eoes if cycle is not None else None,
                         source=source, observed=describe(source, raw),
                         coverage=covered or UPSTREAM))
    return out


def release(matcher: Any, catalog: Catalog, document: Mapping[str, Any]) -> Release | None:
    """The host's distribution release, from the document's first observation naming it."""
    for source, raw in observations(document):
        if source in RELEASE_SOURCES:
            match = matcher.match(source, raw)
            if match is not None and match.cycle:
                return distro_release(catalog, match.product, match.cycle)
    return None


def distro_release(catalog: Catalog, product_name: str, cycle_name: str) -> Release | None:
    """A distribution release with its dates from the catalog, or None when unknown."""
    product = catalog.get(product_name)
    cycle = product.cycle(cycle_name) if product is not None else None
    if product is None or cycle is None:
        return None
    return Release(product=product.name, cycle=cycle.name, label=f"{product.label} {cycle.name}",
                   eol=cycle.eol, eoes=cycle.eoes)


def _full_version(raw: Mapping[str, Any], version: str) -> str:
    """rpm keeps the release apart; the distribution's marks (.el9) are in it."""
    release_ = raw.get("release")
    return f"{version}-{release_}" if type(release_) is str else version


def _text(value: Any) -> str | None:
    return value if type(value) is str and value else None


def describe(source: str, raw: Mapping[str, Any]) -> str:
    """A short human description of an observation, for reports."""
    for name_key, version_key in (("package", "version"), ("name", "version"),
                                  ("ID", "VERSION_ID"), ("release", None)):
        name = raw.get(name_key)
        if isinstance(name, str):
            version = raw.get(version_key) if version_key else None
            return f"{source}: {name}" + (f" {version}" if isinstance(version, str) else "")
    text = " ".join(str(v) for v in raw.values() if isinstance(v, str | int | float))
    return f"{source}: {text[:120]}"


def asset(host: str, document: Mapping[str, Any]) -> Asset | None:
    """The host's hardware from its DMI data, or None when the firmware says nothing useful."""
    hardware = document.get("hardware")
    dmi = hardware.get("dmi") if isinstance(hardware, Mapping) else None
    if not isinstance(dmi, Mapping):
        return None
    values: dict[str, str | None] = {}
    for field_name, keys in _DMI.items():
        value = next((dmi[k] for k in keys if isinstance(dmi.get(k), str)), None)
        if value is not None and value.strip().lower() in _PLACEHOLDERS:
            value = None
        values[field_name] = value.strip()[:255] if value else None
    if values["vendor"] is None and values["model"] is None:
        return None
    return Asset(name=host, **values)
