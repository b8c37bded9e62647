"""Installed packages from the system's package database: dpkg, rpm and apk.

Each reader applies only where its tool (or, for apk, its database file) exists. Versions are
kept exactly as the package manager writes them: a Debian version keeps its epoch
("1:10.5.23-0+deb11u1"), an rpm package keeps epoch, version and release apart. The registry
matcher reads them from the observations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.inventory.reading import Context, Reading, checked

TIMEOUT_SECONDS = 60.0

# The source package too: Debian's security-support lists (registry/distro_support.py) name
# source packages, and many binaries are built from a source of another name (libssl3 from
# openssl). `${source:Package}` is computed by dpkg-query 1.19.1 and later; older ones print
# an unknown field as empty, so the raw `Source` field ("util-linux (2.38.1-5)", empty when
# the source has the binary's name) is asked for as well.
DPKG_QUERY = ("dpkg-query", "-W", "-f",
              "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}"
              "\\t${source:Package}\\t${Source}\\n")
RPM_QUERY = ("rpm", "-qa", "--qf", "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n")
APK_DATABASE = "/lib/apk/db/installed"

# dpkg(1) package states (second letter of db:Status-Abbrev) whose files are not on disk:
# n = not-installed, c = config-files (removed, configuration left behind).
_DPKG_ABSENT = frozenset("nc")


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    manager: str  # dpkg | rpm | apk
    name: str
    version: str
    architecture: str | None = None
    epoch: str | None = None  # rpm only
    release: str | None = None  # rpm only
    source: str | None = None  # dpkg only: the source package, when its name is another

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"manager": self.manager, "name": self.name,
                                 "version": self.version, "architecture": self.architecture}
        if self.manager == "rpm":
            entry["epoch"] = self.epoch
            entry["release"] = self.release
        if self.source is not None:
            entry["source_package"] = self.source
        return entry

    def observation(self) -> dict[str, Any]:
        """The shape the registry matcher consumes (see eol-data/sample_inventory_cases.json)."""
        if self.manager == "rpm":
            raw: dict[str, Any] = {"name": self.name}
            if self.epoch is not None:
                raw["epoch"] = self.epoch
            raw |= {"version": self.version, "release": self.release,
                    "architecture": self.architecture}
        else:
            raw = {"package": self.name, "version": self.version,
                   "architecture": self.architecture}
            if self.source is not None:
                raw["source_package"] = self.source
        return {"source": self.manager, "raw": raw}


def parse_dpkg(text: str) -> list[Package]:
    """Lines of DPKG_QUERY output -> installed packages (removed ones are skipped). Lines
    without the two source columns (the query before they were asked for) are read too."""
    packages = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 4:
            fields += ["", ""]
        if len(fields) != 6:
            continue
        name, version, arch, status, source, source_field = fields
        if not name or not version or len(status) < 2 or status[1] in _DPKG_ABSENT:
            continue
        # "Source: openssl (3.0.19-1)" names the source version when it differs: cut it off.
        source = source or source_field.partition(" ")[0]
        packages.append(Package(manager="dpkg", name=name, version=version,
                                architecture=arch or None,
                                source=source if source and source != name else None))
    return sorted(packages, key=lambda p: (p.name, p.architecture or ""))


def _rpm_none(value: str) -> str | None:
    return None if value in ("(none)", "") else value


def parse_rpm(text: str) -> list[Package]:
    """Lines of RPM_QUERY output -> packages. gpg-pubkey entries are imported signing keys,
    not software, and are skipped."""
    packages = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        name, epoch, version, release, arch = fields
        if not name or name == "gpg-pubkey":
            continue
        packages.append(Package(manager="rpm", name=name, version=version,
                                epoch=_rpm_none(epoch), release=_rpm_none(release),
                                architecture=_rpm_none(arch)))
    return sorted(packages, key=lambda p: (p.name, p.architecture or "", p.version))


def parse_apk_installed(text: str) -> list[Package]:
    """apk's database (/lib/apk/db/installed): blank-line separated stanzas of `X:value`
    lines, P = name, V = version, A = architecture (apk-tools' package database format)."""
    packages = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if len(line) > 2 and line[1] == ":" and line[0] in "PVA":
                fields.setdefault(line[0], line[2:])
        if "P" in fields and "V" in fields:
            packages.append(Package(manager="apk", name=fields["P"], version=fields["V"],
                                    architecture=fields.get("A")))
    return sorted(packages, key=lambda p: (p.name, p.architecture or ""))


def _reading(packages: list[Package]) -> Reading:
    return Reading([p.as_dict() for p in packages], tuple(p.observation() for p in packages))


def read_dpkg(ctx: Context) -> Reading | None:
    try:
        result = checked(ctx.run, DPKG_QUERY, timeout=TIMEOUT_SECONDS)
    except FileNotFoundError:
        return None
    return _reading(parse_dpkg(result.stdout))


def read_rpm(ctx: Context) -> Reading | None:
    try:
        result = checked(ctx.run, RPM_QUERY, timeout=TIMEOUT_SECONDS)
    except FileNotFoundError:
        return None
    return _reading(parse_rpm(result.stdout))


def read_apk(ctx: Context) -> Reading | None:
    try:
        text = ctx.path(APK_DATABASE).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    return _reading(parse_apk_installed(text))
