"""The registry end to end: a real agent's push matched by a real collector, a fleet of hosts,
sync from a directory and from an HTTP mirror, reports through the CLI and the API, the
priority input and /metrics. On SQLite and PostgreSQL (the shared collector fixture)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from tests.collector.conftest import _in_process, collector_process, regie
from tests.services import free_port, http_ok, require_binary, running, wait_for

EOL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "eol-data"
TODAY = date(2026, 11, 29)


def dpkg_observations() -> list[dict]:
    """This machine's package list, read with dpkg-query (not through the agent)."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"],
                         capture_output=True, text=True, check=True).stdout
    return [{"source": "dpkg", "raw": {"package": name, "version": version}}
            for name, version in (line.split("\t") for line in out.splitlines() if line)
            if version]


def os_release() -> dict:
    fields = {}
    for line in Path("/etc/os-release").read_text().splitlines():
        key, _, value = line.partition("=")
        if key:
            fields[key] = value.strip('"')
    return fields


def expected_cycles(observations: list[dict]) -> set[tuple[str, str | None]]:
    from registry.end_of_support import load_default
    from registry.matching import Matcher

    matcher = Matcher(load_default())
    found = set()
    for item in observations:
        match = matcher.match(item["source"], item["raw"])
        if match is not None:
            found.add((match.product, match.cycle))
    return found


def host_software(db: str, host: str):
    async def work(engine):
        from collector.store.registry import RegistryStore

        return await RegistryStore(engine).software(host=host)

    return asyncio.run(_in_process(db, work))


@pytest.mark.timeout(300)  # a real agent's push: 30-60 s (default: 120 s)
def test_a_real_agent_push_is_matched_by_the_collector(collector, tmp_path):
    """The agent (its own process) pushes its real inventory; the collector matches it in
    the push's transaction. The result equals matching this machine's os-release, kernel and
    dpkg-query list directly."""
    require_binary("dpkg-query")
    token = tmp_path / "agent.token"
    token.write_text(collector.tokens["agent"] + "\n")
    (tmp_path / "agent.toml").write_text(f'[push]\nspool_dir = "{tmp_path / "spool"}"\n')
    port = free_port()
    argv = [sys.executable, "-m", "regie", "agent", "run", "--config",
            str(tmp_path / "agent.toml"), "--listen", f"127.0.0.1:{port}",
            "--collector", collector.url, "--token-file", str(token)]
    host = socket.gethostname()
    with running(argv, log=tmp_path / "agent.log", ready=lambda: http_ok(
            f"http://127.0.0.1:{port}/healthz"), what="regie agent"):
        rows = wait_for(lambda: host_software(collector.db, host) or None, timeout=60,
                        what="the agent's push, matched")
    found = {(r.product, r.cycle) for r in rows}
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True,
                            check=True).stdout.strip()
    expected = expected_cycles([{"source": "os-release", "raw": os_release()},
                                {"source": "kernel", "raw": {"release": kernel}},
                                *dpkg_observations()])
    assert found == expected
    distro = os_release()
    assert (distro["ID"], distro["VERSION_ID"]) in found    # e.g. ("debian", "12")
    status, report = collector.call("GET", f"/api/v1/registry/eos?within=100y&host={host}",
                                    token="viewer")
    assert status == 200
    listed = {(i["what"], i["version"]) for i in report["items"]}
    assert listed <= found and (distro["ID"], distro["VERSION_ID"]) in listed


FLEET = {
    # host: (os-release ID, VERSION_ID, extra packages)
    "web-01": ("debian", "12", [("nginx", "1.22.1-9")]),
    "web-02": ("debian", "12", [("nginx", "1.22.1-9")]),
    "db-old": ("debian", "10", [("postgresql-11", "11.22-0+deb10u1")]),
    "app-01": ("ubuntu", "22.04", [("php8.1-fpm", "8.1.2-1ubuntu2.14")]),
    "edge-01": ("ubuntu", "24.04", []),
}


def push_fleet(collector) -> None:
    packages = dpkg_observations()[:300]
    for host, (distro, version, extra) in FLEET.items():
        document = {
            "schema": "regie.inventory/v1", "host": {"hostname": host},
            "hardware": {"dmi": {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R730"}},
            "observations": [
                {"source": "os-release", "raw": {"ID": distro, "VERSION_ID": version}},
                *({"source": "dpkg", "raw": {"package": n, "version": v}} for n, v in extra),
                *packages],
        }
        status, body = collector.call("POST", "/api/v1/inventory", {
            "idempotency_key": f"{host}-{uuid.uuid4().hex}", "document": document},
            token="agent")
        assert status == 202, body


def test_a_fleet_answers_the_governance_question(collector, tmp_path):
    push_fleet(collector)
    models = tmp_path / "models.csv"
    models.write_text("vendor,model,end_of_sale,end_of_support\n"
                      "Dell Inc.,PowerEdge R730,2019-05-01,2027-05-31\n")
    contracts = tmp_path / "contracts.yml"
    contracts.write_text("- {asset: db-old, vendor: Dell, number: C-17, end_date: 2027-01-15,"
                         " owner: ops}\n"
                         "- {asset: web-01, vendor: Dell, number: C-18, end_date: 2027-01-20,"
                         " renewal: renewed}\n")
    db = collector.db
    assert "imported 1 hardware" in regie("registry", "import", "hardware", str(models),
                                          "--db", db).stdout
    assert "imported 2 contracts" in regie("registry", "import", "contracts", str(contracts),
                                           "--db", db).stdout
    out = regie("registry", "eos", "--within", "8m", "--today", TODAY.isoformat(),
                "--db", db).stdout.splitlines()
    # Past: debian 10 on db-old, and its postgresql 11 package, covered by Debian 10 (LTS to
    # 2024-06-30). Near: ubuntu 22.04 and its php 8.1 package on app-01 (upstream's 8.1 ended
    # 2025: Ubuntu's support applies), every host's PowerEdge R730 (EOSL 2027-05-31).
    # Extended: debian 12 (security ended 2026-07-11, LTS to 2028) and its nginx 1.22 package
    # on web-01/02, though upstream's nginx 1.22 ended in 2023.
    assert out[0] == "4 systems reach end of support within 8m; 1 is past it"
    table = [line.split() for line in out[2:]]
    assert table[:2] == [
        ["2024-06-30", "-882", "past", "extended", "upstream", "db-old", "debian", "10", "-"],
        ["2024-06-30", "-882", "past", "extended", "distro", "db-old", "postgresql", "11",
         "2023-11-09", "supported", "by", "Debian", "10", "until", "2024-06-30,", "upstream",
         "2023-11-09"]]
    assert table[-3][:9] == ["2028-06-30", "579", "extended", "extended", "distro", "web-01",
                             "nginx", "1.22", "2023-04-11"]
    as_json = json.loads(regie("registry", "eos", "--within", "8m", "--today",
                               TODAY.isoformat(), "--json", "--db", db).stdout)
    by_host = {}
    for item in as_json["items"]:
        by_host.setdefault(item["host"], set()).add((item["what"], item["version"],
                                                     item["status"]))
    assert ("ubuntu", "22.04", "near") in by_host["app-01"]
    assert ("debian", "12", "extended") in by_host["web-01"]
    assert ("nginx", "1.22", "extended") in by_host["web-01"]         # Debian 12's support
    assert ("postgresql", "11", "past") in by_host["db-old"]
    assert ("Dell Inc. PowerEdge R730", "PowerEdge R730", "near") in by_host["edge-01"]
    grouped = regie("registry", "eos", "--within", "8m", "--today", TODAY.isoformat(),
                    "--by", "product", "--db", db).stdout
    assert "debian 12: 2 item(s), first 2028-06-30 -- web-01, web-02" in grouped
    due = regie("registry", "contracts", "--within", "90d", "--today", TODAY.isoformat(),
                "--db", db).stdout
    assert "C-17" in due and "C-18" not in due          # renewed ones left out
    # The API gives the same items.
    status, body = collector.call("GET", "/api/v1/registry/eos?within=8m&by=host",
                                  token="viewer")
    assert status == 200 and {g["host"] for g in body["groups"]} == set(FLEET)
    status, body = collector.call("GET", "/api/v1/registry/contracts?within=8m",
                                  token="viewer")
    assert [i["version"] for i in body["items"]] == ["C-17"]
    assert {k: body["items"][0][k] for k in ("contract", "vendor", "covers", "renewal")} == {
        "contract": "C-17", "vendor": "Dell", "covers": "db-old", "renewal": "pending"}
    assert collector.call("GET", "/api/v1/registry/eos?within=soon", token="viewer")[0] == 400


def test_a_host_past_end_of_support_raises_ticket_impact(collector):
    push_fleet(collector)
    report = {"summary": "backups fail", "host": "db-old", "impact": "medium",
              "urgency": "medium"}
    status, ticket = collector.call("POST", "/api/v1/tickets", report, token="responder")
    assert status == 201
    assert (ticket["impact"], ticket["priority"]) == ("high", "P2")
    _, shown = collector.call("GET", f"/api/v1/tickets/{ticket['id']}", token="viewer")
    assert any("past end of support" in r for r in shown["timeline"][0]["data"]["reasons"])
    status, other = collector.call("POST", "/api/v1/tickets", {**report, "host": "web-01"},
                                   token="responder")
    assert (other["impact"], other["priority"]) == ("medium", "P3")   # extended support left


def test_metrics_carry_end_dates_and_pass_promtool(collector, tmp_path):
    """The real collector's /metrics with data in the ticket, signal, rejection, end-of-support
    and contract families: `promtool check metrics` prints nothing and exits 0 (base units,
    no _created series). The on-call families (escalations, notifications) are covered by
    tests/collector/test_metrics.py's collector without on-call only as empty families."""
    promtool = require_binary("promtool")
    push_fleet(collector)
    contracts = tmp_path / "contracts.csv"
    contracts.write_text("asset,vendor,number,end_date\ndb-old,Dell,C-9,2027-01-15\n")
    regie("registry", "import", "contracts", str(contracts), "--db", collector.db)
    status, ticket = collector.call("POST", "/api/v1/tickets", {
        "summary": "metrics", "impact": "low", "urgency": "low"}, token="responder")
    assert status == 201
    collector.call("POST", f"/api/v1/tickets/{ticket['id']}/ack", token="responder")
    collector.call("POST", f"/api/v1/tickets/{ticket['id']}/resolve", token="responder")
    event = {"routing_key": collector.tokens["ingest"], "event_action": "trigger",
             "dedup_key": "metrics/disk", "payload": {"summary": "Disk", "source": "srv01",
                                                      "severity": "warning"}}
    assert collector.call("POST", "/api/v1/events", event, token=None)[0] == 202
    assert collector.call("POST", "/api/v1/tickets", {"summary": ""},
                          token="responder")[0] == 400
    # The registry gauges are cached for a minute: read until this test's data is in.
    text = wait_for(lambda: (lambda t: t if 'contract="C-9"' in t else None)(
        collector.call("GET", "/metrics", token="viewer")[1]), timeout=90,
        what="the contract in /metrics")
    ends = next(line for line in text.splitlines() if line.startswith(
        'regie_eos_end_timestamp_seconds{cycle="10",host="db-old"'))
    assert float(ends.rsplit(" ", 1)[1]) == 1719705600.0          # 2024-06-30 (Debian LTS)
    assert 'regie_eos_assets{kind="software",status="past"}' in text
    for family in ("regie_tickets_created_total", "regie_tickets_resolved_total",
                   "regie_ticket_time_to_acknowledge_seconds_bucket",
                   "regie_collector_signals_total", "regie_collector_rejected_requests_total",
                   "regie_contract_end_timestamp_seconds"):
        assert f"\n{family}{{" in text, family
    assert "_days_remaining" not in text and "_created" not in text.replace(
        "regie_tickets_created_total", "")
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                             text=True, check=False)
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


# -- sync ---------------------------------------------------------------------------------------


def count_products(db: str) -> tuple[int, int | None]:
    async def work(engine):
        from collector.store.registry import RegistryStore

        store = RegistryStore(engine)
        info = await store.latest_sync()
        return len(await store.catalog_documents()), info.id if info else None

    return asyncio.run(_in_process(db, work))


@pytest.fixture
def eol_mirror(tmp_path):
    """A copy of the snapshot to break, and a real HTTP server serving a directory in the
    API v1 URL layout ({base}/products/ and {base}/products/<name>/)."""
    if not EOL_DATA.is_dir():
        pytest.fail(f"{EOL_DATA} is missing: the suite reads the shared eol-data snapshot")
    copy = tmp_path / "mirror"
    shutil.copytree(EOL_DATA, copy)
    return copy


def serve_api(directory: Path):
    from aiohttp import web

    async def listing(request):
        return web.Response(body=(directory / "products.json").read_bytes(),
                            content_type="application/json")

    async def product(request):
        path = directory / "products" / f"{request.match_info['name']}.json"
        if not path.exists():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v1/products/", listing)
    app.router.add_get("/api/v1/products/{name}/", product)
    return app


@pytest.fixture
def api_server(eol_mirror):
    import threading

    from aiohttp import web

    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(serve_api(eol_mirror))

    def main():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        loop.run_forever()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/api/v1/products/"), what="mirror")
    yield f"http://127.0.0.1:{port}/api/v1", eol_mirror
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def test_sync_from_a_directory_and_a_mirror_keeps_good_data(collector_db, api_server,
                                                           eol_mirror):
    db = collector_db
    full = regie("registry", "sync", "--from", str(EOL_DATA), "--db", db)
    assert "stored 464 products" in full.stdout
    assert count_products(db) == (464, 1)
    url, mirror = api_server
    # One malformed product (of 464): skipped and counted, the rest stored.
    (mirror / "products" / "nginx.json").write_text('{"result": {"releases": "many"}}')
    synced = regie("registry", "sync", "--from", url, "--db", db)
    assert "stored 463 products" in synced.stdout and "(1 skipped)" in synced.stdout
    assert "skipped nginx" in synced.stderr
    assert "fetch: 464/464 products" in synced.stderr         # progress, in a log
    assert count_products(db) == (463, 2)
    # Half the products broken: refused, the stored data stays.
    for path in sorted((mirror / "products").glob("*.json"))[::2]:
        path.write_text("{not json")
    broken = regie("registry", "sync", "--from", url, "--db", db, check=False)
    assert broken.returncode == 1 and "the stored data is unchanged" in broken.stderr
    assert count_products(db) == (463, 2)
    gone = regie("registry", "sync", "--from", f"http://127.0.0.1:{free_port()}/api/v1",
                 "--db", db, check=False)
    assert gone.returncode == 1 and "nothing changed" in gone.stderr
    missing = regie("registry", "sync", "--from", str(mirror / "nope"), "--db", db,
                    check=False)
    assert missing.returncode == 1 and "not a directory" in missing.stderr
    assert count_products(db) == (463, 2)


def test_a_running_collector_loads_a_sync_and_rematches(tmp_path, sqlite_db):
    """Before any sync the bundled dataset answers; a sync by the CLI re-matches stored
    inventories at once, and the running collector loads the new data for later pushes."""
    from registry.end_of_support import load_default

    bundled = {p.name for p in load_default()}
    assert "tomcat" in bundled and "mediawiki" not in bundled
    config = "[registry]\nrefresh_seconds = 0.2\n"
    with collector_process(tmp_path, sqlite_db, config) as service:
        document = {"schema": "regie.inventory/v1", "host": {"hostname": "mon-01"},
                    "observations": [{"source": "dpkg", "raw": {"package": "mediawiki",
                                                                "version": "1:1.39.10-1"}}]}
        status, _ = service.call("POST", "/api/v1/inventory", {
            "idempotency_key": "k1", "document": document}, token="agent")
        assert status == 202
        assert host_software(sqlite_db, "mon-01") == []          # not in the bundled data
        observation = json.dumps(document["observations"])
        before = subprocess.run([sys.executable, "-m", "regie", "registry", "match", "--db",
                                 sqlite_db], input=observation, capture_output=True,
                                text=True, check=True, timeout=60)
        assert before.stdout == "null\n"                 # no sync yet: the bundled data
        regie("registry", "sync", "--from", str(EOL_DATA), "--db", sqlite_db)
        assert [(r.product, r.cycle) for r in host_software(sqlite_db, "mon-01")] == [
            ("mediawiki", "1.39")]
        after = subprocess.run([sys.executable, "-m", "regie", "registry", "match", "--db",
                                sqlite_db], input=observation, capture_output=True,
                               text=True, check=True, timeout=60)
        assert json.loads(after.stdout) == {"product": "mediawiki", "cycle": "1.39",
                                            "eol": "2025-12-31"}
        # The collector itself now matches with the synced data (a new push).
        rows = wait_for(lambda: _pushed_again(service, sqlite_db, document), timeout=20,
                        what="the collector matching with synced data")
        assert [(r.product, r.cycle) for r in rows] == [("mediawiki", "1.39")]


def _pushed_again(service, db: str, document: dict):
    host = f"mon-{uuid.uuid4().hex[:6]}"
    service.call("POST", "/api/v1/inventory", {
        "idempotency_key": host, "document": {**document, "host": {"hostname": host}}},
        token="agent")
    return host_software(db, host) or None
