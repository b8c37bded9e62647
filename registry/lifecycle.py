"""What reaches or passed end of support, and when: software, hardware, contracts.

Pure: rows in, `today` in, sorted items out. The date that applies to a piece of software is
its end of security support (endoflife.date's `eol`) while that is ahead, then its end of
extended support (`eoes`: Debian LTS, Ubuntu ESM, RHEL ELS, Windows ESU) when the product has
one; a cycle known to be EOL without a date counts as past. For a distribution's package the
dates are the distribution release's, when registry/distro_support.py says its support covers
the package (the row's `rule`). Days remaining are negative once past.

An item's status is a property of the item on `today`: past, extended (security over,
extended support left), near (ends within the near threshold, `[registry] near_horizon`,
default 8 months) or supported. A report's horizon (`--within`) only chooses which items are
listed: everything past or on extended support, and whatever ends by the horizon.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# The near threshold when the caller has no configured one ([registry] near_horizon).
NEAR_HORIZON = "8m"


class Status(enum.StrEnum):
    PAST = "past"            # no support any more (security, and extended if any)
    EXTENDED = "extended"    # security support over; extended support ends after the threshold
    NEAR = "near"            # the support that applies ends within the near threshold
    SUPPORTED = "supported"  # ends after the near threshold
    UNKNOWN = "unknown"      # no date announced


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


def near_end(today: date, near_horizon: str | None = None) -> date:
    """The last day an end of support counts as near (`today` + the near threshold)."""
    return horizon_end(today, near_horizon or NEAR_HORIZON)


@dataclass(frozen=True, slots=True, kw_only=True)
class Software:
    """One matched product cycle on one host (a `host_software` row)."""

    host: str
    product: str
    cycle: str | None
    category: str
    eol_date: date | None       # the product's own (upstream) dates
    eol_flag: bool | None
    eoes_date: date | None
    observed: str = ""
    # registry/distro_support.py: "upstream" (the dates above apply), "distro" (the covering
    # release's dates apply), "distro-limited" (the distribution ended its support early --
    # `covered_eol_date` is that day -- or limits it: then the upstream dates apply).
    rule: str = "upstream"
    covered_by: str | None = None     # the covering release, "Debian 12"
    covered_eol_date: date | None = None
    covered_eol_flag: bool | None = None
    covered_eoes_date: date | None = None
    rule_note: str = ""


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
    rule: str = "upstream"      # software: which support rule gave `applies`
    upstream: date | None = None  # software under a distribution's rule: upstream's date
    covered_by: str | None = None
    note: str = ""              # software: why the rule applies ("supported by Debian 12 ...")
    # What each kind of report shows of its own (hardware: vendor, model, end of sale;
    # contracts: contract, vendor, covers, kind, renewal, owner), in column order.
    fields: tuple[tuple[str, str | None], ...] = ()

    def field(self, name: str) -> str | None:
        return dict(self.fields).get(name)


def _status(applies: date | None, kind: Support, today: date, near: date) -> Status:
    if applies is None:
        return Status.UNKNOWN
    if applies <= today:  # support ends at the start of the day given
        return Status.PAST
    if applies <= near:
        return Status.NEAR
    return Status.EXTENDED if kind is Support.EXTENDED else Status.SUPPORTED


def _dates(eol: date | None, flag: bool | None, eoes: date | None,
           today: date) -> tuple[date | None, Support, bool]:
    """(date that applies, which support, known EOL without a date)."""
    if eol is None:
        if flag:
            if eoes is not None and eoes > today:
                return eoes, Support.EXTENDED, False
            return None, Support.SECURITY, True
        return None, Support.SECURITY, False
    if eol > today or eoes is None:
        return eol, Support.SECURITY, False
    return eoes, Support.EXTENDED, False


def _distro_dates(item: Software) -> bool:
    """Whether the covering release's dates apply rather than upstream's."""
    if item.rule == "distro":
        return True
    return item.rule == "distro-limited" and item.covered_eol_date is not None


def software_status(item: Software, today: date,
                    near: date | None = None) -> tuple[date | None, Support, Status]:
    """(date that applies, which support it ends, status on `today`) for one matched cycle;
    `near` is the last day that counts as near (default: `near_end(today)`)."""
    near = near or near_end(today)
    if _distro_dates(item):
        applies, kind, ended = _dates(item.covered_eol_date, item.covered_eol_flag,
                                      item.covered_eoes_date, today)
    else:
        applies, kind, ended = _dates(item.eol_date, item.eol_flag, item.eoes_date, today)
    return applies, kind, Status.PAST if ended else _status(applies, kind, today, near)


def upstream_date(item: Software, today: date) -> date | None:
    """The date upstream's support alone would give (reported beside a distribution's)."""
    return _dates(item.eol_date, item.eol_flag, item.eoes_date, today)[0]


def listed(status: Status, applies: date | None, until: date) -> bool:
    """Whether a report with horizon `until` lists an item: past or on extended support, or
    ending by the horizon."""
    if status in (Status.PAST, Status.EXTENDED):
        return True
    return applies is not None and applies <= until


def software_items(rows: Iterable[Software], today: date, until: date, *,
                   near: date | None = None, include_later: bool = False) -> list[Item]:
    """Matched software past, on extended support or reaching end of support by `until`,
    soonest (most past) first."""
    near = near or near_end(today)
    out = []
    for row in rows:
        if row.cycle is None:
            continue  # product known, version not in the data: nothing to say
        applies, kind, status = software_status(row, today, near)
        if status is Status.UNKNOWN or not (include_later or listed(status, applies, until)):
            continue
        upstream = upstream_date(row, today) if row.rule != "upstream" else None
        note = _software_note(row, applies, upstream)
        out.append(Item(host=row.host, what=row.product, version=row.cycle, kind=kind,
                        applies=applies, status=status,
                        days_remaining=(applies - today).days if applies else None,
                        detail="; ".join(p for p in (row.observed, note) if p),
                        rule=row.rule, covered_by=row.covered_by, upstream=upstream,
                        note=note))
    return sorted(out, key=_order)


def _software_note(row: Software, applies: date | None, upstream: date | None) -> str:
    parts = []
    if _distro_dates(row) and row.covered_by:
        parts.append(f"supported by {row.covered_by} until "
                     f"{applies.isoformat() if applies else 'an unknown date'}, upstream "
                     f"{upstream.isoformat() if upstream else 'date unknown'}")
    if row.rule_note:
        parts.append(row.rule_note)
    return "; ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hardware:
    asset: str
    vendor: str | None
    model: str | None
    end_of_sale: date | None
    end_of_support: date | None


def hardware_items(rows: Iterable[Hardware], today: date, until: date, *,
                   near: date | None = None) -> list[Item]:
    """Assets whose model's end of support (EOSL) is past or within the horizon."""
    near = near or near_end(today)
    out = []
    for row in rows:
        if row.end_of_support is None or row.end_of_support > until:
            continue
        out.append(Item(host=row.asset, what=f"{row.vendor or '?'} {row.model or '?'}",
                        version=row.model, kind=Support.HARDWARE, applies=row.end_of_support,
                        status=_status(row.end_of_support, Support.HARDWARE, today, near),
                        days_remaining=(row.end_of_support - today).days,
                        fields=(("vendor", row.vendor), ("model", row.model),
                                ("end_of_sale", _iso(row.end_of_sale)))))
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
                   near: date | None = None, include_renewed: bool = False) -> list[Item]:
    """Contracts ending within the horizon (or ended), renewed ones left out unless asked."""
    near = near or near_end(today)
    out = []
    for row in rows:
        if row.end_date > until or (row.renewal == "renewed" and not include_renewed):
            continue
        out.append(Item(host=row.asset, what=f"{row.vendor} {row.kind}", version=row.number,
                        kind=Support.CONTRACT, applies=row.end_date,
                        status=_status(row.end_date, Support.CONTRACT, today, near),
                        days_remaining=(row.end_date - today).days,
                        detail=f"renewal {row.renewal}"
                               + (f", owner {row.owner}" if row.owner else ""),
                        fields=(("contract", row.number), ("vendor", row.vendor),
                                ("covers", row.asset), ("kind", row.kind),
                                ("renewal", row.renewal), ("owner", row.owner))))
    return sorted(out, key=_order)


def eos_items(software: Iterable[Software], hardware: Iterable[Hardware], today: date,
              until: date, *, near: date | None = None) -> list[Item]:
    """The end-of-support report (`regie registry eos`, GET /api/v1/registry/eos): software
    and hardware past or reaching end of support by `until`, in one order."""
    return sorted([*software_items(software, today, until, near=near),
                   *hardware_items(hardware, today, until, near=near)], key=_order)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


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
