"""`regie report health` on SQLite and PostgreSQL: a month made through the public API with
an injected clock (a host-down alert from Alertmanager's webhook resolved two hours later,
Events API and user tickets, inventory pushes with end of support and a pending security
update), the report read back as JSON and compared with plain SQL over the same tables; the
capacity section without a Prometheus and with one that does not answer (the report is still
written, the section says why); refusals. Only time is fake (oncall_harness's Clock)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.collector.conftest import regie
from tests.collector.oncall_harness import Clock
from tests.collector.reports.test_governance import moment, raw, tool
from tests.services import free_port

NOV = datetime(2026, 11, 2, 10, tzinfo=UTC)


def alert(host: str, status: str, at: datetime) -> dict:
    labels = {"alertname": "RegieAgentDown", "host": host, "instance": f"{host}:9847",
              "severity": "critical"}
    return {"receiver": "regie", "status": status, "version": "4", "groupKey": "{}",
            "truncatedAlerts": 0, "groupLabels": {}, "commonLabels": labels,
            "commonAnnotations": {}, "externalURL": "http://am:9093",
            "alerts": [{"status": status, "labels": labels,
                        "annotations": {"summary": f"{host} does not answer"},
                        "startsAt": NOV.isoformat(),
                        "endsAt": at.isoformat() if status == "resolved"
                        else "0001-01-01T00:00:00Z",
                        "generatorURL": "http://prometheus:9090/graph",
                        "fingerprint": f"{abs(hash(host)) % 10**16:016x}"}]}


async def month(c, clock: Clock) -> None:
    clock.now = NOV - timedelta(days=10)      # October: not this month's
    await c.call("POST", "/api/v1/tickets", expect=201, body={
        "summary": "slow", "host": "web-01", "impact": "low", "urgency": "low"})
    clock.now = NOV
    await c.call("POST", "/api/v1/inventory", role="agent", expect=202, body={
        "idempotency_key": uuid.uuid4().hex, "document": {
            "schema": "regie.inventory/v1", "collected_at": NOV.isoformat(),
            "host": {"hostname": "web-01"},
            "observations": [{"source": "os-release", "raw": {"ID": "debian",
                                                              "VERSION_ID": "10"}}],
            "packages": [{"manager": "dpkg", "name": "openssl", "version": "1.1.1n-0+deb10u5",
                          "architecture": "amd64"}],
            "updates": [{"manager": "apt", "package": "openssl", "architecture": "amd64",
                         "current_version": "1.1.1n-0+deb10u5", "version": "1.1.1n-0+deb10u6",
                         "origin": "Debian-Security:10/oldoldstable", "security": True,
                         "advisories": []}], "errors": []}})
    await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200,
                 body=alert("web-01", "firing", NOV))
    clock.advance(hours=2)
    await c.call("POST", "/api/v1/alertmanager", role="ingest", expect=200,
                 body=alert("web-01", "resolved", clock.now))
    clock.advance(days=3)
    await c.call("POST", "/api/v1/events", role="", expect=202, body={
        "routing_key": c.tokens["ingest"], "event_action": "trigger", "dedup_key": "w2/disk",
        "payload": {"summary": "disk", "source": "web-02", "severity": "critical",
                    "component": "disk"}})
    await c.call("POST", "/api/v1/tickets", expect=201, body={
        "summary": "portal down", "host": "web-02", "impact": "business-critical",
        "urgency": "high"})
    await c.call("POST", "/api/v1/tickets", expect=201, body={
        "summary": "db slow", "host": "db-01", "impact": "low", "urgency": "low"})


@pytest.mark.timeout(180)
def test_the_health_report_agrees_with_plain_sql(oncall, tmp_path):
    db, clock = oncall.db, oncall.clock

    async def main():
        async with oncall.running() as c:
            await month(c, clock)

    asyncio.run(main())
    out = tmp_path / "health.json"
    done = regie("report", "health", "--period", "2026-11", "--host", "web-*", "--format",
                 "json", "--out", str(out), "--db", db)
    assert "health report 2026-11 (2 systems)" in done.stdout
    assert "capacity is missing: no Prometheus given" in done.stderr
    body = json.loads(out.read_text())
    systems = {s["host"]: s for s in body["systems"]}
    assert sorted(systems) == ["web-01", "web-02"]          # db-01 does not match the glob
    # The same from the tables.
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    rows = [(h, p, d in (1, True), moment(c), moment(r)) for h, p, d, c, r in raw(
        db, "SELECT host, priority, host_down, created_at, resolved_at FROM tickets "
            "WHERE parent_id IS NULL")]
    for host, found in systems.items():
        down = sum(((r or end) - c).total_seconds() for h, _, d, c, r in rows
                   if h == host and d and start <= c < end)
        assert found["down_seconds"] == round(down)
        assert found["availability"] == round(1 - down / (30 * 86400), 5)
        incidents = {p: sum(1 for h, q, _, c, _ in rows if h == host and q == p
                            and start <= c < end) for p in ("P1", "P2", "P3", "P4")}
        assert found["incidents"] == incidents
    assert systems["web-01"]["down_seconds"] == 7200               # not vacuous
    assert sum(systems["web-02"]["incidents"].values()) == 2
    assert systems["web-01"]["security_updates"] == 1
    assert systems["web-02"]["security_updates"] == 0
    assert {(e["what"], e["status"]) for e in systems["web-01"]["end_of_support"]} >= {
        ("debian", "past")}
    assert body["capacity"] == {"available": False,
                                "reason": "no Prometheus given (--prometheus URL)"}
    # A Prometheus that does not answer: the report is still written, the section says why.
    html = tmp_path / "health.html"
    nobody = f"http://127.0.0.1:{free_port()}"
    done = regie("report", "health", "--period", "2026-11", "--prometheus", nobody, "--out",
                 str(html), "--db", db)
    assert f"capacity is missing: Prometheus at {nobody} could not be asked" in done.stderr
    page = html.read_text()
    assert "Capacity is missing: Prometheus at" in page and "web-01" in page
    assert "<script" not in page
    # The PDF: the same page printed by Chromium, read back with poppler's tools.
    pdf = tmp_path / "health.pdf"
    done = regie("report", "health", "--period", "2026-11", "--format", "pdf", "--out",
                 str(pdf), "--db", db)
    assert f"health report 2026-11 ({len(body['systems']) + 1} systems) written to {pdf}" \
        in done.stdout                                   # db-01 too: no --host here
    pages = int(re.search(r"^Pages:\s+(\d+)$", tool("pdfinfo", str(pdf)), re.M)[1])
    tool("pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages >= 1 and all(i.stat().st_size > 2_000 for i in images)
    text = tool("pdftotext", "-layout", str(pdf), "-")
    assert "Health report 2026-11" in text and "Capacity is missing: no Prometheus" in text
    for host in ("db-01", "web-01", "web-02"):
        line = next(line for line in text.splitlines() if line.split()[:1] == [host])
        assert f"{systems[host]['availability'] * 100:.3f}%" in line if host in systems \
            else "%" in line, (host, line)


def test_health_refusals(sqlite_db, tmp_path):
    out = tmp_path / "h.html"
    for args, reason in ((["--period", "2031-01"], "--period: 2031-01 is in the future"),
                         (["--period", "2026-13"], "--period: '2026-13' is not a month")):
        result = regie("report", "health", *args, "--out", str(out), "--db", sqlite_db,
                       check=False)
        assert result.returncode == 2 and reason in result.stderr, result
        assert not out.exists()
    result = regie("report", "health", "--period", "2026-11", "--prometheus", "file:///etc",
                   "--format", "json", "--out", str(out), "--db", sqlite_db)
    assert "is not an http:// or https:// URL" in json.loads(out.read_text())[
        "capacity"]["reason"]
    # URLs that only fail inside urllib (ValueError, InvalidURL) stopped the report with a
    # traceback: the capacity section says why instead, as for any Prometheus not reached.
    for url, reason in (("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
                        ("http://a b", "must not hold spaces or control characters")):
        result = regie("report", "health", "--period", "2026-11", "--prometheus", url,
                       "--format", "json", "--out", str(out), "--db", sqlite_db, check=False)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result
        assert f"the Prometheus URL {reason}" in json.loads(out.read_text())["capacity"][
            "reason"], url


@pytest.mark.timeout(120)
def test_capacity_from_a_real_prometheus_scraping_a_real_agent(sqlite_db, tmp_path):
    """A real agent scraped every second by a real Prometheus that labels it `host: web-01`
    (as deploy/prometheus/prometheus.yml labels every agent); the report's memory and CPU
    figures lie within the raw samples Prometheus holds, its filesystems are the agent's."""
    import urllib.parse

    from tests.agent.conftest import agent_process
    from tests.collector.conftest import collector_process
    from tests.services import http_get, require_binary, running, wait_for

    def query(url: str, promql: str) -> list[dict]:
        answer = json.loads(http_get(f"{url}/api/v1/query?"
                                     + urllib.parse.urlencode({"query": promql})))
        return answer["data"]["result"]

    with agent_process(tmp_path) as agent, collector_process(tmp_path, sqlite_db) as service:
        status, body = service.call("POST", "/api/v1/tickets", {
            "summary": "slow", "host": "web-01"}, token="responder")
        assert status == 201, body
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: regie\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{agent.port}']\n"
            "        labels: {host: web-01}\n")
        argv = [require_binary("prometheus"), f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}"]
        with running(argv, log=tmp_path / "prometheus.log",
                     ready=lambda: http_get(f"{url}/-/ready")):
            wait_for(lambda: len(query(url, 'regie_cpu_utilisation_ratio{host="web-01"}[1h]'))
                     and len(query(url, 'regie_cpu_utilisation_ratio{host="web-01"}[1h]')[0]
                             ["values"]) >= 3,
                     timeout=60, what="three CPU samples of web-01 in Prometheus")
            out = tmp_path / "health.json"
            period = datetime.now(UTC).strftime("%Y-%m")
            done = regie("report", "health", "--period", period, "--host", "web-01",
                         "--prometheus", url, "--format", "json", "--out", str(out),
                         "--db", sqlite_db)
            assert "capacity is missing" not in done.stderr
            capacity = json.loads(out.read_text())["capacity"]
            memory = query(url, 'regie_memory_used_ratio{host="web-01"}[1h]')
            cpu = query(url, 'regie_cpu_utilisation_ratio{host="web-01"}[1h]')
            mounts = {s["metric"]["mountpoint"] for s in query(
                url, 'regie_filesystem_used_ratio{host="web-01"}')}
    assert capacity["available"] is True
    found = capacity["hosts"]["web-01"]
    values = [float(v) for _, v in memory[0]["values"]]
    assert min(values) - 1e-3 <= found["memory_used_p95"] <= max(values) + 1e-3
    values = [float(v) for _, v in cpu[0]["values"]]
    assert min(values) - 1e-3 <= found["cpu_utilisation_p95"] <= max(values) + 1e-3
    assert set(found["filesystems"]) == mounts and mounts
    assert all(0 <= f["used_ratio"] <= 1 for f in found["filesystems"].values())


def push(host: str, labels: dict | None, at: datetime) -> dict:
    """An inventory push as an agent makes it, announcing its scrape target with `labels`
    (the agent's `[push] labels`); None: an older agent that announces none."""
    document = {"schema": "regie.inventory/v1", "collected_at": at.isoformat(),
                "host": {"hostname": host}, "observations": [], "packages": [],
                "updates": [], "errors": []}
    if labels is not None:
        document["scrape"] = {"address": f"{host}.example.net:9847", "scheme": "http",
                              "labels": labels}
    return {"idempotency_key": uuid.uuid4().hex, "document": document}


@pytest.mark.timeout(180)
def test_health_report_for_a_group_of_hosts_by_their_pushed_label(oncall, tmp_path):
    """`--group role=web`: the hosts whose latest push carries that label, whatever their
    names; a host whose later push dropped the label is out; a bad form or a value no host
    pushes: exit 2 naming --group, nothing written."""
    db, clock = oncall.db, oncall.clock

    async def main():
        async with oncall.running() as c:
            clock.now = NOV
            for host, labels in (("alpha", {"role": "web", "site": "ams"}),
                                 ("bravo", {"role": "web"}),
                                 ("charlie", {"role": "db"}),
                                 ("delta", None),
                                 ("echo", {"role": "web"})):
                await c.call("POST", "/api/v1/inventory", role="agent", expect=202,
                             body=push(host, labels, clock.now))
            clock.advance(hours=1)   # echo's agent no longer says role=web
            await c.call("POST", "/api/v1/inventory", role="agent", expect=202,
                         body=push("echo", {"role": "batch"}, clock.now))
            await c.call("POST", "/api/v1/tickets", expect=201, body={
                "summary": "portal down", "host": "bravo", "impact": "business-critical",
                "urgency": "high"})
            await c.call("POST", "/api/v1/tickets", expect=201, body={
                "summary": "db slow", "host": "charlie", "impact": "low",
                "urgency": "low"})
            base = "/api/v1/reports/health?period=2026-11"
            answers["group"] = await c.call("GET", base + "&group=role%3Dweb",
                                            role="viewer", expect=200)
            answers["host"] = await c.call("GET", base + "&host=%5Bab%5D*",
                                           role="viewer", expect=200)
            for query, reason in (
                    ("period=2026-11&group=role", "group: 'role' is not LABEL=VALUE"),
                    ("period=2026-11&group=role%3Dmail",
                     "group: no host pushes the label role=mail"),
                    ("period=2026-11&group=role%3Dweb&host=a*", "group: not with host"),
                    ("period=2031-01", "period: 2031-01 is in the future"),
                    ("period=2026-13", "period: ")):
                refused = await c.call("GET", "/api/v1/reports/health?" + query,
                                       role="viewer", expect=400)
                assert reason in json.dumps(refused), (query, refused)
            await c.call("GET", base, role="", expect=401)

    answers: dict[str, dict] = {}
    asyncio.run(main())
    out = tmp_path / "web.json"
    done = regie("report", "health", "--period", "2026-11", "--group", "role=web",
                 "--format", "json", "--out", str(out), "--db", db, "--today", "2026-11-02")
    assert "health report 2026-11 (2 systems)" in done.stdout
    body = json.loads(out.read_text())
    assert body["group"] == "role=web" and body["host"] is None
    # The same from the pushes' documents, read in plain Python.
    latest: dict[str, dict] = {}
    for _, host, document in sorted(raw(db, "SELECT id, host, document FROM inventory_pushes")):
        latest[host] = json.loads(document) if isinstance(document, str) else document
    expected = sorted(h for h, d in latest.items()
                      if (d.get("scrape") or {}).get("labels", {}).get("role") == "web")
    assert expected == ["alpha", "bravo"]                            # not vacuous
    assert [s["host"] for s in body["systems"]] == expected
    assert {s["host"]: sum(s["incidents"].values()) for s in body["systems"]} == {
        "alpha": 0, "bravo": 1}
    # The API's answer is the CLI's JSON (but the moment each was made).
    assert {**answers["group"], "generated_at": None} == {**body, "generated_at": None}
    glob = tmp_path / "glob.json"
    regie("report", "health", "--period", "2026-11", "--host", "[ab]*", "--format", "json",
          "--out", str(glob), "--db", db, "--today", "2026-11-02")
    assert {**answers["host"], "generated_at": None} == {
        **json.loads(glob.read_text()), "generated_at": None}
    assert [s["host"] for s in answers["host"]["systems"]] == ["alpha", "bravo"]
    html = tmp_path / "site.html"
    regie("report", "health", "--period", "2026-11", "--group", "site=ams", "--out",
          str(html), "--db", db)
    page = html.read_text()
    assert "pushes the label site=ams" in page and "alpha" in page and "bravo" not in page
    for group, reason in (("role", "--group: 'role' is not LABEL=VALUE"),
                          ("=web", "--group: '=web' is not LABEL=VALUE"),
                          ("role=mail", "--group: no host pushes the label role=mail "
                                        "(values of role: batch, db, web)")):
        missing = tmp_path / "missing.json"
        result = regie("report", "health", "--period", "2026-11", "--group", group,
                       "--format", "json", "--out", str(missing), "--db", db, check=False)
        assert result.returncode == 2 and reason in result.stderr, result
        assert not missing.exists()
    result = regie("report", "health", "--host", "a*", "--group", "role=web", "--out",
                   str(tmp_path / "x.html"), "--db", db, check=False)
    assert result.returncode == 2 and "not allowed with argument" in result.stderr
