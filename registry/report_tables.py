"""The registry's reports as text tables: each report its own columns, one table of them.

`eos` lists software (and hardware) with the support rule that gave each date; `hardware`
lists assets by vendor, model and EOSL; `contracts` lists contracts by number, vendor and the
asset they cover. Pure: report items in, lines out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from registry.lifecycle import Item


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width: int                       # 0: the last column, not padded
    value: Callable[[Item], str | None]


def _date(item: Item) -> str:
    return item.applies.isoformat() if item.applies else "unknown"


def _days(item: Item) -> str:
    return "" if item.days_remaining is None else str(item.days_remaining)


def _field(name: str) -> Callable[[Item], str | None]:
    return lambda item: item.field(name)


DATE = Column("DATE", 10, _date)
DAYS = Column("DAYS", 6, _days)
STATUS = Column("STATUS", 9, lambda i: i.status.value)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "eos": (DATE, DAYS, STATUS, Column("SUPPORT", 8, lambda i: i.kind.value),
            Column("RULE", 14, lambda i: i.rule if i.kind.value in ("security", "extended")
                   else ""),
            Column("HOST", 24, lambda i: i.host), Column("PRODUCT", 24, lambda i: i.what),
            Column("VERSION", 14, lambda i: i.version),
            Column("UPSTREAM", 10, lambda i: i.upstream.isoformat() if i.upstream else ""),
            Column("NOTE", 0, lambda i: i.note)),
    "hardware": (Column("HOST", 24, lambda i: i.host), Column("VENDOR", 20, _field("vendor")),
                 Column("MODEL", 24, _field("model")), Column("EOSL", 10, _date), DAYS, STATUS,
                 Column("END OF SALE", 0, _field("end_of_sale"))),
    "contracts": (Column("CONTRACT", 16, _field("contract")),
                  Column("VENDOR", 16, _field("vendor")), Column("COVERS", 24, _field("covers")),
                  Column("KIND", 8, _field("kind")), Column("RENEWAL", 10, _date), DAYS, STATUS,
                  Column("STATE", 12, _field("renewal")), Column("OWNER", 0, _field("owner"))),
}


def table(report: str, items: list[Item]) -> list[str]:
    """The header and one line per item, columns separated by two spaces; a value longer
    than its column is cut so the columns stay aligned, an empty one shows as "-"."""
    columns = COLUMNS[report]
    lines = [_line(columns, [c.header for c in columns])]
    for item in items:
        lines.append(_line(columns, [c.value(item) or "" for c in columns]))
    return lines


def _line(columns: tuple[Column, ...], values: list[str]) -> str:
    cells = []
    for column, value in zip(columns, values, strict=True):
        if column.width == 0:
            cells.append(value)
            continue
        # Left-aligned throughout: a column starts where its header does.
        cells.append(f"{(value or '-')[:column.width]:{column.width}}")
    return "  ".join(cells).rstrip()
