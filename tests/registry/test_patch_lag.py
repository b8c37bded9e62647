"""Patch lag and exposure as tables: per host, per change, grouped, and the report's edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registry.patch_lag import (
    DAY,
    Entry,
    ExposureGroup,
    Figures,
    HostState,
    Target,
    change_lag,
    changes_lag,
    emergency,
    horizon_start,
    lag_report,
    report_json,
)

T0 = datetime(2026, 10, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=30)


def d(n: float) -> datetime:
    return T0 + timedelta(days=n)


def e(id_: int, host: str, package: str, version: str, seen: float,
      installed: float | None = None, installed_version: str | None = None,
      security: bool = True, manager: str = "apt") -> Entry:
    return Entry(id=id_, host=host, manager=manager, package=package, first_seen_at=d(seen),
                 installed_at=None if installed is None else d(installed),
                 installed_version=(installed_version or version) if installed is not None
                 else None)


def target(packages, hosts=("a",), planned: float = 10, type_: str = "normal",
           emergency_: bool = False) -> Target:
    return Target(id=7, type=type_, hosts=tuple(hosts), packages=tuple(packages),
                  planned_start=d(planned), status="completed", emergency=emergency_)


@pytest.mark.parametrize(("packages", "entries", "state", "lag_days"), [
    # Version named: the first installation reaching it.
    ([("openssl", "3.0.15-1")], [e(1, "a", "openssl", "3.0.15-1", 1, 12)],
     HostState.APPLIED, 2.0),
    # ... before the planned start: negative.
    ([("openssl", "3.0.15-1")], [e(1, "a", "openssl", "3.0.15-1", 1, 7)],
     HostState.APPLIED, -3.0),
    # ... a later build reaches it too (dpkg order); an earlier one does not.
    ([("openssl", "3.0.15-1")], [e(1, "a", "openssl", "3.0.14-1", 1, 5),
                                 e(2, "a", "openssl", "3.0.16-1", 8, 13)],
     HostState.APPLIED, 3.0),
    # ... still pending.
    ([("openssl", "3.0.15-1")], [e(1, "a", "openssl", "3.0.15-1", 1)],
     HostState.PENDING, 20.0),
    # ... nothing about it in the history.
    ([("openssl", "3.0.15-1")], [e(1, "a", "bash", "5.2", 1, 3)],
     HostState.NOT_APPLICABLE, None),
    # No version: every update pending at the planned start, the last installation counts.
    ([("sudo", None)], [e(1, "a", "sudo", "1.9.13p3-1+deb12u1", 1, 11),
                        e(2, "a", "sudo", "1.9.13p3-1+deb12u2", 5, 14)],
     HostState.APPLIED, 4.0),
    # ... an update first seen after the start is not the change's.
    ([("sudo", None)], [e(1, "a", "sudo", "1", 1, 11), e(2, "a", "sudo", "2", 12)],
     HostState.APPLIED, 1.0),
    ([("sudo", None)], [e(2, "a", "sudo", "2", 12)], HostState.NOT_APPLICABLE, None),
    # Two packages: applied when both are, at the later one.
    ([("openssl", "3"), ("sudo", "2")], [e(1, "a", "openssl", "3", 1, 11),
                                         e(2, "a", "sudo", "2", 1, 15)],
     HostState.APPLIED, 5.0),
    ([("openssl", "3"), ("sudo", "2")], [e(1, "a", "openssl", "3", 1, 11),
                                         e(2, "a", "sudo", "2", 1)],
     HostState.PENDING, 20.0),
    # rpm order for a dnf entry: 1.0^git1 is after 1.0.
    ([("tool", "1.0")], [e(1, "a", "tool", "1.0^git1", 1, 10.5, manager="dnf")],
     HostState.APPLIED, 0.5),
])
def test_one_host(packages, entries, state, lag_days):
    [host] = change_lag(target(packages), entries, NOW).hosts
    assert host.state is state
    assert (None if host.lag_seconds is None else host.lag_seconds / DAY) == lag_days


def test_other_hosts_entries_do_not_count():
    lag = change_lag(target([("openssl", "3")], hosts=("a", "b")),
                     [e(1, "b", "openssl", "3", 1, 12)], NOW)
    assert [(h.host, h.state) for h in lag.hosts] == [("a", HostState.NOT_APPLICABLE),
                                                      ("b", HostState.APPLIED)]
    assert lag.complete and lag.lags == [2 * DAY]


def test_report_groups_paths_apart_and_ties_the_entries_figures_came_from():
    planned = Target(id=1, type="normal", hosts=("a", "b", "c"),
                     packages=(("openssl", "3"),), planned_start=d(10), status="completed")
    urgent = Target(id=2, type="normal", hosts=("a",), packages=(("sudo", "2"),),
                    planned_start=d(20), status="completed", emergency=True)
    entries = [e(1, "a", "openssl", "3", 1, 12), e(2, "b", "openssl", "3", 1, 16),
               e(3, "c", "openssl", "3", 1), e(4, "a", "sudo", "2", 19, 20.5)]
    changes, tied = changes_lag([planned, urgent], entries, NOW)
    assert tied == {1, 2, 3, 4}
    exposure = [ExposureGroup("none", "security", Figures(1, 3 * DAY, None, 3 * DAY))]
    report = lag_report(changes, exposure, since=T0, now=NOW, by="change", tied=tied)
    groups = {(g.key, g.path): g for g in report.lag}
    assert groups[("1", "planned")].applied.count == 2
    assert groups[("1", "planned")].applied.mean == 4 * DAY      # 2 and 6 days
    assert groups[("1", "planned")].applied.median == 4 * DAY
    assert groups[("1", "planned")].pending == 1
    assert groups[("2", "emergency")].applied.max == 0.5 * DAY
    body = report_json(report)
    assert body["exposure"] == [{"change": "none", "kind": "security", "updates": 1,
                                 "mean_days": 3.0, "max_days": 3.0}]
    by_month = lag_report(changes, [], since=T0, now=NOW, by="month")
    assert {(g.key, g.path) for g in by_month.lag} == {("2026-10", "planned"),
                                                       ("2026-10", "emergency")}
    by_host = lag_report(changes[:1], [], since=T0, now=NOW, by="host")
    assert [(g.key, g.applied.count, g.pending) for g in by_host.lag] == [
        ("a", 1, 0), ("b", 1, 0), ("c", 0, 1)]
    with pytest.raises(ValueError, match="by: must be one of"):
        lag_report([], [], since=T0, now=NOW, by="week")


def test_an_installation_long_before_the_change_is_not_its_work():
    """Within LOOKBACK before the planned start: early (negative lag); before that: the host
    was patched before the change was planned, so it is not applicable."""
    [early] = change_lag(target([("openssl", "3")]), [e(1, "a", "openssl", "3", -40, -15)],
                         NOW).hosts
    assert early.state is HostState.APPLIED and early.lag_seconds == -25 * DAY
    [before] = change_lag(target([("openssl", "3")]), [e(1, "a", "openssl", "3", -40, -21)],
                          NOW).hosts
    assert before.state is HostState.NOT_APPLICABLE


@pytest.mark.parametrize(("type_", "priorities", "expected"), [
    ("emergency", [], True), ("normal", ["P2", "P1"], True), ("normal", ["P2"], False),
    ("standard", {5: "P1"}, True),
])
def test_emergency(type_, priorities, expected):
    assert emergency(type_, priorities) is expected


@pytest.mark.parametrize(("horizon", "expected"), [
    ("90d", datetime(2026, 3, 2, 12, tzinfo=UTC)),
    ("2w", datetime(2026, 5, 17, 12, tzinfo=UTC)),
    ("3m", datetime(2026, 2, 28, 12, tzinfo=UTC)),    # May 31 - 3 months: end of February
    ("1y", datetime(2025, 5, 31, 12, tzinfo=UTC)),
])
def test_horizon_start(horizon, expected):
    assert horizon_start(datetime(2026, 5, 31, 12, tzinfo=UTC), horizon) == expected
