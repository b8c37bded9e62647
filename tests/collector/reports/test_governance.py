"""The governance review end to end on SQLite and PostgreSQL: a quarter of history made
through the public API with an injected clock (tickets from users and from the Events API,
acknowledged and resolved later, an escalation that reaches the escalation manager, an
acknowledgement that expires, a notification a receiver refuses, inventory pushes matched to
end-of-support data, hardware and contracts imported with `regie registry import`), then the
report made by `regie report governance` and by `GET /api/v1/reports/governance`.

Every signal is computed again here with plain SQL over the same tables and Python, and the
two must agree. The HTML is opened in a real headless Chromium: no console error, no request
beyond the file itself, every chart an SVG holding its title; a screenshot is saved.
Only time is fake (tests/collector/oncall_harness.py's Clock).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import mean

import pytest

from tests.collector.conftest import _in_process, create_tokens, regie
from tests.collector.oncall_harness import Clock, OnCall, Receiver

Q2 = datetime(2026, 4, 6, 10, tzinfo=UTC)        # a Monday in the previous quarter
Q3 = datetime(2026, 7, 6, 10, tzinfo=UTC)        # a Monday in the reported quarter
AFTER = datetime(2026, 10, 5, 10, tzinfo=UTC)    # when the report is asked for
Q3_START, Q3_END = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
Q2_START = datetime(2026, 4, 1, tzinfo=UTC)
AS_OF = date(2026, 9, 30)
# Monitoring P2s per component: storage keeps failing (5 of 12: 42%).
P2_COMPONENTS = ["storage"] * 5 + ["postgres"] * 3 + ["nginx"] * 2 + ["dns"] * 2
FLEET = {"old-01": ("debian", "10"), "app-01": ("ubuntu", "22.04"),
         "web-01": ("debian", "12")}


async def make_history(c, clock: Clock, receiver: Receiver) -> None:
    ingest = c.tokens["ingest"]

    async def event(action: str, key: str, **payload) -> None:
        body = {"routing_key": ingest, "event_action": action, "dedup_key": key}
        if payload:
            body["payload"] = payload
        await c.call("POST", "/api/v1/events", role="", body=body, expect=202)

    async def user_ticket(n: int, component: str) -> int:
        ticket = await c.call("POST", "/api/v1/tickets", expect=201, body={
            "summary": f"{component} failing ({n})", "host": f"srv-{n:02d}",
            "component": component, "impact": "business-critical", "urgency": "high"})
        return ticket["id"]

    # The previous quarter: six P1s from users, acknowledged after 10 min, resolved after 1 h.
    clock.now = Q2
    for n in range(6):
        ticket = await user_ticket(n, f"app{n}")
        clock.advance(minutes=10)
        await c.call("POST", f"/api/v1/tickets/{ticket}/ack", expect=200, body={})
        clock.advance(minutes=50)
        await c.call("POST", f"/api/v1/tickets/{ticket}/resolve", expect=200, body={})
        clock.advance(days=3)
    # The reported quarter: twelve monitoring P2s, one a day.
    clock.now = Q3
    for n, component in enumerate(P2_COMPONENTS):
        key = f"mon-{n}"
        await event("trigger", key, summary=f"{component} errors", source=f"node-{n:02d}",
                    severity="critical", component=component)
        clock.advance(minutes=30)
        await event("acknowledge", key)
        clock.advance(hours=2)
        await event("resolve", key)
        clock.advance(days=1)
    # Six user P1s, acknowledged after 25 min (slower than before), resolved after 2 h.
    for n in range(6):
        ticket = await user_ticket(10 + n, f"svc{n}")
        if n == 0:
            # Nobody acknowledges: primary, secondary after 5 min, the manager after 15.
            for minutes in (0, 5, 10):
                clock.advance(minutes=minutes)
                await c.sweep()
            clock.advance(minutes=10)
        else:
            clock.advance(minutes=25)
        await c.call("POST", f"/api/v1/tickets/{ticket}/ack", expect=200, body={})
        if n == 1:
            # The acknowledgement expires after 1 h without a resolution.
            clock.advance(hours=1, minutes=1)
            await c.sweep()
            await c.call("POST", f"/api/v1/tickets/{ticket}/ack", expect=200, body={})
        clock.advance(hours=1, minutes=35)
        await c.call("POST", f"/api/v1/tickets/{ticket}/resolve", expect=200, body={})
        clock.advance(days=2)
    # A receiver that refuses a notice: a dead letter.
    receiver.script = [(400, {})]
    ticket = await user_ticket(30, "mail")
    await c.settle()
    await c.call("POST", f"/api/v1/tickets/{ticket}/resolve", expect=200, body={})
    await c.settle()
    # Inventory: end of support is matched on each push; web-01 is offered an openssl update.
    for host, (distro, version) in FLEET.items():
        await push(c, host, distro, version, offered=host == "web-01")
    # A vendor case opened now: still waiting at the end of the quarter.
    clock.advance(days=1)
    await c.call("POST", "/api/v1/vendor-cases", expect=201, body={
        "vendor": "Dell", "case_number": "SR-7781", "summary": "RAID controller resets"})
    # A patch change on web-01 planned tomorrow; the push three days after it shows openssl
    # installed: a lag of three days.
    planned = clock.now + timedelta(days=1)
    patch = await change(c, "openssl security update", ["web-01"], planned,
                         packages=[{"name": "openssl", "version": OPENSSL_NEW}])
    clock.now = planned
    await c.call("POST", f"/api/v1/changes/{patch}/start", expect=200, body={})
    clock.advance(hours=1)
    await c.call("POST", f"/api/v1/changes/{patch}/complete", expect=200,
                 body={"outcome": "successful"})
    clock.now = planned + timedelta(days=3)
    await push(c, "web-01", "debian", "12", offered=False)
    # A kernel upgrade on app-01, rolled back after a user reported a failure during it.
    clock.advance(days=1)
    kernel = await change(c, "kernel upgrade", ["app-01"], clock.now + timedelta(hours=1))
    clock.advance(hours=1)
    await c.call("POST", f"/api/v1/changes/{kernel}/start", expect=200, body={})
    clock.advance(minutes=30)
    await c.call("POST", "/api/v1/tickets", expect=201, body={
        "summary": "app-01 does not boot", "host": "app-01", "component": "kernel",
        "impact": "medium", "urgency": "low"})
    clock.advance(minutes=30)
    await c.call("POST", f"/api/v1/changes/{kernel}/complete", expect=200,
                 body={"outcome": "rolled_back", "reason": "boot loop"})


OPENSSL_OLD, OPENSSL_NEW = "3.0.14-1~deb12u2", "3.0.15-1~deb12u1"


async def push(c, host: str, distro: str, version: str, *, offered: bool) -> None:
    installed = OPENSSL_OLD if offered else OPENSSL_NEW
    await c.call("POST", "/api/v1/inventory", role="agent", expect=202, body={
        "idempotency_key": uuid.uuid4().hex, "document": {
            "schema": "regie.inventory/v1", "collected_at": c.clock.now.isoformat(),
            "host": {"hostname": host},
            "hardware": {"dmi": {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R730"}},
            "observations": [{"source": "os-release",
                              "raw": {"ID": distro, "VERSION_ID": version}}],
            "packages": [{"manager": "dpkg", "name": "openssl", "version": installed,
                          "architecture": "amd64"}],
            "updates": [{"manager": "apt", "package": "openssl", "architecture": "amd64",
                         "current_version": OPENSSL_OLD, "version": OPENSSL_NEW,
                         "origin": "Debian-Security:12/stable-security", "security": True,
                         "advisories": []}] if offered else [],
            "errors": []}})


async def change(c, summary: str, hosts: list[str], start: datetime, **fields) -> int:
    """An emergency change, submitted (it may start before approval)."""
    body = await c.call("POST", "/api/v1/changes", expect=201, body={
        "type": "emergency", "summary": summary, "hosts": hosts,
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(), "timezone": "UTC",
        **fields})
    await c.call("POST", f"/api/v1/changes/{body['id']}/submit", expect=200, body={})
    return body["id"]


def import_registry(db: str, tmp_path: Path) -> None:
    models = tmp_path / "models.csv"
    models.write_text("vendor,model,end_of_sale,end_of_support\n"
                      "Dell Inc.,PowerEdge R730,2019-05-01,2026-11-30\n")
    contracts = tmp_path / "contracts.yml"
    contracts.write_text(
        "- {asset: old-01, vendor: Dell, number: C-17, end_date: 2026-11-15, owner: ops}\n"
        "- {asset: web-01, vendor: Dell, number: C-18, end_date: 2026-12-20, renewal: renewed}\n"
        "- {asset: app-01, vendor: Dell, number: C-19, end_date: 2027-06-30}\n")
    regie("registry", "import", "hardware", str(models), "--db", db)
    regie("registry", "import", "contracts", str(contracts), "--db", db)


# -- the same figures, computed here ------------------------------------------------------------

def moment(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def raw(db: str, sql: str) -> list[tuple]:
    from sqlalchemy import text

    async def work(engine):
        async with engine.connect() as connection:
            return [tuple(r) for r in (await connection.execute(text(sql))).all()]

    return asyncio.run(_in_process(db, work))


def expected_signals(db: str) -> dict[str, float]:
    """rule -> number, by plain SQL and Python over the tables."""
    rows = raw(db, "SELECT priority, component, source, created_at, acknowledged_at, "
                   "resolved_at FROM tickets WHERE parent_id IS NULL")
    tickets = [(p, c, s, moment(a), moment(b), moment(r)) for p, c, s, a, b, r in rows]
    now = [t for t in tickets if Q3_START <= t[3] < Q3_END]
    before = [t for t in tickets if Q2_START <= t[3] < Q3_START]
    out: dict[str, float] = {}
    for priority in ("P1", "P2"):
        counts = Counter(t[1] for t in now if t[0] == priority)
        total = sum(counts.values())
        top = max((n for c, n in counts.items() if c), default=0)
        if total >= 10 and top / total >= 0.30:
            out[f"repeat_{priority.lower()}"] = round(top / total * 100)
    for which, index in (("mtta", 4), ("mttr", 5)):
        for priority in ("P1", "P2", "P3", "P4"):
            a = [(t[index] - t[3]).total_seconds() for t in before
                 if t[0] == priority and t[index]]
            b = [(t[index] - t[3]).total_seconds() for t in now if t[0] == priority and t[index]]
            if len(a) >= 5 and len(b) >= 5 and abs(mean(b) - mean(a)) / mean(a) >= 0.10:
                out[f"{which}_{priority.lower()}"] = round((mean(b) - mean(a)) / mean(a) * 100)
    out["volume"] = len(now)
    events = raw(db, "SELECT ticket_id, kind, at, data FROM ticket_events WHERE kind IN "
                     "('escalated', 'acknowledgement_expired')")
    inside = [(t, k, d if isinstance(d, dict) else json.loads(d)) for t, k, a, d in events
              if Q3_START <= moment(a) < Q3_END]
    manager = {t for t, k, d in inside if k == "escalated" and "escalation_manager" in (
        d.get("role"), d.get("target"))}
    expired = sum(1 for _, k, _ in inside if k == "acknowledgement_expired")
    dead = sum(1 for (f,) in raw(db, "SELECT finished_at FROM notifications "
                                     "WHERE status = 'dead'")
               if Q3_START <= moment(f) < Q3_END)
    for rule, number in (("escalation_manager", len(manager)), ("expired_acks", expired),
                         ("dead_letters", dead)):
        if number:
            out[rule] = number
    # End of support: the date that applies (security, then extended support) per cycle.
    past, near = set(), set()
    for host, cycle, eol, eoes, rule, ceol, ceoes in raw(
            db, "SELECT host, cycle, eol_date, eoes_date, rule, covered_eol_date, "
                "covered_eoes_date FROM host_software"):
        if cycle is None:
            continue
        if rule == "distro" or (rule == "distro-limited" and ceol is not None):
            eol, eoes = ceol, ceoes
        eol, eoes = day(eol), day(eoes)
        if eol is None:
            continue
        applies = eol if (eol > AS_OF or eoes is None) else eoes
        if applies <= AS_OF:
            past.add(host)
        elif applies <= date(2027, 5, 30):            # 8 months after 2026-09-30
            near.add(host)
    if past:
        out["eos_past"] = len(past)
    if near - past:
        out["eos_near"] = len(near)
    # Patch lag: installed - planned start, per patched host of the patch changes of the period.
    lags = []
    change_hosts = raw(db, "SELECT change_id, host FROM change_hosts")
    for change_id, start, packages in raw(db, "SELECT id, planned_start, packages FROM changes "
                                              "WHERE packages IS NOT NULL"):
        listed = json.loads(packages) if isinstance(packages, str) else packages
        names = [p["name"] for p in listed or []]      # JSON null: no packages
        if not names or not Q3_START <= moment(start) < Q3_END:
            continue
        for host in (h for i, h in change_hosts if i == change_id):
            installed = [moment(i) for h, p, i in raw(
                db, "SELECT host, package, installed_at FROM package_updates "
                    "WHERE installed_at IS NOT NULL") if h == host and p in names]
            if installed:
                lags.append((max(installed) - moment(start)).total_seconds())
    if lags:
        out["patch_lag"] = round(mean(lags) / 86400, 1)
    # Vendor cases waiting for 30 days or more at the report date.
    aging = [o for o, s in raw(db, "SELECT opened_at, status FROM vendor_cases")
             if s in ("open", "waiting_on_vendor", "waiting_on_us")
             and (AS_OF - moment(o).date()).days >= 30]
    if aging:
        out["vendor_cases"] = len(aging)
    # Failed or rolled-back changes of the period with tickets on their hosts in their window
    # or the 24 h after it.
    harmful = 0
    for change_id, start, end, a_start, a_end in raw(
            db, "SELECT id, planned_start, planned_end, actual_start, actual_end FROM changes "
                "WHERE outcome IN ('failed', 'rolled_back')"):
        since = moment(a_start) or moment(start)
        until = (moment(a_end) or moment(end)) + timedelta(hours=24)
        if not Q3_START <= since < Q3_END:
            continue
        hosts = {h for i, h in change_hosts if i == change_id}
        if any(h in hosts and since <= moment(c) < until for h, c in raw(
                db, "SELECT host, created_at FROM tickets WHERE parent_id IS NULL")):
            harmful += 1
    if harmful:
        out["changes_incidents"] = harmful
    hardware = raw(db, "SELECT a.name FROM assets a JOIN hardware_models m ON "
                       "lower(a.vendor) = lower(m.vendor) AND lower(a.model) = lower(m.model) "
                       "WHERE m.end_of_support <= '2026-12-31'")
    if hardware:
        out["hardware_eol"] = len({h for (h,) in hardware})
    contracts = raw(db, "SELECT number FROM contracts WHERE end_date <= '2026-12-31' "
                        "AND renewal != 'renewed'")
    if contracts:
        out["contract_renewals"] = len(contracts)
    return out


@pytest.mark.timeout(300)
def test_the_governance_review_agrees_with_plain_sql(oncall, tmp_path):
    db, clock = oncall.db, oncall.clock

    async def main():
        async with oncall.running() as c:
            await make_history(c, clock, oncall.receiver)
            clock.now = AFTER
            return (await c.call("GET", "/api/v1/reports/governance?quarter=2026Q3",
                                 role="viewer"),
                    await c.call("GET", "/api/v1/reports/governance?quarter=2027Q1",
                                 role="viewer"),
                    await c.call("GET", "/api/v1/reports/governance?from=2026-09-01&to="
                                        "2026-08-01", role="viewer"),
                    await c.call("GET", "/api/v1/reports/governance", role=""))

    import_registry(db, tmp_path)
    api, future, backwards, anonymous = asyncio.run(main())
    out = tmp_path / "q3.json"
    printed = regie("report", "governance", "--quarter", "2026Q3", "--format", "json",
                    "--out", str(out), "--db", db).stdout
    assert f"written to {out}" in printed
    body = json.loads(out.read_text())
    got = {s["rule"]: s["number"] for s in body["signals"]}
    expected = expected_signals(db)
    assert got == expected
    # The history says what it was made to say; the comparison above is not vacuous.
    assert expected["repeat_p2"] == 42 and "repeat_p1" not in expected   # 7 P1s: too few
    assert expected["mtta_p1"] > 0 and expected["escalation_manager"] == 1
    assert expected["expired_acks"] == 1 and expected["dead_letters"] == 1
    assert expected["eos_past"] == 1 and expected["hardware_eol"] == 3
    assert expected["contract_renewals"] == 1
    sentences = {s["rule"]: s["sentence"] for s in body["signals"]}
    assert sentences["repeat_p2"].startswith("42% of P2 incidents (5 of 12) concern storage")
    assert "debian 10: 1" in sentences["eos_past"]
    weights = [s["weight"] for s in body["signals"]]
    assert weights == sorted(weights, reverse=True)
    assert body["pareto_p2"][0] == {"component": "storage", "tickets": 5, "share": 0.4167,
                                    "cumulative": 0.4167}
    assert expected["patch_lag"] == 3.0 and expected["vendor_cases"] == 1
    assert expected["changes_incidents"] == 1
    assert body["patch_lag"] == {"changes": 1, "hosts_applied": 1, "mean_days": 3.0}
    assert [c["incidents"] for c in body["changes_with_incidents"]] == [1]
    # The API answers the same report (made at a later instant).
    api.pop("generated_at"), body.pop("generated_at")
    assert api == body
    assert future == {"error": future["error"]} and "quarter: 2027Q1 starts on 2027-01-01, " \
        "in the future" in future["error"]
    assert "from: from (2026-09-01) is after to (2026-08-01)" in backwards["error"]
    assert "error" in anonymous


def test_cli_refusals_and_an_empty_quarter(sqlite_db, tmp_path):
    out = tmp_path / "r.html"
    for args, reason in (
            (["--quarter", "2031Q1"], "2031Q1 starts on 2031-01-01, in the future"),
            (["--from", "2026-09-01", "--to", "2026-08-01"],
             "from (2026-09-01) is after to (2026-08-01)"),
            (["--from", "2026-09-01"], "from and to go together")):
        result = regie("report", "governance", *args, "--out", str(out), "--db", sqlite_db,
                       check=False)
        assert result.returncode == 2 and reason in result.stderr, result
        assert len(result.stderr.strip().splitlines()) == 1
        assert not out.exists()
    bad = regie("report", "governance", "--from", "2026-13-01", "--to", "2026-12-01",
                "--out", str(out), "--db", sqlite_db, check=False)
    assert bad.returncode == 2 and "'2026-13-01' is not a date" in bad.stderr
    missing = regie("report", "governance", "--quarter", "2026Q3", "--out", str(out),
                    "--db", f"sqlite:///{tmp_path / 'nothing.db'}", check=False)
    assert missing.returncode == 2 and not (tmp_path / "nothing.db").exists()
    unwritable = regie("report", "governance", "--quarter", "2026Q3", "--out",
                       str(tmp_path / "no" / "such" / "dir.html"), "--db", sqlite_db,
                       check=False)
    assert unwritable.returncode == 1 and "cannot write" in unwritable.stderr
    # An empty quarter: a report with no signal, each section saying it has nothing.
    regie("report", "governance", "--quarter", "2026Q3", "--format", "json", "--out",
          str(out), "--db", sqlite_db)
    body = json.loads(out.read_text())
    assert body["signals"] == [] and body["tickets"]["total"] == 0


@pytest.mark.timeout(180)
def test_the_html_in_a_real_browser_and_the_pdf_through_pdftoppm(sqlite_db, tmp_path):
    from tests.collector.browser import chromium

    oncall = OnCall(db=sqlite_db, tmp_path=tmp_path, tokens=create_tokens(sqlite_db))

    async def history():
        async with oncall.running() as c:
            await make_history(c, oncall.clock, oncall.receiver)

    asyncio.run(history())
    import_registry(sqlite_db, tmp_path)
    page_file = tmp_path / "governance-2026Q3.html"
    regie("report", "governance", "--quarter", "2026Q3", "--out", str(page_file),
          "--db", sqlite_db)
    html = page_file.read_text()
    # Nothing to fetch: no URL but the SVG namespace declarations, no script.
    bare = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", html)
    assert "http://" not in bare and "https://" not in bare and "<script" not in html

    async def browse():
        async with chromium() as page:
            await page.watch()
            await page.viewport(1100, 1400)
            await page.goto(page_file.as_uri())
            charts = await page.evaluate("""JSON.stringify([...document.querySelectorAll(
                'figure[data-chart]')].map(f => {const svg = f.querySelector('svg');
                const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                return [f.dataset.chart, f.getAttribute('aria-label'),
                        svg ? svg.textContent : '', box.width, box.height,
                        svg ? svg.querySelectorAll('path').length : 0];}))""")
            signals = await page.evaluate(
                "JSON.stringify([...document.querySelectorAll('ol.signals li')]"
                ".map(l => l.dataset.rule))")
            shot = await page.screenshot(tmp_path / "governance-2026Q3.png")
            return page.requests, page.console_errors, json.loads(charts), json.loads(signals), \
                shot

    requests, errors, charts, signals, shot = asyncio.run(browse())
    assert errors == []
    assert requests == [page_file.as_uri()], requests
    names = [c[0] for c in charts]
    # Three on the summary page, every chart again in the details.
    assert names == ["eos-timeline", "p2-pareto", "response-times", "eos-timeline",
                     "p2-pareto", "response-times", "weekly-volume"]
    for name, title, text, width, height, paths in charts:
        assert title and title in text, (name, title)
        assert width > 300 and height > 100 and paths > 5, (name, width, height, paths)
    assert "42% of P2 incidents concern storage" in [c[1] for c in charts]
    assert signals[0] == "eos_past" and "repeat_p2" in signals
    assert shot.stat().st_size > 10_000, f"screenshot {shot}"

    # The PDF: the same page printed by Chromium, read back with poppler's tools.
    pdf = tmp_path / "governance-2026Q3.pdf"
    regie("report", "governance", "--quarter", "2026Q3", "--format", "pdf", "--out", str(pdf),
          "--db", sqlite_db)
    pages = int(re.search(r"^Pages:\s+(\d+)$", tool("pdfinfo", str(pdf)), re.M)[1])
    tool("pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages and pages >= 2, (pages, images)
    assert all(image.stat().st_size > 2_000 for image in images)
    text = [tool("pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-")
            for n in range(1, pages + 1)]
    titles = dict((c[0], c[1]) for c in charts)
    # Page 1 is the summary: the title, every signal, the three key charts.
    assert "Governance review 2026Q3" in text[0] and "42% of P2 incidents" in text[0]
    for name in ("eos-timeline", "p2-pareto", "response-times"):
        assert titles[name] in text[0], name
    assert titles["weekly-volume"] not in text[0]
    # The details start on a page of their own, every chart again after it.
    details = next(n for n, page in enumerate(text) if "Charts" in page.split())
    assert details >= 1
    rest = "".join(text[details:])
    assert all(title in rest for title in titles.values())


def tool(*argv: str) -> str:
    import subprocess

    from tests.services import require_binary

    require_binary(argv[0])
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout
