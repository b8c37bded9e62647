"""Whose support covers an installed package: its distribution's, or its upstream project's.

A package a supported distribution release ships is covered by that release's security
support: Debian 12 patches its `prometheus 2.42.0+ds-5+deb12u1` long after upstream's 2.42 has
ended. So for a package observation (dpkg, rpm, apk) on a host whose distribution release is
known (its os-release, in the same inventory), the release's dates apply and upstream's are
reported beside them -- rule `distro`. Exceptions:

- `distro-limited`: the distribution itself says its support for that package ended early or
  is limited. Debian publishes exactly this in the `debian-security-support` package
  (security-support-ended.debN: source package, last supported version, date; and
  security-support-limited: source package, reason); a copy is bundled in
  registry/data/debian-security-support/ (see SOURCE.md there). An ended entry's date
  applies; a limited entry (no date) leaves upstream's date in force.
- `upstream`: software installed from elsewhere -- binaries, containers, vendor repositories
  (version markers such as `pgdg`, `~bookworm`, no Debian revision, no `.elN` release), or a
  package manager that is not the distribution's -- keeps its project's own dates.

Pure: the observation, the host's release and the exception lists in, a `Coverage` out.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "debian-security-support"


class Rule(enum.StrEnum):
    UPSTREAM = "upstream"              # the product's own dates
    DISTRO = "distro"                  # the distribution release's security support
    DISTRO_LIMITED = "distro-limited"  # the distribution ended or limits its support


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """A distribution release with its end-of-support dates (endoflife.date's cycle)."""

    product: str                 # "debian"
    cycle: str                   # "12"
    label: str                   # "Debian 12"
    eol: date | bool | None      # end of security support
    eoes: date | bool | None     # end of extended support (Debian LTS, ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    rule: Rule
    release: Release | None = None   # whose support applies (None: upstream's)
    ended: date | None = None        # the distribution's early end for this package
    note: str = ""


# Software outside any distribution's support: its own dates.
UPSTREAM = Coverage(rule=Rule.UPSTREAM)


@dataclass(frozen=True, slots=True, kw_only=True)
class Exception_:
    """One line of a distribution's list: a source-package pattern (a full-match regular
    expression, as check-support-status applies it) and what the distribution says."""

    pattern: re.Pattern[str]
    ended: date | None      # None: support limited (no end date)
    last_version: str | None
    note: str


@dataclass(frozen=True, slots=True)
class Exceptions:
    """Per (distribution, release cycle): the packages whose support ended early or is
    limited."""

    lists: Mapping[tuple[str, str], tuple[Exception_, ...]] = field(default_factory=dict)

    def find(self, distro: str, cycle: str, names: Iterable[str]) -> Exception_ | None:
        entries = self.lists.get((distro, cycle), ())
        for name in names:
            for entry in entries:
                if entry.pattern.fullmatch(name):
                    return entry
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Family:
    """How one distribution's packages show their origin."""

    managers: frozenset[str]
    # The release a package was built for, from its version (group 1 is the cycle).
    built_for: re.Pattern[str] | None = None
    # What a version must show to be the distribution's own build; None: nothing required.
    own_build: re.Pattern[str] | None = None
    own_build_missing: str = ""


# A Debian revision ("-9", "-0+deb12u1"), or the "+NNN" of Debian's own native packages
# ("postgresql 15+248", built from postgresql-common). A plain upstream version ("10.2.3") is
# how vendors' repositories version their packages.
_DEBIAN_REVISION = re.compile(r"-[^-]+$|\+")
_EL = re.compile(r"\.(?:module\+)?el(\d+)")

# Distributions (endoflife.date product names) whose packages are covered by the release.
FAMILIES: Mapping[str, Family] = {
    "debian": Family(managers=frozenset({"dpkg"}), built_for=re.compile(r"[+~]deb(\d+)u"),
                     own_build=_DEBIAN_REVISION,
                     own_build_missing="no Debian revision: not built by Debian"),
    "ubuntu": Family(managers=frozenset({"dpkg"}), own_build=_DEBIAN_REVISION,
                     own_build_missing="no Debian revision: not built by Ubuntu"),
    **{name: Family(managers=frozenset({"rpm"}), built_for=_EL, own_build=_EL,
                    own_build_missing="no .elN release: not built for Enterprise Linux")
       for name in ("rhel", "almalinux", "rocky-linux", "centos", "centos-stream",
                    "oracle-linux")},
    "fedora": Family(managers=frozenset({"rpm"}), built_for=re.compile(r"\.fc(\d+)"),
                     own_build=re.compile(r"\.fc\d+"),
                     own_build_missing="no .fcN release: not built by Fedora"),
    "amazon-linux": Family(managers=frozenset({"rpm"}), own_build=re.compile(r"\.amzn\d"),
                           own_build_missing="no .amzn release: not built by Amazon"),
    "sles": Family(managers=frozenset({"rpm"})),
    "opensuse": Family(managers=frozenset({"rpm"})),
    "alpine-linux": Family(managers=frozenset({"apk"})),
}

# Version markers of packages built outside the distribution, though installed with its
# package manager: (pattern, whose build). The distributions never write these.
VENDOR_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"pgdg", re.IGNORECASE), "the PostgreSQL project's repository (pgdg)"),
    (re.compile(r"[~+.](?:debian|ubuntu)[.-]?\d"), "a vendor repository (~debian.N)"),
    (re.compile(r"[~.+](?:stretch|buster|bullseye|bookworm|trixie|focal|jammy|noble)\b"),
     "a vendor repository (release codename in the version)"),
    (re.compile(r"maria~"), "the MariaDB repository"),
    (re.compile(r"~ppa|ppa\d"), "an Ubuntu PPA"),
    (re.compile(r"\.rhel\d|\.centos\b"), "a vendor repository (.rhelN)"),
)

# Debian backports: built by Debian, but outside the security team's support.
_BACKPORT = re.compile(r"~bpo\d+")


def coverage(*, source: str, package: str, version: str, product: str | None,
             release: Release | None, releases: Callable[[str, str], Release | None],
             exceptions: Exceptions, source_package: str | None = None) -> Coverage:
    """Which rule applies to one installed package (`version` as the manager writes it; for
    rpm, version-release). `releases(product, cycle)` looks another release up (a package
    built for Debian 11 on a Debian 12 host is Debian 11's)."""
    if release is None:
        return UPSTREAM
    family = FAMILIES.get(release.product)
    if family is None or source not in family.managers:
        return UPSTREAM
    for marker, whose in VENDOR_MARKERS:
        if marker.search(version):
            return Coverage(rule=Rule.UPSTREAM, note=f"built by {whose}")
    if family.own_build is not None and not family.own_build.search(version):
        return Coverage(rule=Rule.UPSTREAM, note=family.own_build_missing)
    built = release
    found = family.built_for.search(version) if family.built_for is not None else None
    if found is not None and found[1] != release.cycle:
        built = releases(release.product, found[1]) or release
    if _BACKPORT.search(version):
        return Coverage(rule=Rule.DISTRO_LIMITED, release=built,
                        note=f"{built.label} backports: not covered by its security team")
    names = [n for n in (source_package, package, product) if n]
    entry = exceptions.find(built.product, built.cycle, names)
    if entry is None:
        return Coverage(rule=Rule.DISTRO, release=built)
    if entry.ended is not None:
        return Coverage(rule=Rule.DISTRO_LIMITED, release=built, ended=entry.ended,
                        note=f"{built.label} ended its support early: {entry.note}".rstrip(
                            ": "))
    return Coverage(rule=Rule.DISTRO_LIMITED, release=built,
                    note=f"{built.label} limits its support: {entry.note}".rstrip(": "))


# -- Debian's lists -----------------------------------------------------------------------------


class ListProblem(ValueError):
    pass


def parse_ended(text: str, source: str) -> tuple[Exception_, ...]:
    """security-support-ended.debN: `source-package last-version YYYY-mm-dd [details]`,
    columns separated by blanks, `#` comments."""
    out = []
    for number, line in _lines(text):
        fields = line.split(None, 3)
        if len(fields) < 3:
            raise ListProblem(f"{source}:{number}: expected package, version and date")
        try:
            ended = date.fromisoformat(fields[2])
        except ValueError:
            raise ListProblem(f"{source}:{number}: {fields[2]!r} is not a date") from None
        out.append(Exception_(pattern=_pattern(fields[0], source, number), ended=ended,
                              last_version=fields[1], note=_note(fields[3:])))
    return tuple(out)


def parse_limited(text: str, source: str) -> tuple[Exception_, ...]:
    """security-support-limited: `source-package [details]`."""
    out = []
    for number, line in _lines(text):
        fields = line.split(None, 1)
        out.append(Exception_(pattern=_pattern(fields[0], source, number), ended=None,
                              last_version=None, note=_note(fields[1:])))
    return tuple(out)


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line.strip()


def _pattern(text: str, source: str, number: int) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise ListProblem(f"{source}:{number}: {text!r}: {exc}") from None


def _note(rest: list[str]) -> str:
    return " ".join(rest[0].split()) if rest else ""


# Which bundled file holds which release's list. The limited list ships with the package for
# the current stable release (bookworm's package, 1:12+...), so it speaks for Debian 12 only.
DEBIAN_FILES: tuple[tuple[str, str, Callable[[str, str], tuple[Exception_, ...]]], ...] = (
    ("9", "security-support-ended.deb9", parse_ended),
    ("10", "security-support-ended.deb10", parse_ended),
    ("11", "security-support-ended.deb11", parse_ended),
    ("12", "security-support-ended.deb12", parse_ended),
    ("12", "security-support-limited", parse_limited),
)


def load_debian(directory: Path = DATA) -> Exceptions:
    """Debian's lists from `directory` (the bundled copy by default, or
    /usr/share/debian-security-support on a Debian host)."""
    lists: dict[tuple[str, str], tuple[Exception_, ...]] = {}
    for cycle, name, parse in DEBIAN_FILES:
        path = directory / name
        lists[("debian", cycle)] = lists.get(("debian", cycle), ()) + parse(
            path.read_text(encoding="utf-8"), str(path))
    return Exceptions(lists)


@functools.cache
def bundled() -> Exceptions:
    """The bundled lists, read once per process on first use (not at import)."""
    return load_debian()
