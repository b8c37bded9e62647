"""The period a report covers: a calendar quarter ("2026Q4") or explicit dates.

Pure: text and `today` in, a `Period` out; a `ValueError` names what is wrong. A period is
half-open, [start, end) in UTC; the period compared against is the one of the same length
just before it, the one looked ahead to is the calendar quarter after its end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_QUARTER = re.compile(r"(\d{4})-?Q([1-4])")


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: date        # first day
    end: date          # the day after the last

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same length just before (the previous quarter for a quarter)."""
        if (quarter := _QUARTER.fullmatch(self.label)) is not None:
            year, number = int(quarter[1]), int(quarter[2])
            year, number = (year - 1, 4) if number == 1 else (year, number - 1)
            return quarter_period(f"{year:04d}Q{number}")
        return Period(f"{self.start - timedelta(days=self.days)}.."
                      f"{self.start - timedelta(days=1)}",
                      self.start - timedelta(days=self.days), self.start)

    def following_quarter(self) -> Period:
        """The calendar quarter that starts on or after this period's end: what is due next."""
        month = ((self.end.month - 1) // 3) * 3 + 1
        first = date(self.end.year, month, 1)
        if first < self.end:
            first = _add_months(first, 3)
        return quarter_period(f"{first.year:04d}Q{(first.month - 1) // 3 + 1}")


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def quarter_period(text: str) -> Period:
    """"2026Q4" (or "2026-Q4") -> 2026-10-01 .. 2027-01-01."""
    match = _QUARTER.fullmatch(text.strip().upper())
    if match is None:
        raise ValueError(f"{text!r} is not a quarter such as 2026Q4")
    year, number = int(match[1]), int(match[2])
    start = date(year, 3 * (number - 1) + 1, 1)
    return Period(f"{year:04d}Q{number}", start, _add_months(start, 3))


def choose(*, quarter: str | None, start: date | None, end: date | None,
           today: date) -> Period:
    """The report's period from --quarter or --from/--to (`end` inclusive, as people say it);
    without either, the last complete quarter. Refused: both forms, only one of --from/--to,
    --from after --to, a period that starts after today."""
    if quarter is not None and (start is not None or end is not None):
        raise ValueError("give either a quarter or from/to dates, not both")
    if quarter is not None:
        period = quarter_period(quarter)
    elif start is not None or end is not None:
        if start is None or end is None:
            raise ValueError("from and to go together: give both dates")
        if start > end:
            raise ValueError(f"from ({start}) is after to ({end})")
        if end >= date.max:
            raise ValueError(f"to ({end}) is the calendar's last day: a period ends before it")
        period = Period(f"{start}..{end}", start, end + timedelta(days=1))
    else:
        current = quarter_period(f"{today.year}Q{(today.month - 1) // 3 + 1}")
        period = current.previous()
    if period.start > today:
        raise ValueError(f"{period.label} starts on {period.start}, in the future "
                         f"(today is {today}): there is nothing to report yet")
    try:   # what the report compares with and looks ahead to must be dates as well
        period.previous()
        period.following_quarter()
    except (OverflowError, ValueError):
        raise ValueError(f"{period.label} is too long or too near the calendar's ends for "
                         f"the period before it and the quarter after it to be dates") \
            from None
    return period
