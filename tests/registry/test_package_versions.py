"""Version order tables: Debian's (checked against the real dpkg where it is installed) and
rpm's (the cases of rpm's own test suite, tests/rpmvercmp.at)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from registry.package_versions import compare, compare_debian, compare_rpm, rpm_evr, rpmvercmp

# (a, b, expected): a < b is -1.
DEBIAN = [
    ("1.0", "1.0", 0),
    ("1.0", "1.1", -1),
    ("1.9", "1.10", -1),
    ("1.0~rc1", "1.0", -1),             # ~ sorts before the end
    ("1.0~~", "1.0~", -1),
    ("1.0~rc1-1", "1.0-1", -1),
    ("1.0-1", "1.0-2", -1),
    ("1.0-1", "1.0", 1),                # a revision after an empty one
    ("1:1.0", "2.0", 1),                # the epoch wins
    ("0:1.0", "1.0", 0),
    ("1.0a", "1.0", 1),
    ("1.0a", "1.0+", -1),               # letters before other characters
    ("1.0.0", "1.0", 1),
    ("3.0.11-1~deb12u2", "3.0.11-1~deb12u1", 1),
    ("3.0.11-1~deb12u2", "3.0.11-1", -1),
    ("2.36-9+deb12u4", "2.36-9+deb12u10", -1),
    ("1:10.11.6-0+deb12u1", "1:10.11.4-0+deb12u1", 1),
    ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1),
    ("6.1.0-18-amd64", "6.1.0-9-amd64", 1),
    ("001", "1", 0),
    ("1.2-3-4", "1.2-3-5", -1),          # the revision is after the last hyphen
]

# From rpm's tests/rpmvercmp.at, (a, b, expected).
RPM = [
    ("1.0", "1.0", 0), ("1.0", "2.0", -1), ("2.0", "1.0", 1),
    ("2.0.1", "2.0.1", 0), ("2.0", "2.0.1", -1), ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1a", 0), ("2.0.1a", "2.0.1", 1), ("2.0.1", "2.0.1a", -1),
    ("5.5p1", "5.5p1", 0), ("5.5p1", "5.5p2", -1), ("5.5p2", "5.5p1", 1),
    ("5.5p10", "5.5p10", 0), ("5.5p1", "5.5p10", -1), ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1), ("10.1xyz", "10xyz", 1),
    ("xyz10", "xyz10", 0), ("xyz10", "xyz10.1", -1), ("xyz10.1", "xyz10", 1),
    ("xyz.4", "xyz.4", 0), ("xyz.4", "8", -1), ("8", "xyz.4", 1),
    ("xyz.4", "2", -1), ("2", "xyz.4", 1),
    ("5.5p2", "5.6p1", -1), ("5.6p1", "5.5p2", 1),
    ("5.6p1", "6.5p1", -1), ("6.5p1", "5.6p1", 1),
    ("6.0.rc1", "6.0", 1), ("6.0", "6.0.rc1", -1),
    ("10b2", "10a1", 1), ("10a2", "10b2", -1),
    ("1.0aa", "1.0aa", 0), ("1.0a", "1.0aa", -1), ("1.0aa", "1.0a", 1),
    ("10.0001", "10.0001", 0), ("10.0001", "10.1", 0), ("10.1", "10.0001", 0),
    ("10.0001", "10.0039", -1), ("10.0039", "10.0001", 1),
    ("4.999.9", "5.0", -1), ("5.0", "4.999.9", 1),
    ("20101121", "20101121", 0), ("20101121", "20101122", -1), ("20101122", "20101121", 1),
    ("2_0", "2_0", 0), ("2.0", "2_0", 0), ("2_0", "2.0", 0),
    ("a", "a", 0), ("a+", "a+", 0), ("a+", "a_", 0), ("a_", "a+", 0),
    ("+a", "+a", 0), ("+a", "_a", 0), ("_a", "+a", 0),
    ("+_", "+_", 0), ("_+", "+_", 0), ("_+", "_+", 0), ("+", "_", 0), ("_", "+", 0),
    ("1.0~rc1", "1.0~rc1", 0), ("1.0~rc1", "1.0", -1), ("1.0", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc2", -1), ("1.0~rc2", "1.0~rc1", 1),
    ("1.0~rc1~git123", "1.0~rc1~git123", 0), ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0~rc1", "1.0~rc1~git123", 1),
    ("1.0^", "1.0^", 0), ("1.0^", "1.0", 1), ("1.0", "1.0^", -1),
    ("1.0^git1", "1.0^git1", 0), ("1.0^git1", "1.0", 1), ("1.0", "1.0^git1", -1),
    ("1.0^git1", "1.0^git2", -1), ("1.0^git2", "1.0^git1", 1),
    ("1.0^git1", "1.01", -1), ("1.01", "1.0^git1", 1),
    ("1.0^20160101", "1.0^20160101", 0), ("1.0^20160101", "1.0.1", -1),
    ("1.0.1", "1.0^20160101", 1),
    ("1.0^20160101^git1", "1.0^20160101^git1", 0),
    ("1.0^20160102", "1.0^20160101^git1", 1), ("1.0^20160101^git1", "1.0^20160102", -1),
    ("1.0~rc1^git1", "1.0~rc1^git1", 0), ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc1^git1", -1),
    ("1.0^git1~pre", "1.0^git1~pre", 0), ("1.0^git1", "1.0^git1~pre", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
]


@pytest.mark.parametrize(("a", "b", "expected"), DEBIAN)
def test_debian_order(a: str, b: str, expected: int) -> None:
    assert compare_debian(a, b) == expected
    assert compare_debian(b, a) == -expected


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed here")
def test_debian_table_agrees_with_dpkg() -> None:
    """The table above is dpkg's own answer, not only ours."""
    for a, b, expected in DEBIAN:
        operator = {-1: "lt", 0: "eq", 1: "gt"}[expected]
        result = subprocess.run(["dpkg", "--compare-versions", a, operator, b], check=False)
        assert result.returncode == 0, f"dpkg does not say {a} {operator} {b}"


@pytest.mark.parametrize(("a", "b", "expected"), RPM)
def test_rpmvercmp(a: str, b: str, expected: int) -> None:
    assert rpmvercmp(a, b) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1:1.0-1", "2.0-1", 1),                       # the epoch wins
    ("0:3.0.7-25.el9_3", "3.0.7-27.el9", -1),      # missing epoch is 0; release compared
    ("3.0.7-27.el9", "3.0.7-27.el9", 0),
    ("1.2.3-4.el9", "1.2.3", 0),                    # no release on one side: not compared
    ("2.9.13-6.el9_4", "2.9.13-5.el9_3.1", 1),
    ("5.14.0-427.13.1.el9_4", "5.14.0-362.24.1.el9_3", 1),
])
def test_rpm_epoch_version_release(a: str, b: str, expected: int) -> None:
    assert compare_rpm(a, b) == expected
    assert compare_rpm(b, a) == -expected


def test_rpm_evr_split() -> None:
    assert rpm_evr("1:2.3-4.el9") == ("1", "2.3", "4.el9")
    assert rpm_evr("2.3") == ("0", "2.3", "")
    assert rpm_evr("2.3-4-5") == ("0", "2.3-4", "5")


@pytest.mark.parametrize(("manager", "a", "b", "expected"), [
    ("apt", "1.0~rc1", "1.0", -1),
    ("dpkg", "1.0~rc1", "1.0", -1),
    ("dnf", "1.0^git1", "1.0", 1),
    ("rpm", "1.0^git1", "1.0", 1),
    ("apt", "1.0a", "1.0+", -1),
    ("dnf", "1.0a", "1.0+", 1),     # rpm ignores the separator; 'a' is more
])
def test_compare_uses_the_managers_order(manager: str, a: str, b: str, expected: int) -> None:
    assert compare(manager, a, b) == expected
