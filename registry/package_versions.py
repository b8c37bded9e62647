"""Package version order as the package managers define it: dpkg's and rpm's.

An update is installed when the installed version is at least the candidate the package
manager offered; "at least" must be the manager's own order, not text order ("1.10" > "1.9",
"1.0~rc1" < "1.0" for dpkg, "1.0^1" > "1.0" for rpm).

- Debian: deb-version(7) and Debian Policy 5.6.12: `[epoch:]upstream[-revision]`, compared
  epoch (number), then upstream, then revision, each by alternating non-digit and digit runs;
  in a non-digit run letters sort before non-letters and `~` before everything, even the end.
- rpm: `rpmvercmp` (rpm's lib/rpmvercmp.c) on epoch, version and release in turn: runs of
  digits or letters, separators ignored, digits newer than letters, `~` older and `^` newer
  than the end of the string.

Pure functions, table-tested in tests/registry/test_package_versions.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

# -- Debian ------------------------------------------------------------------------------------


def _debian_order(char: str) -> int:
    # dpkg's order(): ~ first, then the end of the string (0), digits, letters, the rest.
    if char == "~":
        return -1
    if char.isdigit():
        return 0
    if char.isalpha() and char.isascii():
        return ord(char)
    return ord(char) + 256


def _debian_part(a: str, b: str) -> int:
    """dpkg's verrevcmp on one part (upstream version or revision)."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _debian_order(a[i]) if i < len(a) else 0
            bc = _debian_order(b[j]) if j < len(b) else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0


def _debian_split(version: str) -> tuple[int, str, str]:
    epoch, colon, rest = version.strip().partition(":")
    if not colon:
        epoch, rest = "0", epoch
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    return (int(epoch) if epoch.isdigit() else 0), upstream, revision


# A fleet repeats the same few versions on thousands of hosts: each pair is compared once.
_CACHE = 65_536


@functools.lru_cache(maxsize=_CACHE)
def compare_debian(a: str, b: str) -> int:
    """-1, 0 or 1 as dpkg --compare-versions orders `a` and `b`."""
    epoch_a, upstream_a, revision_a = _debian_split(a)
    epoch_b, upstream_b, revision_b = _debian_split(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _debian_part(upstream_a, upstream_b) or _debian_part(revision_a, revision_b)


# -- rpm ---------------------------------------------------------------------------------------

_RPM_SEGMENT = re.compile(r"(\d+|[a-zA-Z]+)")


def rpmvercmp(a: str, b: str) -> int:
    """rpm's rpmvercmp: -1, 0 or 1 for one field (version or release)."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        # Skip separators (anything not alphanumeric and not ~ or ^).
        while i < len(a) and not a[i].isalnum() and a[i] not in "~^":
            i += 1
        while j < len(b) and not b[j].isalnum() and b[j] not in "~^":
            j += 1
        # A tilde sorts before everything, even the end.
        a_tilde = i < len(a) and a[i] == "~"
        b_tilde = j < len(b) and b[j] == "~"
        if a_tilde or b_tilde:
            if not a_tilde:
                return 1
            if not b_tilde:
                return -1
            i += 1
            j += 1
            continue
        # A caret sorts after the end, before anything else.
        a_caret = i < len(a) and a[i] == "^"
        b_caret = j < len(b) and b[j] == "^"
        if a_caret or b_caret:
            if i >= len(a):
                return -1
            if j >= len(b):
                return 1
            if not a_caret:
                return 1
            if not b_caret:
                return -1
            i += 1
            j += 1
            continue
        if i >= len(a) or j >= len(b):
            break
        a_match = _RPM_SEGMENT.match(a, i)
        b_match = _RPM_SEGMENT.match(b, j)
        a_seg, b_seg = a_match.group(), b_match.group()  # type: ignore[union-attr]
        a_digits, b_digits = a_seg[0].isdigit(), b_seg[0].isdigit()
        if a_digits != b_digits:
            return 1 if a_digits else -1   # numeric segments are newer than alphabetic ones
        if a_digits:
            a_num, b_num = a_seg.lstrip("0"), b_seg.lstrip("0")
            if len(a_num) != len(b_num):
                return 1 if len(a_num) > len(b_num) else -1
            a_seg, b_seg = a_num, b_num
        if a_seg != b_seg:
            return 1 if a_seg > b_seg else -1
        i, j = a_match.end(), b_match.end()  # type: ignore[union-attr]
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def rpm_evr(text: str) -> tuple[str, str, str]:
    """`[epoch:]version[-release]` -> (epoch, version, release); a missing epoch is "0"."""
    epoch, colon, rest = text.strip().partition(":")
    if not colon:
        epoch, rest = "0", epoch
    version, dash, release = rest.rpartition("-")
    if not dash:
        version, release = rest, ""
    return (epoch or "0"), version, release


@functools.lru_cache(maxsize=_CACHE)
def compare_rpm(a: str, b: str) -> int:
    """-1, 0 or 1 for two `[epoch:]version-release` strings, as rpm orders packages
    (rpmVersionCompare: epoch, then version, then release; a release missing on one side is
    not compared, as dnf does for a requirement without one)."""
    epoch_a, version_a, release_a = rpm_evr(a)
    epoch_b, version_b, release_b = rpm_evr(b)
    epochs = (int(epoch_a) if epoch_a.isdigit() else 0, int(epoch_b) if epoch_b.isdigit() else 0)
    if epochs[0] != epochs[1]:
        return -1 if epochs[0] < epochs[1] else 1
    result = rpmvercmp(version_a, version_b)
    if result or not release_a or not release_b:
        return result
    return rpmvercmp(release_a, release_b)


# The package manager an update comes from (its `manager`) or a package is installed with,
# -> how its versions are ordered. The only place a manager's order is chosen.
ORDERS: dict[str, Callable[[str, str], int]] = {
    "apt": compare_debian, "dpkg": compare_debian,
    "dnf": compare_rpm, "yum": compare_rpm, "rpm": compare_rpm, "zypper": compare_rpm,
}


def compare(manager: str, a: str, b: str) -> int:
    """-1, 0 or 1 in `manager`'s order; a manager without one here compares as dpkg does
    (the most permissive of the two on letters and digits)."""
    return ORDERS.get(manager, compare_debian)(a, b)
