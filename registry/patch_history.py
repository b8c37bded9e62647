"""A host's update history, one inventory push at a time.

The agent reports, in each push, the installed packages (`packages`) and the updates its
package manager offers (`updates`, each with a `security` flag; agent/inventory/updates.py).
The collector keeps one history entry per offered update (host, package, architecture,
candidate version): when it was first seen pending, and how it ended:

- **installed**: a later push shows the package installed at a version >= the candidate, in
  the package manager's own order (registry/package_versions.py). A newer candidate that
  supersedes an older one leaves the older entry open until the installed version reaches it,
  so an unpatched security update keeps its first-seen time however often it is superseded.
- **withdrawn**: the package is no longer offered (no candidate at all) and is not installed
  at the candidate or later: removed from the host, or the update was pulled. It ends without
  an installation and counts in no lag.

Times are the push's observation time: when the agent collected it (`collected_at`, bounded
by when the collector received it, so a wrong agent clock cannot put it in the future), else
when it was received. An installation is therefore seen at the first push after it, within
one push interval.

A reader that failed (an entry in the document's `errors`) says nothing about its part: no
updates reading, no new entries and nothing withdrawn; no package reading, nothing installed.
Pure functions on plain data; the store (collector/store/patches.py) applies the step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from registry.package_versions import compare

# Update readers (the agent's reader names, which are also an update's `manager`) -> the
# package database whose installed versions answer them.
INSTALLED_BY = {"apt": "dpkg", "dnf": "rpm"}
PACKAGE_READERS = frozenset(INSTALLED_BY.values())


@dataclass(frozen=True, slots=True)
class Offered:
    """An update the package manager offers in this push."""

    manager: str
    package: str
    architecture: str     # "" when the manager does not say
    version: str
    security: bool

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.manager, self.package, self.architecture, self.version


@dataclass(frozen=True, slots=True)
class OpenEntry:
    """A stored history entry still pending."""

    id: int
    manager: str
    package: str
    architecture: str
    version: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.manager, self.package, self.architecture, self.version


@dataclass(frozen=True, slots=True)
class Step:
    """What one push changes: entries to add, entries installed (id, installed version),
    entries withdrawn (ids)."""

    new: tuple[Offered, ...]
    installed: tuple[tuple[int, str], ...]
    withdrawn: tuple[int, ...]

    def __bool__(self) -> bool:
        return bool(self.new or self.installed or self.withdrawn)


def observed_at(document: Mapping[str, Any], received_at: datetime) -> datetime:
    """When the push's facts were true: `collected_at`, never after `received_at`."""
    text = document.get("collected_at")
    if isinstance(text, str):
        try:
            collected = datetime.fromisoformat(text)
        except ValueError:
            return received_at
        if collected.tzinfo is not None:
            try:
                return min(collected.astimezone(UTC), received_at)
            except OverflowError:
                # Within years 1 to 9999 as written but not in UTC (9999-12-31T23:59:59-01:00,
                # 0001-01-01T00:00:00+14:00): no time an agent's clock could have read.
                return received_at
    return received_at


# The pending-entry key (host, manager, package, architecture, version) is one entry of a
# unique index, which PostgreSQL caps at 2,704 bytes. A host name is at most 255 characters
# (1,020 bytes); the other parts are cut to these many UTF-8 bytes, not characters, so
# even four-byte characters keep the entry well within the cap (1,020 + 558 bytes). Package
# managers' names and versions are ASCII: for them bytes and characters are the same.
MANAGER_BYTES, PACKAGE_BYTES, ARCHITECTURE_BYTES, VERSION_BYTES = 16, 255, 32, 255


def _cut(text: str, size: int) -> str:
    """`text` cut to at most `size` UTF-8 bytes, on a character boundary."""
    if len(text) <= size and text.isascii():
        return text
    return text.encode()[:size].decode("utf-8", "ignore")


def _failed_readers(document: Mapping[str, Any]) -> set[str]:
    errors = document.get("errors")
    if not isinstance(errors, list):
        return set()
    # A reader's name is a string; anything else names no reader (and is not hashable).
    return {reader for e in errors if isinstance(e, Mapping)
            and isinstance(reader := e.get("reader"), str)}


def offered(document: Mapping[str, Any]) -> list[Offered] | None:
    """The updates offered in this push; None when the document cannot say (no `updates`
    list, or an update reader failed)."""
    updates = document.get("updates")
    if not isinstance(updates, list) or _failed_readers(document) & INSTALLED_BY.keys():
        return None
    found: dict[tuple[str, str, str, str], Offered] = {}
    for update in updates:
        if not isinstance(update, Mapping):
            continue
        manager, package, version = (update.get("manager"), update.get("package"),
                                     update.get("version"))
        if not (isinstance(manager, str) and isinstance(package, str)
                and isinstance(version, str)) or not (manager and package and version):
            continue
        architecture = update.get("architecture")
        item = Offered(manager=_cut(manager, MANAGER_BYTES),
                       package=_cut(package, PACKAGE_BYTES),
                       architecture=_cut(architecture, ARCHITECTURE_BYTES)
                       if isinstance(architecture, str) else "",
                       version=_cut(version, VERSION_BYTES),
                       security=update.get("security") is True)
        found.setdefault(item.key, item)
    return list(found.values())


def installed_versions(document: Mapping[str, Any], wanted: set[str] | None = None
                       ) -> dict[tuple[str, str], list[tuple[str, str]]] | None:
    """(package manager, name) -> [(architecture, full version)] from `packages`, for the names
    in `wanted` (all when None); None when the document cannot say. An rpm package's version
    is put back together as `[epoch:]version-release`, the form dnf offers updates in."""
    packages = document.get("packages")
    if not isinstance(packages, list) or _failed_readers(document) & PACKAGE_READERS:
        return None
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for package in packages:
        if not isinstance(package, Mapping):
            continue
        name = package.get("name")
        if wanted is not None and name not in wanted:
            continue
        manager, version = package.get("manager"), package.get("version")
        if not (isinstance(manager, str) and isinstance(name, str) and isinstance(version, str)):
            continue
        if manager == "rpm":
            epoch, release = package.get("epoch"), package.get("release")
            if release:
                version = f"{version}-{release}"
            if epoch not in (None, "", "0", "(none)"):
                version = f"{epoch}:{version}"
        architecture = package.get("architecture")
        found.setdefault((manager, name), []).append(
            (architecture if isinstance(architecture, str) else "", version))
    return found


def _installed(entry: OpenEntry | Offered,
               installed: Mapping[tuple[str, str], list[tuple[str, str]]]) -> str | bool | None:
    """The installed version that reaches the entry's candidate; None when the package is
    installed below it; False when it is not installed at all."""
    database = INSTALLED_BY.get(entry.manager, entry.manager)
    builds = installed.get((database, entry.package))
    if not builds:
        return False
    # The same architecture; an update for "all" or without one matches any build.
    same = [v for arch, v in builds if arch == entry.architecture] or builds
    best = same[0]
    for version in same[1:]:
        if compare(entry.manager, version, best) > 0:
            best = version
    return best if compare(entry.manager, best, entry.version) >= 0 else None


def step(open_entries: Iterable[OpenEntry], document: Mapping[str, Any]) -> Step:
    """What this push changes in a host's history of open entries."""
    entries = list(open_entries)
    offers = offered(document)
    names = {e.package for e in entries}
    installed = installed_versions(document, names)
    done: list[tuple[int, str]] = []
    withdrawn: list[int] = []
    still_offered = {o.package for o in offers} if offers is not None else None
    for entry in entries:
        version = _installed(entry, installed) if installed is not None else None
        if isinstance(version, str):
            # Stored as the entry's installed_version (255 characters): cut as a candidate is.
            done.append((entry.id, _cut(version, VERSION_BYTES)))
        elif (still_offered is not None and installed is not None
              and entry.package not in still_offered):
            withdrawn.append(entry.id)
    open_keys = {e.key for e in entries}
    new = tuple(o for o in offers or () if o.key not in open_keys)
    return Step(new=new, installed=tuple(done), withdrawn=tuple(withdrawn))
