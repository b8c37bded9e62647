"""What reaches or passed end of support, and when: software, hardware, contracts.

Pure: rows in, `today` and a horizon in, sorted items out. The date that applies to a piece of
software is its end of security support (endoflife.date's `eol`) while that is ahead, then its
end of extended support (`eoes`: Debian LTS, Ubuntu ESM, RHEL ELS, Windows ESU) when the
product has one; a cycle known to be EOL without a date counts as past. Days remaining are
negative once past.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


class Status(enum.StrEnum):
    PAST = "past"          # no support any more (security, and extended if any)
    EXTENDED = "extended"  # security support over; extended support runs past the horizon
    NEAR = "near"          # the support that applies ends within the horizon
    LATER = "later"        # ends after the horizon
    UNKNOWN = "unknown"    # no date announced


class Support(enum.StrEnum):
    SECURITY = "security"
    EXTENDED = "extended"
    HARDWARE = "hardware"
    CONTRACT = "contract"


_HORIZON = re.compile(r"(\d{1,4})([dwmy])")


def parse_horizon(text: str) -> tuple[int, str]:
    """"8m" (months), "90d", "6w", "1y" -> (count, unit); ValueError with the accepted forms."""
    match = _HORIZON.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a horizon such as 90d, 6w, 8m or 1y")
    return int(match[1]), match[2]


def horizon_end(today: date, horizon: str) -> date:
    """The last day within `horizon` of `today` (months and years by the calendar)."""
    count, unit = parse_horizon(horizon)
    if unit == "d":
        return today + timedelta(days=count)
    if unit == "w":
        return today + timedelta(weeks=count)
    months = count * (12 if unit == "y" else 1)
    year, month = divmod(today.month - 1 + months, 12)
    year += today.year
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


@dataclass(frozen=True, slots=True, kw_only=True)
class Software:
    """One matched product cycle on one host (a `host_software` row)."""

    host: str
    product: str
    cycle: str | None
    category: str
    eol_date: date | None
    eol_flag: bool | None
    eoes_date: date | None
    observed: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One line of an end-of-support report."""

    host: str
    what: str                   # product (software), vendor model (hardware), contract
    version: str | None         # cycle, model, contract number
    kind: Support
    applies: date | None        # the date that applies
    status: Status
    days_remaining: int | None  # negative once past
    detail: str = ""


def software_status(item: Software, today: date,
                    until: date) -> tuple[date | None, Support, Status]:
    """(date that applies, which support it ends, status) for one matched cycle."""
    if item.eol_date is None:
        if item.eol_flag:
            if item.eoes_date is not None and item.eoes_date > today:
                return item.eoes_date, Support.EXTENDED, _near(item.eoes_date, until,
                                                               Status.EXTENDED)
            return None, Support.SECURITY, Status.PAST
        return None, Support.SECURITY, Status.UNKNOWN
    if item.eol_date > today:
        return item.eol_date, Support.SECURITY, _near(item.eol_date, until, Status.LATER)
    if item.eoes_date is None:
        return item.eol_date, Support.SECURITY, Status.PAST
    if item.eoes_date > today:
        return item.eoes_date, Support.EXTENDED, _near(item.eoes_date, until, Status.EXTENDED)
    return item.eoes_date, Support.EXTENDED, Status.PAST


def _near(day: date, until: date, otherwise: Status) -> Status:
    return Status.NEAR if day <= until else otherwise


def software_items(rows: Iterable[Software], today: date, until: date, *,
                   include_later: bool = False) -> list[Item]:
    """Matched software reaching or past end of support by `until`, soonest (most past)
    first; cycles without any date at the end."""
    out = []
    for row in rows:
        if row.cycle is None:
            continue  # product known, version not in the data: nothing to say
        applies, kind, status = software_status(row, today, until)
        if status is Status.UNKNOWN or (status is Status.LATER and not include_later):
            continue
        out.append(Item(host=row.host, what=row.product, version=row.cycle, kind=kind,
                        applies=applies, status=status,
                        days_remaining=(applies - today).days if applies else None,
                        detail=row.observed))
    return sorted(out, key=_order)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hardware:
    asset: str
    vendor: str | None
    model: str | None
    end_of_sale: date | None
    end_of_support: date | None


def hardware_items(rows: Iterable[Hardware], today: date, until: date) -> list[Item]:
    """Assets whose model's end of support (EOSL) is past or within the horizon."""
    out = []
    for row in rows:
        if row.end_of_support is None or row.end_of_support > until:
            continue
        status = Status.PAST if row.end_of_support <= today else Status.NEAR
        out.append(Item(host=row.asset, what=f"{row.vendor or '?'} {row.model or '?'}",
                        version=row.model, kind=Support.HARDWARE, applies=row.end_of_support,
                        status=status, days_remaining=(row.end_of_support - today).days))
    return sorted(out, key=_order)


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    asset: str
    vendor: str
    number: str
    kind: str
    end_date: date
    renewal: str
    owner: str | None


def contract_items(rows: Iterable[Contract], today: date, until: date, *,
                   include_renewed: bool = False) -> list[Item]:
    """Contracts ending within the horizon (or ended), renewed ones left out unless asked."""
    out = []
    for row in rows:
        if row.end_date > until or (row.renewal == "renewed" and not include_renewed):
            continue
        status = Status.PAST if row.end_date <= today else Status.NEAR
        out.append(Item(host=row.asset, what=f"{row.vendor} {row.kind}", version=row.number,
                        kind=Support.CONTRACT, applies=row.end_date, status=status,
                        days_remaining=(row.end_date - today).days,
                        detail=f"renewal {row.renewal}"
                               + (f", owner {row.owner}" if row.owner else "")))
    return sorted(out, key=_order)


def eos_items(software: Iterable[Software], hardware: Iterable[Hardware], today: date,
               until: date) -> list[Item]:
    """The end-of-support report (`regie registry eos`, GET /api/v1/registry/eos): software
    and hardware past or reaching end of support by `until`, in one order."""
    return sorted([*software_items(software, today, until),
                   *hardware_items(hardware, today, until)], key=_order)


def grouped(items: Iterable[Item], by: str) -> dict[str, list[Item]]:
    """Items per host (`by="host"`) or per product and version (`by="product"`), in the order
    the groups first appear."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        key = item.host if by == "host" else f"{item.what} {item.version or ''}".strip()
        groups.setdefault(key, []).append(item)
    return groups


def first_date(items: Iterable[Item]) -> date | None:
    return min((i.applies for i in items if i.applies), default=None)


def _order(item: Item) -> tuple:
    # Known dates by date; "EOL, date unknown" first (it is already past).
    return (item.applies is not None, item.applies or date.min, item.host, item.what)


def is_past(row: Software, today: date) -> bool:
    """Whether no support (security or extended) remains for this cycle."""
    return software_status(row, today, today)[2] is Status.PAST
