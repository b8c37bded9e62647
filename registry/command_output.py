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
from registry.observations import Fields, Hit


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
