"""Patch lag and exposure, computed from the update history (registry/patch_history.py).

- A **patch change** targets packages (each with a version, or none) on hosts, planned to
  start at `planned_start`. On each host the change is **applied** when every package it
  names is installed, as the inventory shows (never typed in):
  - with a version: the first time the history saw the package installed at that version or
    later (the package manager's order);
  - without one: every update of the package that was pending when the change started
    (first seen at or before `planned_start`) is installed; the last of them is the time.
  **Patch lag = applied - planned start**, per host; negative when the host was patched
  before the planned date (up to LOOKBACK, 30 days, before it: earlier than that, the host
  was patched before the change was thought of, and the change does not count it). A host
  with nothing the change names in its history is *not applicable*; one still waiting is
  *pending* (its lag is still growing).
  Per change: the hosts' mean and the largest (when the last host was patched).
- **Emergency** patches, changes of type `emergency` or linked to a P1 ticket, are the
  `emergency` path; the others `planned`. Their figures are kept apart.
- For updates **not tied to a change** (no change's figure came from them), **exposure =
  installed - first seen pending**, security updates apart from the others: count, mean and
  largest, aggregated by the database (collector/store/patches.py `exposure`).

Pure functions on plain data and `now`; the store reads the rows (collector/store/patches.py).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from registry.package_versions import compare

DAY = 86400.0
BY = ("month", "host", "change")
# A host that installed what a change names more than this long before the change's planned
# start was patched before the change was thought of: not part of its work (not applicable).
LOOKBACK = timedelta(days=30)


class HostState(StrEnum):
    APPLIED = "applied"
    PENDING = "pending"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A patch change as the lag needs it (from collector.store.changes.patch_changes)."""

    id: int
    type: str
    hosts: tuple[str, ...]
    packages: tuple[tuple[str, str | None], ...]
    planned_start: datetime
    status: str
    outcome: str | None = None
    emergency: bool = False      # type emergency, or linked to a P1 ticket

    @property
    def path(self) -> str:
        return "emergency" if self.emergency else "planned"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One history entry (an offered update and how it ended)."""

    id: int
    host: str
    manager: str
    package: str
    first_seen_at: datetime
    installed_at: datetime | None = None
    installed_version: str | None = None


@dataclass(frozen=True, slots=True)
class HostLag:
    host: str
    state: HostState
    applied_at: datetime | None
    lag_seconds: float | None        # applied - planned; for a pending host, now - planned
    entries: tuple[int, ...] = ()    # the history entries the figure came from


@dataclass(frozen=True, slots=True)
class ChangeLag:
    change: Target
    hosts: tuple[HostLag, ...]

    def counted(self, state: HostState) -> int:
        return sum(1 for h in self.hosts if h.state is state)

    @property
    def lags(self) -> list[float]:
        return [h.lag_seconds for h in self.hosts
                if h.state is HostState.APPLIED and h.lag_seconds is not None]

    @property
    def complete(self) -> bool:
        return self.counted(HostState.APPLIED) > 0 and self.counted(HostState.PENDING) == 0


def _package_applied(target: Target, host: str, name: str, version: str | None,
                     entries: Sequence[Entry]) -> tuple[HostState, datetime | None, list[int]]:
    earliest = target.planned_start - LOOKBACK
    entries = [e for e in entries if e.installed_at is None or e.installed_at >= earliest]
    if version is not None:
        reached = [e for e in entries if e.installed_at is not None
                   and e.installed_version is not None
                   and compare(e.manager, e.installed_version, version) >= 0]
        if reached:
            first = min(reached, key=lambda e: e.installed_at)  # type: ignore[arg-type,return-value]
            return HostState.APPLIED, first.installed_at, [first.id]
        waiting = [e for e in entries if e.installed_at is None]
        if waiting:
            return HostState.PENDING, None, [e.id for e in waiting]
        return HostState.NOT_APPLICABLE, None, []
    due = [e for e in entries if e.first_seen_at <= target.planned_start]
    if not due:
        return HostState.NOT_APPLICABLE, None, []
    if any(e.installed_at is None for e in due):
        return HostState.PENDING, None, [e.id for e in due]
    return HostState.APPLIED, max(e.installed_at for e in due), [e.id for e in due]  # type: ignore[type-var]


def by_host_package(entries: Iterable[Entry]) -> dict[tuple[str, str], list[Entry]]:
    found: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        found[(entry.host, entry.package)].append(entry)
    return found


def change_lag(target: Target, entries: Iterable[Entry] | Mapping[tuple[str, str], list[Entry]],
               now: datetime) -> ChangeLag:
    """Each host's state and lag for one patch change, from its history entries (entries of
    other hosts or packages are ignored); `entries` may come grouped by (host, package)."""
    by_key = entries if isinstance(entries, Mapping) else by_host_package(entries)
    results = []
    for host in target.hosts:
        states, times, used = [], [], []
        for name, version in target.packages:
            state, at, ids = _package_applied(target, host, name, version,
                                              by_key.get((host, name), []))
            states.append(state)
            used.extend(ids)
            if at is not None:
                times.append(at)
        if HostState.PENDING in states:
            results.append(HostLag(host, HostState.PENDING, None,
                                   (now - target.planned_start).total_seconds(), tuple(used)))
        elif HostState.APPLIED in states:
            applied = max(times)
            results.append(HostLag(host, HostState.APPLIED, applied,
                                   (applied - target.planned_start).total_seconds(),
                                   tuple(used)))
        else:
            results.append(HostLag(host, HostState.NOT_APPLICABLE, None, None))
    return ChangeLag(target, tuple(results))


@dataclass(frozen=True, slots=True)
class Figures:
    """Durations in seconds: how many, mean, median (None where the database aggregated
    them: exposure), largest."""

    count: int
    mean: float | None
    median: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Figures:
        if not values:
            return cls(0, None, None, None)
        return cls(len(values), statistics.fmean(values), statistics.median(values),
                   max(values))

    def as_days(self) -> dict[str, float | int | None]:
        def days(value: float | None) -> float | None:
            return None if value is None else round(value / DAY, 2)

        return {"count": self.count, "mean_days": days(self.mean),
                "median_days": days(self.median), "max_days": days(self.max)}


@dataclass(frozen=True, slots=True)
class LagGroup:
    key: str
    path: str              # planned | emergency
    changes: int
    applied: Figures
    pending: int           # hosts still waiting
    not_applicable: int


@dataclass(frozen=True, slots=True)
class ExposureGroup:
    key: str
    kind: str              # security | other
    figures: Figures


@dataclass(frozen=True, slots=True)
class LagReport:
    since: datetime
    now: datetime
    by: str
    changes: tuple[ChangeLag, ...]
    lag: tuple[LagGroup, ...]
    exposure: tuple[ExposureGroup, ...]
    tied: frozenset[int] = field(default_factory=frozenset)


def month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _change_key(lag: ChangeLag, by: str) -> str:
    return month(lag.change.planned_start) if by == "month" else str(lag.change.id)


def lag_groups(changes: Sequence[ChangeLag], by: str) -> tuple[LagGroup, ...]:
    """The hosts' lags grouped by the planned month, the host or the change, and the path."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    pending: dict[tuple[str, str], int] = defaultdict(int)
    absent: dict[tuple[str, str], int] = defaultdict(int)
    members: dict[tuple[str, str], set[int]] = defaultdict(set)
    for lag in changes:
        for host in lag.hosts:
            key = (host.host if by == "host" else _change_key(lag, by), lag.change.path)
            members[key].add(lag.change.id)
            if host.state is HostState.APPLIED and host.lag_seconds is not None:
                values[key].append(host.lag_seconds)
            elif host.state is HostState.PENDING:
                pending[key] += 1
            else:
                absent[key] += 1
    return tuple(LagGroup(key, path, len(members[(key, path)]),
                          Figures.of(values.get((key, path), [])), pending.get((key, path), 0),
                          absent.get((key, path), 0))
                 for key, path in sorted(members))


def changes_lag(targets: Sequence[Target], entries: Sequence[Entry],
                now: datetime) -> tuple[tuple[ChangeLag, ...], frozenset[int]]:
    """Every change's hosts, and the history entries their figures came from (`tied`: the
    exposure leaves them out)."""
    grouped = by_host_package(entries)
    changes = tuple(change_lag(t, grouped, now) for t in targets)
    return changes, frozenset(i for c in changes for h in c.hosts for i in h.entries)


def lag_report(changes: Sequence[ChangeLag], exposure: Iterable[ExposureGroup], *,
               since: datetime, now: datetime, by: str,
               tied: frozenset[int] = frozenset()) -> LagReport:
    """The whole report: every change's hosts, their lag grouped, and the exposure groups."""
    if by not in BY:
        raise ValueError(f"by: must be one of {', '.join(BY)}")
    return LagReport(since=since, now=now, by=by, changes=tuple(changes),
                     lag=lag_groups(changes, by),
                     exposure=tuple(sorted(exposure, key=lambda g: (g.key, g.kind))),
                     tied=tied)


def report_json(report: LagReport) -> dict:
    """The API's and `regie patch lag --json`'s body."""
    def moment(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat()

    def days(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / DAY, 2)

    return {
        "since": moment(report.since), "now": moment(report.now), "by": report.by,
        "lag": [{report.by: g.key, "path": g.path, "changes": g.changes,
                 "hosts_applied": g.applied.count, "hosts_pending": g.pending,
                 "hosts_not_applicable": g.not_applicable,
                 **{k: v for k, v in g.applied.as_days().items() if k != "count"}}
                for g in report.lag],
        "exposure": [{report.by: g.key, "kind": g.kind, "updates": g.figures.count,
                      **{k: v for k, v in g.figures.as_days().items()
                         if k not in ("count", "median_days")}}
                     for g in report.exposure],
        "changes": [{
            "id": c.change.id, "type": c.change.type, "path": c.change.path,
            "status": c.change.status, "outcome": c.change.outcome,
            "planned_start": moment(c.change.planned_start),
            "packages": [{"name": n, "version": v} for n, v in c.change.packages],
            "complete": c.complete,
            "hosts_applied": c.counted(HostState.APPLIED),
            "hosts_pending": c.counted(HostState.PENDING),
            "mean_lag_days": days(Figures.of(c.lags).mean),
            "max_lag_days": days(Figures.of(c.lags).max),
            "hosts": [{"host": h.host, "state": h.state.value, "applied_at": moment(h.applied_at),
                       "lag_days": days(h.lag_seconds)} for h in c.hosts],
        } for c in report.changes],
    }


def emergency(change_type: str, linked_priorities: Mapping[int, str] | Iterable[str]) -> bool:
    """An emergency patch: an emergency change, or one linked to a P1 ticket."""
    priorities = (linked_priorities.values() if isinstance(linked_priorities, Mapping)
                  else linked_priorities)
    return change_type == "emergency" or "P1" in set(priorities)


def horizon_start(now: datetime, horizon: str) -> datetime:
    """`now` minus a horizon such as 90d, 6w, 3m or 1y (months and years by the calendar):
    where `--since 90d` starts."""
    import calendar
    from datetime import timedelta

    from registry.lifecycle import parse_horizon

    count, unit = parse_horizon(horizon)
    if unit in "dw":
        return now - timedelta(days=count * (7 if unit == "w" else 1))
    months = count * (12 if unit == "y" else 1)
    year, month = divmod(now.month - 1 - months, 12)
    year += now.year
    if year < 1:
        raise ValueError(f"{horizon!r} reaches before year 1")
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)
