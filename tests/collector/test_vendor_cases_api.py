"""Vendor cases through the real collector process's API, on SQLite and PostgreSQL (the shared
collector fixture): open, show, update, note, close; the contract's standing from the registry
(imported with the real `regie registry import contracts`); the past-end-of-support flag from
a real inventory push; refusals (4xx with the field named, nothing written); /metrics."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.collector.conftest import regie
from tests.services import wait_for


def push_host(collector, host: str, distro: str, version: str) -> None:
    """An inventory push through the public API, as an agent sends it."""
    document = {"schema": "regie.inventory/v1", "host": {"hostname": host},
                "observations": [{"source": "os-release",
                                  "raw": {"ID": distro, "VERSION_ID": version}}]}
    status, body = collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": f"{host}-{uuid.uuid4().hex}", "document": document}, token="agent")
    assert status == 202, body


def import_contracts(collector, tmp_path, rows: str) -> None:
    path = tmp_path / "contracts.csv"
    path.write_text("asset,vendor,number,end_date\n" + rows)
    regie("registry", "import", "contracts", str(path), "--db", collector.db)


def open_case(collector, **fields):
    body = {"vendor": "Dell", "case_number": f"SR-{uuid.uuid4().hex[:8]}",
            "summary": "RAID controller resets under load", **fields}
    return collector.call("POST", "/api/v1/vendor-cases", body, token="responder")


def cases(collector, query: str = "status=open,waiting_on_vendor,waiting_on_us,resolved,"
                                   "closed") -> list[dict]:
    status, body = collector.call("GET", f"/api/v1/vendor-cases?{query}", token="viewer")
    assert status == 200, body
    return body["cases"]


def test_a_case_from_opening_to_close(collector):
    status, ticket = collector.call("POST", "/api/v1/tickets", {"summary": "disk errors",
                                                                "host": "db-01"},
                                    token="responder")
    assert status == 201, ticket
    status, case = open_case(collector, severity="high", owner="alice",
                             tickets=[ticket["id"]], hosts=["db-01"], follow_up_days=3,
                             note="uploaded the TSR log")
    assert status == 201, case
    assert (case["status"], case["severity"], case["owner"]) == ("open", "high", "alice")
    assert case["tickets"] == [ticket["id"]] and case["hosts"] == ["db-01"]
    opened = datetime.fromisoformat(case["opened_at"])
    assert datetime.fromisoformat(case["next_follow_up_at"]) - opened == timedelta(days=3)
    assert case["warnings"] == [] and case["past_end_of_support"] == []

    status, updated = collector.call("POST", f"/api/v1/vendor-cases/{case['id']}/update",
                                     {"status": "waiting_on_vendor", "vendor_update": True,
                                      "actor": "bob"}, token="responder")
    assert status == 200, updated
    assert updated["status"] == "waiting_on_vendor"
    assert updated["last_vendor_update_at"] is not None
    status, closed = collector.call("POST", f"/api/v1/vendor-cases/{case['id']}/close",
                                    {"note": "replacement controller fitted"},
                                    token="responder")
    assert status == 200, closed
    assert closed["status"] == "closed" and closed["next_follow_up_at"] is None
    status, shown = collector.call("GET", f"/api/v1/vendor-cases/{case['id']}", token="viewer")
    assert status == 200
    kinds = [(e["kind"], e["actor"]) for e in shown["timeline"]]
    assert kinds[0][0] == "opened" and ("note", kinds[1][1]) in kinds
    assert ("vendor_update", "bob") in kinds
    assert [k for k, _ in kinds][-2:] == ["closed", "note"]
    # Listed by default only while waiting on someone.
    assert case["id"] not in [c["id"] for c in cases(collector, "")]
    assert case["id"] in [c["id"] for c in cases(collector, "status=closed")]


def test_an_expired_contract_is_a_warning(collector, tmp_path):
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    next_year = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    import_contracts(collector, tmp_path, f"db-01,Dell,C-OLD,{yesterday}\n"
                                          f"db-02,Dell,C-NEW,{next_year}\n")
    status, old = open_case(collector, contract="C-OLD")
    assert status == 201, old
    assert old["contract_standing"]["expired"] is True
    (warning,) = old["warnings"]
    assert f"contract C-OLD (Dell) ended on {yesterday}" in warning
    status, shown = collector.call("GET", f"/api/v1/vendor-cases/{old['id']}", token="viewer")
    assert any(e["kind"] == "warning" and "C-OLD" in e["message"] for e in shown["timeline"])
    status, current = open_case(collector, contract="C-NEW")
    assert status == 201, current
    assert current["contract_standing"]["expired"] is False and current["warnings"] == []
    listed = {c["id"]: c["warnings"] for c in cases(collector)}
    assert listed == {old["id"]: [warning], current["id"]: []}


def test_a_case_on_a_host_past_end_of_support_is_flagged(collector):
    push_host(collector, "old-db", "debian", "10")     # security and LTS support over
    push_host(collector, "new-db", "debian", "12")
    status, old = open_case(collector, hosts=["old-db"])
    assert status == 201, old
    (reason,) = old["past_end_of_support"]
    assert reason.startswith("debian 10 on old-db is past end of support"), reason
    assert any("vendors may refuse support" in w for w in old["warnings"])
    status, new = open_case(collector, hosts=["new-db"])
    assert status == 201, new
    assert new["past_end_of_support"] == [] and new["warnings"] == []
    # A product named without hosts: past wherever the fleet runs it past its end.
    status, product = open_case(collector, product="debian")
    assert status == 201
    assert product["past_end_of_support"] == ["debian 10 on old-db is past end of support"]


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"next_follow_up": "2020-01-01T00:00:00Z"}, 409,
     "next_follow_up: 2020-01-01T00:00:00+00:00 is not in the future"),
    ({"tickets": [2_000_000_000]}, 409, "tickets: no ticket #2000000000"),
    ({"hosts": ["no-such-host"]}, 409, "hosts: no host named 'no-such-host' is known"),
    ({"changes": [1]}, 409, "changes: no change #1"),
    ({"tickets": [1.5]}, 400, "tickets[0]: must be a whole number from 1 to"),
    ({"contract": "C-NONE"}, 409, "contract: no contract numbered 'C-NONE'"),
    ({"severity": "urgent"}, 400, "severity: must be one of"),
    ({"follow_up_days": 0}, 400, "follow_up_days: must be a whole number from 1 to 365"),
    ({"owner": "al\nice"}, 400, "owner: not a person's name"),
    ({"vendor": " "}, 400, "vendor: must not be empty"),
    ({"colour": "red"}, 400, "colour: unknown field"),
])
def test_bad_input_writes_nothing(collector, body, status, reason):
    before = cases(collector)
    got, answer = open_case(collector, **body)
    assert (got, answer["error"][:len(reason)]) == (status, reason), answer
    assert cases(collector) == before


def test_refused_updates_write_nothing(collector):
    _, case = open_case(collector)
    path = f"/api/v1/vendor-cases/{case['id']}"
    _, before = collector.call("GET", path, token="viewer")
    for body, status, reason in [
        ({"next_follow_up": "2001-02-03T04:05:06Z"}, 409, "next_follow_up: "),
        ({"status": "pending"}, 400, "status: must be one of"),
        ({"hosts": ["nowhere"]}, 409, "hosts: no host named 'nowhere'"),
    ]:
        got, answer = collector.call("POST", path + "/update", body, token="responder")
        assert (got, answer["error"][:len(reason)]) == (status, reason), answer
    assert collector.call("POST", path + "/close", token="responder")[0] == 200
    _, closed = collector.call("GET", path, token="viewer")
    # A closed case is final: no status, no note.
    got, answer = collector.call("POST", path + "/update", {"status": "open"},
                                 token="responder")
    assert got == 409 and answer["error"] == ("status: a closed case cannot become open; a "
                                              "closed case is final (open a new one)")
    got, answer = collector.call("POST", path + "/note", {"text": "one more thing"},
                                 token="responder")
    assert (got, answer["error"]) == (409, "the case is closed: a closed case is final (open "
                                           "a new one)")
    _, after = collector.call("GET", path, token="viewer")
    assert after == closed
    assert len(closed["timeline"]) == len(before["timeline"]) + 1   # only the close


@pytest.mark.parametrize("body", [{}, {"severity": None},
                                  {"tickets": [], "note": None, "vendor_update": None}])
def test_an_update_of_nothing_changes_nothing(collector, body):
    """Every field absent or null: 200 with the case as it was, nothing on its timeline, its
    follow-up not moved (before: 500, an empty timeline record refused by the database)."""
    _, case = open_case(collector)
    path = f"/api/v1/vendor-cases/{case['id']}"
    _, before = collector.call("GET", path, token="viewer")
    got, answer = collector.call("POST", path + "/update", body, token="responder")
    assert got == 200, answer
    assert answer["next_follow_up_at"] == before["next_follow_up_at"]
    _, after = collector.call("GET", path, token="viewer")
    assert after == before


def test_a_resolved_case_reopens_as_open(collector):
    _, case = open_case(collector)
    path = f"/api/v1/vendor-cases/{case['id']}/update"
    got, resolved = collector.call("POST", path, {"status": "resolved"}, token="responder")
    assert (got, resolved["status"], resolved["next_follow_up_at"]) == (200, "resolved", None)
    got, refused = collector.call("POST", path, {"status": "waiting_on_us"},
                                  token="responder")
    assert (got, refused["error"]) == (409, "status: a resolved case cannot become "
                                            "waiting_on_us; from resolved it may become "
                                            "closed, open")
    got, reopened = collector.call("POST", path, {"status": "open"}, token="responder")
    assert (got, reopened["status"]) == (200, "open")
    assert reopened["resolved_at"] is None and reopened["next_follow_up_at"] is not None


def test_roles_and_duplicates(collector):
    body = {"vendor": "HPE", "case_number": "5300-1", "summary": "iLO unreachable"}
    assert collector.call("POST", "/api/v1/vendor-cases", body, token="viewer")[0] == 403
    assert collector.call("POST", "/api/v1/vendor-cases", body, token=None)[0] == 401
    status, first = collector.call("POST", "/api/v1/vendor-cases", body, token="responder")
    assert status == 201
    status, again = collector.call("POST", "/api/v1/vendor-cases", body, token="responder")
    assert status == 409 and again["case_id"] == first["id"], again
    assert [c["case_number"] for c in cases(collector, "case_number=5300-1")] == ["5300-1"]


def test_metrics_show_open_cases_by_vendor(collector):
    for vendor in ("Dell", "Dell", "Cisco"):
        assert open_case(collector, vendor=vendor)[0] == 201
    _, closed = open_case(collector, vendor="Cisco")
    collector.call("POST", f"/api/v1/vendor-cases/{closed['id']}/close", token="responder")
    wanted = 'regie_vendor_cases_open{status="open",vendor="Dell"} 2.0'

    def scrape() -> str:
        status, text = collector.call("GET", "/metrics", token="viewer")
        assert status == 200
        return text

    # The gauges are read from the database at most every 15 s (a scrape storm is no query
    # storm): an earlier scrape's figures may still be served for that long.
    wait_for(lambda: wanted in scrape().splitlines(), timeout=30, interval=0.5,
             what="/metrics to show the cases")
    text = scrape()
    lines = text.splitlines()
    assert wanted in lines
    assert 'regie_vendor_cases_open{status="open",vendor="Cisco"} 1.0' in lines
    assert 'regie_vendor_cases_overdue{vendor="Dell"} 0.0' in lines
    oldest = [line for line in lines
              if line.startswith('regie_vendor_case_oldest_opened_timestamp_seconds{vendor="Dell"')]
    assert len(oldest) == 1
    age = datetime.now(UTC).timestamp() - float(oldest[0].rsplit(" ", 1)[1])
    assert 0 <= age < 600
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_links_to_a_change_and_more_links_later(collector):
    start = datetime.now(UTC) + timedelta(days=3)
    status, ticket = collector.call("POST", "/api/v1/tickets", {"summary": "BIOS", "host": "web-7"},
                                    token="responder")
    assert status == 201
    status, change = collector.call("POST", "/api/v1/changes", {
        "type": "normal", "summary": "BIOS update", "hosts": ["web-7"],
        "planned_start": start.isoformat(), "planned_end": (start + timedelta(hours=1))
        .isoformat(), "timezone": "UTC"}, token="responder")
    assert status == 201, change
    status, case = open_case(collector, changes=[change["id"]])
    assert status == 201 and case["changes"] == [change["id"]], case
    status, more = collector.call("POST", f"/api/v1/vendor-cases/{case['id']}/update", {
        "tickets": [ticket["id"]], "hosts": ["web-7"], "changes": [change["id"]]},
        token="responder")
    assert status == 200, more
    assert (more["tickets"], more["hosts"], more["changes"]) == (
        [ticket["id"]], ["web-7"], [change["id"]])
    assert [c["id"] for c in cases(collector, "host=web-7")] == [case["id"]]
