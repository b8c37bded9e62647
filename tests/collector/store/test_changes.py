"""The changes store on SQLite and PostgreSQL: what the maintenance windows and the patch
reports read (`change_windows`, `patch_changes`), and the store's writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from alerting.changes import ChangeStatus, ChangeType
from collector.store.changes import (
    CHANGES,
    NewChange,
    Package,
    change_windows,
    insert_change,
    patch_changes,
)
from collector.store.engine import write_transaction

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RISK = {"score": 1, "level": "low", "reasons": ["test"]}


def _new(summary: str, start: datetime, hours: float = 2, *, hosts=("web-1",),
         packages=None, change_type=ChangeType.NORMAL) -> NewChange:
    return NewChange(type=change_type, summary=summary, author="ann", host_patterns=hosts,
                     hosts=hosts, services=("www",), planned_start=start,
                     planned_end=start + timedelta(hours=hours), timezone="Europe/Amsterdam",
                     packages=packages, risk=RISK)


async def _set_status(engine, change_id: int, status: ChangeStatus) -> None:
    async with write_transaction(engine) as connection:
        await connection.execute(update(CHANGES).where(CHANGES.c.id == change_id)
                                 .values(status=status))


def test_change_windows_are_approved_or_running_changes_overlapping_the_range(db):
    async def scenario(stores):
        engine = stores.engine
        ids = {}
        for name, start, status in [
            ("approved inside", T0, ChangeStatus.APPROVED),
            ("running, overlaps the start", T0 - timedelta(hours=1), ChangeStatus.IN_PROGRESS),
            ("draft inside", T0, ChangeStatus.DRAFT),
            ("submitted inside", T0, ChangeStatus.SUBMITTED),
            ("completed inside", T0, ChangeStatus.COMPLETED),
            ("approved, ends at the range's start", T0 - timedelta(hours=2),
             ChangeStatus.APPROVED),
            ("approved, starts at the range's end", T0 + timedelta(hours=6),
             ChangeStatus.APPROVED),
        ]:
            ids[name] = await insert_change(
                engine, _new(name, start, hosts=("web-2", "web-1")), T0)
            await _set_status(engine, ids[name], status)
        return ids, await change_windows(engine, T0, T0 + timedelta(hours=6))

    ids, windows = db.run(scenario)
    assert [w.id for w in windows] == [ids["running, overlaps the start"],
                                       ids["approved inside"]]
    first = windows[1]
    assert first.summary == "approved inside"
    assert first.hosts == ("web-1", "web-2")
    assert first.services == ("www",)
    assert first.planned_start == T0 and first.planned_end == T0 + timedelta(hours=2)
    assert first.status is ChangeStatus.APPROVED


def test_patch_changes_are_changes_with_packages_since_a_date(db):
    async def scenario(stores):
        engine = stores.engine
        patch = await insert_change(engine, _new(
            "openssl", T0, hosts=("db-1",),
            packages=(Package("openssl", "3.0.15-1"), Package("libssl3", None)),
            change_type=ChangeType.EMERGENCY), T0)
        await insert_change(engine, _new("no packages", T0), T0)
        await insert_change(engine, _new("empty list", T0, packages=()), T0)
        await insert_change(engine, _new("too early", T0 - timedelta(days=10),
                                         packages=(Package("curl", None),)), T0)
        return patch, await patch_changes(engine, T0 - timedelta(days=1))

    patch, found = db.run(scenario)
    assert [p.id for p in found] == [patch]
    change = found[0]
    assert change.type is ChangeType.EMERGENCY
    assert change.hosts == ("db-1",)
    assert change.packages == (Package("openssl", "3.0.15-1"), Package("libssl3", None))
    assert change.planned_start == T0
    assert change.status is ChangeStatus.DRAFT and change.outcome is None
    assert change.tickets == ()
