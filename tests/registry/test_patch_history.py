"""The history step of one push, as tables: what is new, installed, withdrawn, left open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registry.patch_history import OpenEntry, installed_versions, observed_at, offered, step


def doc(packages=(), updates=(), errors=()) -> dict:
    return {"packages": list(packages), "updates": list(updates),
            "errors": [{"reader": r, "error": "failed"} for r in errors]}


def deb(name: str, version: str, arch: str = "amd64") -> dict:
    return {"manager": "dpkg", "name": name, "version": version, "architecture": arch}


def apt(name: str, version: str, security: bool = True, arch: str = "amd64") -> dict:
    return {"manager": "apt", "package": name, "version": version, "architecture": arch,
            "security": security}


def entry(id_: int, name: str, version: str, manager: str = "apt",
          arch: str = "amd64") -> OpenEntry:
    return OpenEntry(id_, manager, name, arch, version)


@pytest.mark.parametrize(("open_entries", "document", "new", "installed", "withdrawn"), [
    # First sight: offered -> new entry.
    ([], doc([deb("openssl", "3.0.14-1~deb12u2")], [apt("openssl", "3.0.15-1~deb12u1")]),
     ["openssl 3.0.15-1~deb12u1"], [], []),
    # Still offered, not installed: nothing changes.
    ([entry(1, "openssl", "3.0.15-1~deb12u1")],
     doc([deb("openssl", "3.0.14-1~deb12u2")], [apt("openssl", "3.0.15-1~deb12u1")]),
     [], [], []),
    # Installed at the candidate.
    ([entry(1, "openssl", "3.0.15-1~deb12u1")], doc([deb("openssl", "3.0.15-1~deb12u1")]),
     [], [(1, "3.0.15-1~deb12u1")], []),
    # Installed later than the candidate (dpkg order: ~deb12u1 < plain revision).
    ([entry(1, "openssl", "3.0.15-1~deb12u1")], doc([deb("openssl", "3.0.15-1")]),
     [], [(1, "3.0.15-1")], []),
    # A newer candidate supersedes: the old entry stays open, the new one is added.
    ([entry(1, "openssl", "3.0.15-1~deb12u1")],
     doc([deb("openssl", "3.0.14-1~deb12u2")], [apt("openssl", "3.0.16-1~deb12u1")]),
     ["openssl 3.0.16-1~deb12u1"], [], []),
    # Installing the newest closes both.
    ([entry(1, "openssl", "3.0.15-1~deb12u1"), entry(2, "openssl", "3.0.16-1~deb12u1")],
     doc([deb("openssl", "3.0.16-1~deb12u1")]),
     [], [(1, "3.0.16-1~deb12u1"), (2, "3.0.16-1~deb12u1")], []),
    # Text order would say 1.9 > 1.10: dpkg's does not.
    ([entry(1, "tool", "1.10-1")], doc([deb("tool", "1.9-1")], [apt("tool", "1.10-1")]),
     [], [], []),
    # Removed from the host, no longer offered: withdrawn.
    ([entry(1, "telnet", "0.17-45")], doc([deb("bash", "5.2.15-2+b7")]), [], [], [1]),
    # Not offered any more but below the candidate (update pulled): withdrawn.
    ([entry(1, "tool", "2.0-1")], doc([deb("tool", "1.0-1")]), [], [], [1]),
    # The update reader failed: nothing withdrawn, nothing new; installation still seen.
    ([entry(1, "tool", "2.0-1"), entry(2, "zlib", "1.3")],
     doc([deb("tool", "1.0-1"), deb("zlib", "1.3")], [apt("curl", "8.0")], errors=["apt"]),
     [], [(2, "1.3")], []),
    # The package reader failed: nothing installed, nothing withdrawn; new offers recorded.
    ([entry(1, "tool", "2.0-1")], doc([], [apt("curl", "8.0")], errors=["dpkg"]),
     ["curl 8.0"], [], []),
    # rpm: epoch, version and release put back together, compared in rpm's order.
    ([entry(1, "openssl", "1:3.0.7-27.el9", manager="dnf", arch="x86_64")],
     doc([{"manager": "rpm", "name": "openssl", "version": "3.0.7", "release": "27.el9",
           "epoch": "1", "architecture": "x86_64"}]),
     [], [(1, "1:3.0.7-27.el9")], []),
    ([entry(1, "openssl", "1:3.0.7-27.el9", manager="dnf", arch="x86_64")],
     doc([{"manager": "rpm", "name": "openssl", "version": "3.0.7", "release": "25.el9_3",
           "epoch": "1", "architecture": "x86_64"}],
         [{"manager": "dnf", "package": "openssl", "version": "1:3.0.7-27.el9",
           "architecture": "x86_64", "security": True}]),
     [], [], []),
    # Multi-arch: the entry's own architecture decides.
    ([entry(1, "libc6", "2.36-9+deb12u9", arch="i386")],
     doc([deb("libc6", "2.36-9+deb12u9"), deb("libc6", "2.36-9+deb12u4", arch="i386")],
         [apt("libc6", "2.36-9+deb12u9", arch="i386")]),
     [], [], []),
])
def test_step(open_entries, document, new, installed, withdrawn):
    result = step(open_entries, document)
    assert [f"{o.package} {o.version}" for o in result.new] == new
    assert list(result.installed) == installed
    assert list(result.withdrawn) == withdrawn


def test_offered_reads_security_and_skips_malformed_items():
    found = offered(doc(updates=[apt("a", "1", security=True), apt("b", "2", security=False),
                                 {"manager": "apt", "package": "c"}, "junk",
                                 apt("a", "1", security=True)]))
    assert [(o.package, o.security) for o in found] == [("a", True), ("b", False)]
    assert offered({"packages": []}) is None              # an agent that did not say
    assert installed_versions({"updates": []}) is None


def test_observed_at_is_collected_at_never_after_receipt():
    received = datetime(2026, 11, 30, 12, tzinfo=UTC)
    earlier = received - timedelta(days=2)
    assert observed_at({"collected_at": earlier.isoformat()}, received) == earlier
    later = received + timedelta(hours=5)                  # an agent clock ahead
    assert observed_at({"collected_at": later.isoformat()}, received) == received
    assert observed_at({"collected_at": "yesterday"}, received) == received
    assert observed_at({"collected_at": "2026-11-29T10:00:00"}, received) == received  # naive
    assert observed_at({}, received) == received

