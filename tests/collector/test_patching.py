"""Patch history, patch lag and exposure through the real collector process, on SQLite and
PostgreSQL: inventory pushed through `POST /api/v1/inventory` (before: the update pending;
after: the package installed at the candidate or later), read back through
`/api/v1/patch/status`, `/api/v1/patch/lag` and `/metrics`.

Time: each document carries the agent's `collected_at` (as a spooled push does), a fixed
number of days before now; the history uses it, so no clock needs faking. Patch changes are
stored with the changes' own store function (their API and transitions are the changes'
tests); a change is marked completed in the database directly for the metric's case.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.collector.conftest import _in_process, regie

NOW = datetime.now(UTC).replace(microsecond=0)
BASE = NOW - timedelta(days=40)
OPENSSL_OLD, OPENSSL_NEW = "3.0.14-1~deb12u2", "3.0.15-1~deb12u1"
SUDO_OLD, SUDO_NEW = "1.9.13p3-1+deb12u1", "1.9.13p3-1+deb12u2"
SECURITY = "Debian-Security:12/stable-security"


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


def document(host: str, at: datetime, installed: dict[str, str],
             offered: dict[str, tuple[str, bool]], **extra) -> dict:
    """An agent's document: dpkg packages installed, apt updates offered (security or not)."""
    return {
        "schema": "regie.inventory/v1", "collected_at": at.isoformat(),
        "host": {"hostname": host},
        "packages": [{"manager": "dpkg", "name": name, "version": version,
                      "architecture": "amd64"} for name, version in installed.items()],
        "updates": [{"manager": "apt", "package": name, "architecture": "amd64",
                     "current_version": installed.get(name), "version": version,
                     "origin": SECURITY if security else "Debian:12.8/stable",
                     "security": security, "advisories": []}
                    for name, (version, security) in offered.items()],
        "observations": [], "errors": [], **extra}


def push(collector, doc: dict) -> None:
    status, body = collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": uuid.uuid4().hex, "document": doc}, token="agent")
    assert status == 202, body


def create_patch_change(db: str, *, type_: str, hosts: tuple[str, ...],
                        packages: list[tuple[str, str | None]], planned: datetime,
                        status: str | None = None) -> int:
    from sqlalchemy import update

    from alerting.changes import ChangeType
    from collector.store.changes import CHANGES, NewChange, Package, insert_change

    async def work(engine) -> int:
        change_id = await insert_change(engine, NewChange(
            type=ChangeType(type_), summary=f"patch {', '.join(n for n, _ in packages)}",
            author="alice", host_patterns=hosts, hosts=hosts, services=(),
            planned_start=planned, planned_end=planned + timedelta(hours=4),
            timezone="UTC", packages=tuple(Package(n, v) for n, v in packages), risk={}),
            now=planned - timedelta(days=3))
        if status is not None:
            async with engine.begin() as connection:
                await connection.execute(update(CHANGES).where(CHANGES.c.id == change_id)
                                         .values(status=status))
        return change_id

    return asyncio.run(_in_process(db, work))


@pytest.mark.timeout(300)
def test_lag_and_exposure_from_real_pushes(collector):
    prefix = f"pt{uuid.uuid4().hex[:6]}"
    web1, web2, web3, db1 = (f"{prefix}-web-01", f"{prefix}-web-02", f"{prefix}-web-03",
                             f"{prefix}-db-01")
    base = {"bash": "5.2.15-2+b7", "sudo": SUDO_OLD}
    # Day 1: openssl's security update is offered on the three web hosts; sudo on web-01.
    for host in (web1, web2, web3):
        offered = {"openssl": (OPENSSL_NEW, True)}
        if host == web1:
            offered["sudo"] = (SUDO_NEW, True)
        push(collector, document(host, day(1), {**base, "openssl": OPENSSL_OLD}, offered))
    # db-01: a security update (day 1 -> installed day 4) and another (day 2 -> day 9).
    push(collector, document(db1, day(1), {"curl": "7.88.1-10+deb12u5"},
                             {"curl": ("7.88.1-10+deb12u8", True)}))
    push(collector, document(db1, day(2), {"curl": "7.88.1-10+deb12u5", "tzdata": "2024a-0"},
                             {"curl": ("7.88.1-10+deb12u8", True),
                              "tzdata": ("2024b-0+deb12u1", False)}))
    push(collector, document(db1, day(4), {"curl": "7.88.1-10+deb12u8", "tzdata": "2024a-0"},
                             {"tzdata": ("2024b-0+deb12u1", False)}))
    push(collector, document(db1, day(9), {"curl": "7.88.1-10+deb12u8",
                                           "tzdata": "2024b-0+deb12u1"}, {}))
    # The change: openssl on the web hosts, planned for day 10.
    change = create_patch_change(collector.db, type_="normal", hosts=(web1, web2, web3),
                                 packages=[("openssl", OPENSSL_NEW)], planned=day(10))
    # web-02 patched early (seen on day 8); web-01 late (seen on day 12); web-03 never.
    push(collector, document(web2, day(8), {**base, "openssl": OPENSSL_NEW}, {}))
    push(collector, document(web1, day(12), {**base, "openssl": OPENSSL_NEW},
                             {"sudo": (SUDO_NEW, True)}))
    push(collector, document(web3, day(12), {**base, "openssl": OPENSSL_OLD},
                             {"openssl": (OPENSSL_NEW, True)}))
    # An emergency patch of whatever sudo update was pending on web-01 at day 20: day 21.
    emergency = create_patch_change(collector.db, type_="emergency", hosts=(web1,),
                                    packages=[("sudo", None)], planned=day(20),
                                    status="completed")
    push(collector, document(web1, day(21), {**base, "openssl": OPENSSL_NEW,
                                             "sudo": SUDO_NEW}, {}))

    status, body = collector.call("GET", f"/api/v1/patch/lag?since=90d&by=change"
                                         f"&host={prefix}-*", token="viewer")
    assert status == 200, body
    changes = {c["id"]: c for c in body["changes"]}
    hosts = {h["host"]: h for h in changes[change]["hosts"]}
    assert hosts[web1]["state"] == "applied" and hosts[web1]["lag_days"] == 2.0
    assert hosts[web2]["state"] == "applied" and hosts[web2]["lag_days"] == -2.0
    assert hosts[web3]["state"] == "pending" and hosts[web3]["applied_at"] is None
    assert changes[change]["complete"] is False
    assert changes[change]["mean_lag_days"] == 0.0 and changes[change]["max_lag_days"] == 2.0
    assert changes[change]["path"] == "planned"
    assert changes[emergency]["path"] == "emergency"
    assert [(h["host"], h["state"], h["lag_days"]) for h in changes[emergency]["hosts"]] == [
        (web1, "applied", 1.0)]
    lag = {(g["change"], g["path"]): g for g in body["lag"]}
    assert lag[(str(change), "planned")]["hosts_applied"] == 2
    assert lag[(str(change), "planned")]["hosts_pending"] == 1
    assert lag[(str(emergency), "emergency")]["mean_days"] == 1.0
    # Exposure: only db-01's updates belong to no change.
    exposure = {(g["kind"]): g for g in body["exposure"]}
    assert exposure["security"]["updates"] == 1 and exposure["security"]["mean_days"] == 3.0
    assert exposure["other"]["updates"] == 1 and exposure["other"]["mean_days"] == 7.0

    status, by_month = collector.call("GET", f"/api/v1/patch/lag?since=90d&by=month"
                                             f"&host={prefix}-*", token="viewer")
    assert status == 200
    months = {g["month"] for g in by_month["lag"]}
    assert months == {day(10).strftime("%Y-%m"), day(20).strftime("%Y-%m")}

    # Status: web-03 still waits for openssl since day 1; nothing else is pending.
    status, pending = collector.call("GET", f"/api/v1/patch/status?host={prefix}-*"
                                            f"&updates=true", token="viewer")
    assert status == 200, pending
    assert [(h["host"], h["security"], h["other"]) for h in pending["hosts"]] == [
        (web3, 1, 0)]
    assert pending["hosts"][0]["oldest_security_first_seen"] == day(1).isoformat()
    assert [(u["package"], u["version"]) for u in pending["hosts"][0]["updates"]] == [
        ("openssl", OPENSSL_NEW)]

    # /metrics, from the database.
    status, text = collector.call("GET", "/metrics", token="viewer")
    assert status == 200
    assert f'regie_host_pending_updates{{host="{web3}",kind="security"}} 1.0' in text
    assert f'regie_host_pending_updates{{host="{web3}",kind="other"}} 0.0' in text
    since = f"regie_host_security_update_pending_since_timestamp_seconds{{host=\"{web3}\"}}"
    line = next(x for x in text.splitlines() if x.startswith(since))
    assert float(line.split()[-1]) == day(1).timestamp()
    assert (f'regie_patch_last_change_lag_seconds{{change="{emergency}",path="emergency",'
            f'statistic="max"}} 86400.0') in text

    # The CLI reads the same store through the same functions: the same figures.
    out = regie("patch", "lag", "--since", "90d", "--by", "change", "--host", f"{prefix}-*",
                "--json", "--db", collector.db)
    cli = json.loads(out.stdout)
    assert cli["lag"] == body["lag"] and cli["exposure"] == body["exposure"]
    assert [c["id"] for c in cli["changes"]] == [c["id"] for c in body["changes"]]
    table = regie("patch", "lag", "--by", "change", "--host", f"{prefix}-*",
                  "--db", collector.db).stdout
    assert f"change {change} (normal" in table and f"waiting: {web3}" in table
    cli = json.loads(regie("patch", "status", "--host", f"{prefix}-*", "--json",
                           "--db", collector.db).stdout)
    assert cli["hosts"] == pending["hosts"] or [h["host"] for h in cli["hosts"]] == [web3]
    table = regie("patch", "status", "--security", "--host", f"{prefix}-*",
                  "--db", collector.db).stdout
    assert table.splitlines()[0] == "1 host(s) with pending updates: 1 security, 0 other"
    assert f"openssl {OPENSSL_NEW} (security" in table


def test_replayed_and_failed_readings_change_nothing(collector):
    """A replayed push is stored once; a push whose update reader failed withdraws nothing
    and adds nothing; one whose package reader failed installs nothing."""
    host = f"pt{uuid.uuid4().hex[:6]}-app-01"
    first = {"idempotency_key": uuid.uuid4().hex,
             "document": document(host, day(1), {"zlib1g": "1:1.2.13.dfsg-1"},
                                  {"zlib1g": ("1:1.2.13.dfsg-1+deb12u1", True)})}
    assert collector.call("POST", "/api/v1/inventory", first, token="agent")[0] == 202
    assert collector.call("POST", "/api/v1/inventory", first, token="agent")[0] == 200
    push(collector, document(host, day(2), {"zlib1g": "1:1.2.13.dfsg-1"}, {},
                             errors=[{"reader": "apt", "error": "apt-get: exit 100"}]))
    push(collector, document(host, day(3), {}, {"zlib1g": ("1:1.2.13.dfsg-1+deb12u1", True)},
                             errors=[{"reader": "dpkg", "error": "dpkg-query: not found"}]))
    status, body = collector.call("GET", f"/api/v1/patch/status?host={host}&updates=true",
                                  token="viewer")
    assert status == 200
    assert [(h["host"], h["security"], len(h["updates"])) for h in body["hosts"]] == [
        (host, 1, 1)]
    assert body["hosts"][0]["updates"][0]["first_seen"] == day(1).isoformat()
    # Removed from the host and no longer offered: withdrawn, in no figure.
    push(collector, document(host, day(4), {}, {}))
    status, body = collector.call("GET", f"/api/v1/patch/status?host={host}", token="viewer")
    assert body["hosts"] == []
    status, lag = collector.call("GET", f"/api/v1/patch/lag?host={host}", token="viewer")
    assert lag["exposure"] == []


@pytest.mark.parametrize(("query", "field"), [
    ("/api/v1/patch/lag?since=90", "since"),
    ("/api/v1/patch/lag?since=ninety", "since"),
    ("/api/v1/patch/lag?by=week", "by"),
    ("/api/v1/patch/lag?hosts=x", "hosts"),
    ("/api/v1/patch/status?security=yes", "security"),
    ("/api/v1/patch/status?host=a&host=b", "host"),
])
def test_bad_queries_are_refused_with_the_parameter_named(collector, query, field):
    status, body = collector.call("GET", query, token="viewer")
    assert status == 400, body
    assert body["error"].startswith(field), body


def test_reports_need_a_token_that_may_read(collector):
    assert collector.call("GET", "/api/v1/patch/status", token=None)[0] == 401
    assert collector.call("GET", "/api/v1/patch/lag", token="agent")[0] == 403


def test_cli_refusals(tmp_path, collector):
    missing = tmp_path / "none.db"
    result = regie("patch", "status", "--db", f"sqlite:///{missing}", check=False)
    assert result.returncode == 2 and not missing.exists()
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    result = regie("patch", "lag", "--since", "ninety", "--db", collector.db, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == ("regie patch: --since: 'ninety' is not a horizon such as "
                                     "90d, 6w, 8m or 1y"), result.stderr
    result = regie("patch", "lag", "--by", "week", "--db", collector.db, check=False)
    assert result.returncode == 2 and "--by" in result.stderr


def test_the_stores_open_entry_read_repeats_the_partial_index_predicate():
    """SQLite's planner uses the partial index only for a query that implies its predicate."""
    from collector.store.models import PACKAGE_UPDATE_OPEN_PREDICATE
    from collector.store.patches import _OPEN_OF_HOST_SQLITE

    assert _OPEN_OF_HOST_SQLITE.endswith(f"AND {PACKAGE_UPDATE_OPEN_PREDICATE}")


@pytest.mark.timeout(300)
def test_gauges_come_from_the_database_on_every_collector(collector, tmp_path):
    """A push to one collector shows on another collector of the same database that received
    no push (as after a restart): the gauges are read from the store, not kept in memory."""
    from tests.collector.conftest import collector_process

    host = f"pt{uuid.uuid4().hex[:6]}-mail-01"
    push(collector, document(host, day(1), {"exim4": "4.96-15+deb12u4"},
                             {"exim4": ("4.96-15+deb12u5", True),
                              "tzdata": ("2024b-0+deb12u1", False)}))
    with collector_process(tmp_path, collector.db, tokens=collector.tokens) as other:
        status, text = other.call("GET", "/metrics", token="viewer")
    assert status == 200
    assert f'regie_host_pending_updates{{host="{host}",kind="security"}} 1.0' in text
    assert f'regie_host_pending_updates{{host="{host}",kind="other"}} 1.0' in text
    name = f'regie_host_security_update_pending_since_timestamp_seconds{{host="{host}"}}'
    [line] = [x for x in text.splitlines() if x.startswith(name)]
    assert float(line.split()[-1]) == day(1).timestamp()
