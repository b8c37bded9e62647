"""An observation's text as readers see it: the output field, its first line and first version,
KEY=value and Key: value lines, and the text rules of registry/product_rules.py.

Readers (registry/sources.py and the reader modules it names) take command output and file
contents as observed. These functions pick that text out of the raw fields (`text_of`) and parse
it; like the readers, they never raise on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from registry import product_rules as rules
from registry.observations import MAX_TEXT, Fields, Hit


def first_line(text: str) -> str:
    """The first line of the text once stripped ("" for a blank text)."""
    return text.strip().splitlines()[0] if text.strip() else ""


_VERSION_TOKEN = re.compile(r"(?<![\d.])v?(\d+(?:\.\d+)+[a-z]?\d*)")


def first_version(text: str | None) -> str | None:
    """The first dotted version in a command's output ("Python 3.11.2", "go1.21.6",
    "v=8.4.0"); digits without a dot (dates, x86_64) are not versions."""
    if not text:
        return None
    found = _VERSION_TOKEN.search(text[:4096])
    return found.group(1) if found else None


_LABELLED_VERSION = re.compile(r"^\s*Version:?[ \t]+v?(\d[\w.-]*)", re.MULTILINE)


def labelled_version(text: str) -> str | None:
    """The version on a line of its own labelled Version ("Version: 6.7.0" of esxcli,
    "  Version     16.1.3.4" of tmsh), else the text's first version."""
    found = _LABELLED_VERSION.search(text[:MAX_TEXT])
    return found.group(1) if found else first_version(text)


def text_of(f: Fields, *extra: str) -> str | None:
    """The observation's text: the first of `extra` keys, then the usual output keys."""
    return f.text(*extra, "output", "text", "content", "stdout", "value", "result", "data")


def rule_hit(rules_: Iterable[rules.TextRule], text: str,
             version: Callable[[str], str | None] | None = None) -> Hit | bool | None:
    """The first rule matching `text`: a Hit, or False when a rule says "known, no data"."""
    for rule in rules_:
        found = rule.pattern.search(text)
        if found is None:
            continue
        if rule.product is None:
            return False
        given = found.groupdict().get("v")
        return Hit(rule.product, given or (version(text) if version else None))
    return None


def parse_assignments(text: str) -> dict[str, str]:
    """KEY=value lines (os-release, lsb-release), quotes removed."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key:
            values[key.strip()] = value.strip().strip("\"'")
    return values


def parse_colons(text: str) -> dict[str, str]:
    """Key: value lines (lsb_release -a, esxcli, /system resource print)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key:
            values.setdefault(key.strip(), value.strip())
    return values


_DASHES = re.compile(r"^\s*-{2,}(\s+-{2,})*\s*$")


def parse_table(text: str) -> dict[str, str]:
    """PowerShell's default output of one object: a Name/Value table ($PSVersionTable), a
    Format-Table (header, dashes, first row: $PSVersionTable.PSVersion) or a Format-List
    (Key : Value lines). Values of a Format-Table row are split on whitespace, so a last column
    with spaces (a path) is cut short; the versions before it are whole."""
    lines = [line.rstrip() for line in text.splitlines()[:200] if line.strip()]
    for index, line in enumerate(lines[1:], start=1):
        if not _DASHES.match(line):
            continue
        header = lines[index - 1].split()
        rows = lines[index + 1:]
        if [h.lower() for h in header] == ["name", "value"]:
            return {key: rest.strip() for key, _, rest in
                    (row.strip().partition(" ") for row in rows) if rest.strip()}
        values = rows[0].split() if rows else []
        return dict(zip(header, values, strict=False))
    return parse_colons(text) if ":" in text else {}


_REG_VALUE = re.compile(r"^\s+(\S.*?)\s+(REG_\w+)\s+(.*?)\s*$")


def parse_reg_query(text: str) -> dict[str, str]:
    """`reg query KEY` output: the key's path (under "path") and its values, REG_DWORD values
    as decimal numbers (reg prints them in hex: Release REG_DWORD 0x80ff4)."""
    values: dict[str, str] = {}
    for line in text.splitlines()[:500]:
        found = _REG_VALUE.match(line)
        if found:
            name, kind, value = found.groups()
            if kind in ("REG_DWORD", "REG_QWORD") and value.lower().startswith("0x"):
                try:
                    value = str(int(value, 16))
                except ValueError:
                    continue
            values.setdefault(name, value)
        elif line.strip().upper().startswith(("HKEY_", "HKLM")) and "path" not in values:
            values["path"] = line.strip()
    return values
