"""An observation as the matcher sees it, and what matching makes of it.

An observation is what an agent saw: a source and its raw fields, e.g. `{"source": "dpkg",
"raw": {"package": "nginx", "version": "1.22.1-9"}}`. Readers (the registry/*_readers.py
modules, routed by the SOURCES table in registry/sources.py) see the raw fields through
`Fields`, lenient about key names and value types, and answer a `Hit`; the catalog index
(registry/catalog_index.py) resolves a Hit to the `Match` that `Matcher.match`
(registry/matching.py) returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

MAX_TEXT = 65_536  # characters of one raw value that readers look at


@dataclass(frozen=True, slots=True)
class Match:
    """The product and cycle an observation belongs to. `eol` is the cycle's end-of-life
    date, or its boolean when the data has no date; None when the cycle is unknown."""

    product: str
    cycle: str | None
    eol: date | bool | None

    def to_json(self) -> dict[str, Any]:
        eol = self.eol.isoformat() if isinstance(self.eol, date) else self.eol
        return {"product": self.product, "cycle": self.cycle,
                "eol": None if self.cycle is None else eol}


@dataclass(frozen=True, slots=True)
class Hit:
    """What a reader recognised, before the cycle is resolved: the product, the version as
    observed (or an explicit cycle name) and reader hints for the product's cycle picker."""

    product: str
    version: str | None = None
    cycle: str | None = None
    hints: tuple[tuple[str, str], ...] = ()


# Lenient access to raw fields.

_KEY_NOISE = re.compile(r"[^a-z0-9]")


def scalar(value: Any) -> str | None:
    """A raw value as text: a non-empty string (stripped, at most MAX_TEXT characters) or a
    number; anything else is None."""
    if isinstance(value, str):
        value = value.strip()
        return value[:MAX_TEXT] if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


class Fields:
    """A raw observation's fields, keys compared case-insensitively without punctuation."""

    __slots__ = ("_values",)

    def __init__(self, raw: Mapping[Any, Any]) -> None:
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(key, str):
                values.setdefault(_KEY_NOISE.sub("", key.lower()), value)
        self._values = values

    def text(self, *names: str) -> str | None:
        """The first of `names` holding a non-empty string (or a number, as text)."""
        for name in names:
            value = scalar(self._values.get(name))
            if value is not None:
                return value
        return None

    def mapping(self, *names: str) -> Fields | None:
        for name in names:
            value = self._values.get(name)
            if isinstance(value, Mapping):
                return Fields(value)
        return None

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._values.items()

    def __contains__(self, name: str) -> bool:
        return name in self._values
