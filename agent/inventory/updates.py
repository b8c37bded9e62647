"""Pending updates, each flagged when it comes from a security source.

Nothing here changes the system: apt is asked for a simulation (`-s`, no lock taken) and dnf
answers from its metadata cache only (`-C`). Neither refreshes package lists; the host's own
update timer (apt-daily, dnf-makecache) keeps them current, and the answer is as fresh as it is.

apt: `apt-get -s dist-upgrade` prints one "Inst" line per package that a full upgrade would
install, with the archives it comes from; an archive whose suite ends in "-security" (Debian
"bookworm-security", Ubuntu "jammy-security"; label "Debian-Security") makes it a security update.
dist-upgrade rather than upgrade: it is the full set a patch run installs (new kernels too).

dnf: `check-update` lists the available updates; `updateinfo list --updates` lists the advisories
behind them, security ones labelled "<Severity>/Sec." (dnf 4) or typed "security" (dnf 5).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agent.inventory.reading import Context, Reading, checked

APT_TIMEOUT_SECONDS = 120.0
DNF_TIMEOUT_SECONDS = 120.0

APT_SIMULATE = ("apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade")
DNF_CHECK_UPDATE = ("dnf", "-q", "-C", "check-update")
DNF_UPDATEINFO = ("dnf", "-q", "-C", "updateinfo", "list", "--updates")
# dnf(8): check-update exits 100 when updates are available, 0 when there are none.
DNF_CHECK_UPDATE_OK = frozenset({0, 100})

# Inst NAME [CURRENT] (NEW ORIGIN, ORIGIN... [ARCH]) [...]; a new package has no [CURRENT].
_APT_INST = re.compile(
    r"^Inst (?P<name>\S+)(?: \[(?P<current>[^\]]*)\])? "
    r"\((?P<version>\S+)(?: (?P<origins>[^\[]*?))? \[(?P<arch>[^\]]+)\]\)"
)
# name-[epoch:]version-release.arch, as dnf prints a package (NEVRA).
_NEVRA = re.compile(r"^(?P<name>.+)-(?P<evr>(?:\d+:)?[^-:]+-[^-]+)\.(?P<arch>[A-Za-z0-9_]+)$")
_NAME_ARCH = re.compile(r"^(?P<name>.+)\.(?P<arch>[A-Za-z0-9_]+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    manager: str  # apt | dnf
    package: str
    architecture: str | None
    current_version: str | None  # None for a package the upgrade would newly install
    version: str
    origin: str | None  # apt archives ("Debian-Security:12/stable-security") or dnf repo id
    security: bool
    advisories: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"manager": self.manager, "package": self.package,
                "architecture": self.architecture, "current_version": self.current_version,
                "version": self.version, "origin": self.origin, "security": self.security,
                "advisories": list(self.advisories)}


def _is_security_origin(origin: str) -> bool:
    return "-security" in origin.lower()


def parse_apt_simulation(text: str) -> list[Update]:
    """"Inst" lines of `apt-get -s upgrade|dist-upgrade` output -> updates."""
    updates = []
    for line in text.splitlines():
        match = _APT_INST.match(line)
        if not match:
            continue
        origins = [o.strip() for o in (match["origins"] or "").split(",") if o.strip()]
        updates.append(Update(
            manager="apt", package=match["name"], architecture=match["arch"],
            current_version=match["current"] or None, version=match["version"],
            origin=", ".join(origins) or None,
            security=any(_is_security_origin(o) for o in origins),
        ))
    return sorted(updates, key=lambda u: (u.package, u.architecture or ""))


@dataclass(frozen=True, slots=True)
class Available:
    """One line of `dnf check-update`."""

    name: str
    architecture: str
    version: str
    repository: str


def parse_dnf_check_update(text: str) -> list[Available]:
    """`dnf check-update` output -> available updates.

    Lines are NAME.ARCH  [EPOCH:]VERSION-RELEASE  REPO; dnf wraps a line whose name is too
    long for the terminal, so fields are collected across lines. The "Obsoleting Packages"
    section that may follow repeats packages and is not read.
    """
    found: list[Available] = []
    pending: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("Obsoleting Packages"):
            break
        if not stripped or stripped.startswith(("Last metadata", "Security:")):
            pending = []
            continue
        pending.extend(stripped.split())
        if len(pending) < 3:
            continue
        name_arch = _NAME_ARCH.match(pending[0])
        if len(pending) == 3 and name_arch:
            found.append(Available(name_arch["name"], name_arch["arch"], pending[1], pending[2]))
        pending = []
    return found


@dataclass(frozen=True, slots=True)
class Advisory:
    """One line of `dnf updateinfo list`: an advisory naming one package build."""

    id: str
    security: bool
    name: str
    architecture: str
    evr: str


def parse_dnf_updateinfo(text: str) -> list[Advisory]:
    """`dnf updateinfo list` (dnf 4: ID LABEL NEVRA) or `dnf5 advisory list`
    (Name Type Severity Package Issued) output -> advisories."""
    advisories = []
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 3:
            continue
        nevra = next((m for t in tokens[1:] if (m := _NEVRA.match(t))), None)
        if nevra is None:  # a header or a summary line
            continue
        security = any(t.lower() == "security" or t.endswith("Sec.") for t in tokens[1:])
        advisories.append(Advisory(tokens[0], security, nevra["name"], nevra["arch"],
                                   nevra["evr"]))
    return advisories


def merge_dnf(available: Iterable[Available], advisories: Iterable[Advisory]) -> list[Update]:
    """Flag each available update that some security advisory names (by name and arch)."""
    by_package: dict[tuple[str, str], list[Advisory]] = {}
    for advisory in advisories:
        by_package.setdefault((advisory.name, advisory.architecture), []).append(advisory)
    updates = []
    for item in available:
        related = by_package.get((item.name, item.architecture), [])
        updates.append(Update(
            manager="dnf", package=item.name, architecture=item.architecture,
            current_version=None, version=item.version, origin=item.repository,
            security=any(a.security for a in related),
            advisories=tuple(sorted({a.id for a in related})),
        ))
    return sorted(updates, key=lambda u: (u.package, u.architecture or ""))


def read_apt(ctx: Context) -> Reading | None:
    try:
        result = checked(ctx.run, APT_SIMULATE, timeout=APT_TIMEOUT_SECONDS)
    except FileNotFoundError:
        return None
    return Reading([u.as_dict() for u in parse_apt_simulation(result.stdout)])


def read_dnf(ctx: Context) -> Reading | None:
    try:
        available = checked(ctx.run, DNF_CHECK_UPDATE, timeout=DNF_TIMEOUT_SECONDS,
                            ok=DNF_CHECK_UPDATE_OK)
    except FileNotFoundError:
        return None
    updateinfo = checked(ctx.run, DNF_UPDATEINFO, timeout=DNF_TIMEOUT_SECONDS)
    merged = merge_dnf(parse_dnf_check_update(available.stdout),
                       parse_dnf_updateinfo(updateinfo.stdout))
    return Reading([u.as_dict() for u in merged])
