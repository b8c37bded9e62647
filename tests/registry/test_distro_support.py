"""registry/distro_support.py: whose support covers a package, as tables built from the real
lists (the bundled copy of Debian's debian-security-support files) and the bundled
end-of-support data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from registry import fleet
from registry.distro_support import (
    DATA,
    Exceptions,
    ListProblem,
    Release,
    Rule,
    bundled,
    coverage,
    load_debian,
    parse_ended,
    parse_limited,
)
from registry.end_of_support import load_default
from registry.lifecycle import Software, Status, software_items, software_status
from registry.matching import Matcher

CATALOG = load_default()
TODAY = date(2026, 11, 29)


def release(product: str, cycle: str) -> Release:
    found = fleet.distro_release(CATALOG, product, cycle)
    assert found is not None, (product, cycle)
    return found


def releases(product: str, cycle: str) -> Release | None:
    return fleet.distro_release(CATALOG, product, cycle)


DEBIAN_12 = release("debian", "12")


@pytest.mark.parametrize(("host", "source", "package", "version", "product", "rule", "by"), [
    # Debian 12 patches its prometheus: Debian 12's support applies, not upstream's 2.42.
    ("debian 12", "dpkg", "prometheus", "2.42.0+ds-5+deb12u1", "prometheus", Rule.DISTRO,
     "Debian 12"),
    # A package of the release with no stable update yet (no +deb12u suffix).
    ("debian 12", "dpkg", "nginx", "1.22.1-9", "nginx", Rule.DISTRO, "Debian 12"),
    # Built for Debian 11, still installed after the upgrade: Debian 11's support.
    ("debian 12", "dpkg", "openssl", "1.1.1w-0+deb11u1", "openssl", Rule.DISTRO, "Debian 11"),
    # Debian's own native metapackage (no revision, but Debian's "+248").
    ("debian 12", "dpkg", "postgresql", "15+248", "postgresql", Rule.DISTRO, "Debian 12"),
    # Debian's ended list (security-support-ended.deb12): ended early.
    ("debian 12", "dpkg", "pdns-recursor", "4.8.8-1+deb12u1", None, Rule.DISTRO_LIMITED,
     "Debian 12"),
    # Debian's limited list, by pattern (golang.*) and by the matched product (zabbix).
    ("debian 12", "dpkg", "golang-1.19-go", "1.19.8-2", "go", Rule.DISTRO_LIMITED, "Debian 12"),
    ("debian 12", "dpkg", "zabbix-server-pgsql", "1:6.0.14+dfsg-1", "zabbix",
     Rule.DISTRO_LIMITED, "Debian 12"),
    # Backports are Debian's builds outside its security support.
    ("debian 12", "dpkg", "golang-1.21-go", "1.21.8-1~bpo12+1", "go", Rule.DISTRO_LIMITED,
     "Debian 12"),
    # Vendor repositories and binaries keep upstream's dates.
    ("debian 12", "dpkg", "grafana", "10.2.3", "grafana", Rule.UPSTREAM, None),
    ("debian 12", "dpkg", "postgresql-16", "16.1-1.pgdg120+1", "postgresql", Rule.UPSTREAM,
     None),
    ("debian 12", "dpkg", "nginx", "1.24.0-1~bookworm", "nginx", Rule.UPSTREAM, None),
    ("debian 12", "dpkg", "docker-ce", "5:24.0.7-1~debian.12~bookworm", "docker-engine",
     Rule.UPSTREAM, None),
    ("debian 12", "dpkg", "mariadb-server", "1:10.11.6+maria~deb12", "mariadb",
     Rule.UPSTREAM, None),
    ("debian 12", "binary", "prometheus", "2.42.0", "prometheus", Rule.UPSTREAM, None),
    ("debian 12", "container-image", "prometheus", "2.42.0", "prometheus", Rule.UPSTREAM,
     None),
    # An rpm on a Debian host is not the distribution's package.
    ("debian 12", "rpm", "nginx", "1.22.1-1.el9", "nginx", Rule.UPSTREAM, None),
    # Enterprise Linux: .elN releases are the distribution's, others a vendor's.
    ("rhel 9", "rpm", "postgresql-server", "13.11-1.el9", "postgresql", Rule.DISTRO,
     "Red Hat Enterprise Linux 9"),
    ("rhel 9", "rpm", "nginx", "1.22.1-4.module+el9.2.0+17623+1a5f9b3e", "nginx",
     Rule.DISTRO, "Red Hat Enterprise Linux 9"),
    ("rhel 9", "rpm", "grafana", "10.2.3-1", "grafana", Rule.UPSTREAM, None),
    ("rhel 9", "rpm", "postgresql16-server", "16.1-1PGDG.rhel9", "postgresql", Rule.UPSTREAM,
     None),
    ("ubuntu 22.04", "dpkg", "nginx", "1.18.0-6ubuntu14.4", "nginx", Rule.DISTRO,
     "Ubuntu 22.04"),
    ("ubuntu 22.04", "dpkg", "nginx", "1.24.0-1~jammy", "nginx", Rule.UPSTREAM, None),
    # Without a known release, nothing covers the package.
    (None, "dpkg", "prometheus", "2.42.0+ds-5+deb12u1", "prometheus", Rule.UPSTREAM, None),
])
def test_which_rule_applies(host, source, package, version, product, rule, by):
    host_release = release(*host.split()) if host else None
    got = coverage(source=source, package=package, version=version, product=product,
                   release=host_release, releases=releases, exceptions=bundled())
    assert (got.rule, got.release.label if got.release else None) == (rule, by)
    if got.rule is Rule.UPSTREAM:
        assert got.ended is None


def test_ended_and_limited_entries_carry_the_lists_words():
    ended = coverage(source="dpkg", package="pdns-recursor", version="4.8.8-1+deb12u1",
                     product=None, release=DEBIAN_12, releases=releases, exceptions=bundled())
    assert ended.ended == date(2025, 10, 1)            # the deb12 list's date for pdns-recursor
    assert ended.note.startswith("Debian 12 ended its support early: No security support")
    limited = coverage(source="dpkg", package="golang-1.19-go", version="1.19.8-2",
                       product="go", release=DEBIAN_12, releases=releases,
                       exceptions=bundled())
    assert limited.ended is None
    assert "golang-static-linking" in limited.note


def test_the_bundled_lists_are_the_packages_files():
    """Every entry of the bundled files is read (each file's non-comment lines), and a
    Debian host's own copy parses the same way."""
    loaded = load_debian(DATA)
    for cycle, name in (("9", "security-support-ended.deb9"),
                        ("10", "security-support-ended.deb10"),
                        ("11", "security-support-ended.deb11")):
        lines = [line for line in (DATA / name).read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
        assert len(loaded.lists[("debian", cycle)]) == len(lines)
    twelve = [line for name in ("security-support-ended.deb12", "security-support-limited")
              for line in (DATA / name).read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert len(loaded.lists[("debian", "12")]) == len(twelve) > 40
    host_copy = Path("/usr/share/debian-security-support")
    if host_copy.is_dir():  # where the package is installed: its files parse too
        assert load_debian(host_copy).lists.keys() == loaded.lists.keys()


@pytest.mark.parametrize(("parse", "text", "message"), [
    (parse_ended, "pdns 4.7.3-2\n", "x:1: expected package, version and date"),
    (parse_ended, "# c\npdns 4.7.3-2 2025-13-01 why\n", "x:2: '2025-13-01' is not a date"),
    (parse_limited, "golang.*( trusted\n", "x:1: 'golang.*('"),
])
def test_a_broken_list_names_file_and_line(parse, text, message):
    with pytest.raises(ListProblem, match=message.replace("(", r"\(").replace("*", r"\*")):
        parse(text, "x")


def test_lists_match_whole_names_only():
    entries = Exceptions({("debian", "12"): parse_limited("vte  only the installer\n", "x")})
    assert entries.find("debian", "12", ["vte"]) is not None
    assert entries.find("debian", "12", ["vte2.91"]) is None
    assert entries.find("debian", "11", ["vte"]) is None


def document(os_id: str, version_id: str, *packages: tuple[str, str]) -> dict:
    return {"observations": [
        {"source": "os-release", "raw": {"ID": os_id, "VERSION_ID": version_id}},
        *({"source": "dpkg", "raw": {"package": n, "version": v}} for n, v in packages),
        {"source": "binary", "raw": {"name": "prometheus", "version": "2.45.0"}}]}


def rows(doc: dict) -> list[Software]:
    from collector.store.registry import software_row

    out = []
    for found in fleet.software(Matcher(CATALOG), CATALOG, doc):
        row = software_row(found, now=None)  # type: ignore[arg-type]
        out.append(Software(host="h", **{k: row[k] for k in (
            "product", "cycle", "category", "eol_date", "eol_flag", "eoes_date", "observed",
            "rule", "covered_by", "covered_eol_date", "covered_eol_flag",
            "covered_eoes_date", "rule_note")}))
    return out


def test_a_pushed_inventory_reports_the_distributions_date_and_upstreams_beside():
    """From an inventory document to report items: Debian 12's prometheus is on Debian 12's
    support (LTS now), with upstream's 2023 date beside; a binary prometheus keeps its own."""
    items = {(i.what, i.version): i for i in software_items(
        rows(document("debian", "12", ("prometheus", "2.42.0+ds-5+deb12u1"))), TODAY,
        date(2100, 1, 1))}
    dpkg, binary = items[("prometheus", "2.42")], items[("prometheus", "2.45")]
    debian = CATALOG.get("debian").cycle("12")
    upstream = CATALOG.get("prometheus").cycle("2.42").eol
    assert (dpkg.rule, dpkg.applies, dpkg.upstream, dpkg.status) == (
        "distro", debian.eoes, upstream, Status.EXTENDED)
    assert f"supported by Debian 12 until {debian.eoes.isoformat()}" in dpkg.note
    assert (binary.rule, binary.upstream) == ("upstream", None)
    assert binary.applies == CATALOG.get("prometheus").cycle("2.45").eol


def test_on_an_ended_distribution_release_the_distributions_date_is_past():
    [row] = [r for r in rows(document("debian", "10", ("postgresql-11", "11.22-0+deb10u1")))
             if r.product == "postgresql"]
    assert (row.rule, row.covered_by) == ("distro", "Debian 10")
    applies, _, status = software_status(row, TODAY)
    assert applies == CATALOG.get("debian").cycle("10").eoes and status is Status.PAST


def test_a_list_naming_a_source_package_reaches_its_binaries():
    """Debian's lists name source packages; a host reports binaries. exim4-daemon-heavy is
    built from exim4 (bookworm's Packages index) and matched to the product exim: a limited
    entry for exim4 applies only when the observation carries its source package, as the agent
    now reports it (agent/inventory/packages.py). The list is written here: none of Debian
    12's entries names a source whose binaries the matcher knows under a product of another
    name (zabbix's binaries are matched to the product zabbix, which the list names too)."""
    entries = Exceptions({("debian", "12"): parse_limited(
        "exim4  only for trusted senders, see README.Debian.security\n", "x")})
    observed = {"package": "exim4-daemon-heavy", "version": "4.96-15+deb12u7"}
    doc = {"observations": [{"source": "os-release", "raw": {"ID": "debian", "VERSION_ID": "12"}},
                            {"source": "dpkg", "raw": observed}]}

    def exim(document: dict):
        [found] = [f for f in fleet.software(Matcher(CATALOG), CATALOG, document,
                                             exceptions=entries) if f.product == "exim"]
        return found.coverage

    assert exim(doc).rule is Rule.DISTRO
    doc["observations"][1]["raw"] = {**observed, "source_package": "exim4"}
    limited = exim(doc)
    assert (limited.rule, limited.note) == (
        Rule.DISTRO_LIMITED, "Debian 12 limits its support: only for trusted senders, see "
                             "README.Debian.security")
