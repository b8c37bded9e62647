"""The registry's text reports through the real CLI (each report its own columns; a status
that does not move with the horizon) and the demo's sample hardware and contracts: a fresh
`regie demo` answers `regie registry hardware` and `contracts` with data."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import date

import pytest

from collector.demo_registry import import_samples
from tests.collector.conftest import regie
from tests.services import free_port, http_ok, running, wait_for

TODAY = date(2026, 11, 29)


def columns(lines: list[str]) -> list[dict[str, str]]:
    """The table under the summary line, cut where the header's columns start (a header of
    several words, "END OF SALE", has single spaces; columns are two or more apart)."""
    header = lines[1]
    found = list(re.finditer(r"\S+(?: \S+)*", header))
    names = [m.group() for m in found]
    cuts = [m.start() for m in found] + [None]
    return [{name: line[a:b].strip() for name, a, b in zip(names, cuts, cuts[1:], strict=False)}
            for line in lines[2:]]


def test_hardware_and_contract_reports_have_their_own_columns(sqlite_db):
    """The demo's samples, imported into a fresh database, read back through the CLI."""
    counts = asyncio.run(import_samples(sqlite_db))
    assert counts == {"hardware": 4, "assets": 4, "contracts": 4}
    hardware = regie("registry", "hardware", "--within", "12m", "--today", TODAY.isoformat(),
                     "--db", sqlite_db).stdout.splitlines()
    assert hardware[1].split()[:6] == ["HOST", "VENDOR", "MODEL", "EOSL", "DAYS", "STATUS"]
    rows = {r["HOST"]: r for r in columns(hardware)}
    assert rows["db-legacy-01"] == {
        "HOST": "db-legacy-01", "VENDOR": "Dell Inc.", "MODEL": "PowerEdge R730",
        "EOSL": "2026-05-31", "DAYS": "-182", "STATUS": "past", "END OF SALE": "2019-05-01"}
    assert (rows["storage-01"]["STATUS"], rows["core-sw-01"]["STATUS"]) == ("near", "supported")
    assert "app-02" not in rows                                    # EOSL 2029: beyond 12m
    contracts = regie("registry", "contracts", "--within", "3m", "--today", TODAY.isoformat(),
                      "--db", sqlite_db).stdout.splitlines()
    assert contracts[0] == "3 contract(s) end within 3m or have ended (1 ended)"
    assert contracts[1].split() == ["CONTRACT", "VENDOR", "COVERS", "KIND", "RENEWAL", "DAYS",
                                    "STATUS", "STATE", "OWNER"]
    due = {r["CONTRACT"]: r for r in columns(contracts)}
    assert due["SNTC-2024-0142"] == {
        "CONTRACT": "SNTC-2024-0142", "VENDOR": "Cisco", "COVERS": "core-sw-01",
        "KIND": "support", "RENEWAL": "2027-01-31", "DAYS": "63", "STATUS": "near",
        "STATE": "pending", "OWNER": "network"}
    assert due["DELL-PS-5521"]["STATUS"] == "past"
    assert "HPE-CP-30311" not in due                                # renewed: left out


def eos_rows(db: str, within: str) -> dict[tuple[str, str, str], dict[str, str]]:
    out = regie("registry", "eos", "--within", within, "--today", TODAY.isoformat(),
                "--db", db).stdout.splitlines()
    assert out[1].split() == ["DATE", "DAYS", "STATUS", "SUPPORT", "RULE", "HOST", "PRODUCT",
                              "VERSION", "UPSTREAM", "NOTE"]
    return {(r["HOST"], r["PRODUCT"], r["VERSION"]): r for r in columns(out)}


@pytest.mark.timeout(300)  # a report per horizon: 25-65 s (default: 120 s)
def test_the_status_of_an_item_does_not_change_with_the_horizon(collector):
    """Debian 12 (security support over, LTS to 2028-06-30) is `extended` at 8m and at 5y;
    its prometheus package is covered by Debian 12 (rule distro), upstream's 2023 date
    beside; a binary-installed prometheus keeps upstream's date (past)."""
    import uuid

    host = f"h-{uuid.uuid4().hex[:8]}"
    document = {"schema": "regie.inventory/v1", "host": {"hostname": host}, "observations": [
        {"source": "os-release", "raw": {"ID": "debian", "VERSION_ID": "12"}},
        {"source": "dpkg", "raw": {"package": "prometheus", "version": "2.42.0+ds-5+deb12u1"}},
        {"source": "dpkg", "raw": {"package": "golang-1.19-go", "version": "1.19.8-2"}},
        {"source": "binary", "raw": {"name": "prometheus", "version": "2.45.0"}}]}
    status, body = collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": host, "document": document}, token="agent")
    assert status == 202, body
    short, wide = eos_rows(collector.db, "8m"), eos_rows(collector.db, "5y")
    for rows in (short, wide):
        debian = rows[(host, "debian", "12")]
        assert (debian["DATE"], debian["STATUS"], debian["SUPPORT"], debian["RULE"]) == (
            "2028-06-30", "extended", "extended", "upstream")
        package = rows[(host, "prometheus", "2.42")]
        assert (package["DATE"], package["STATUS"], package["RULE"], package["UPSTREAM"]) == (
            "2028-06-30", "extended", "distro", "2023-03-14")
        assert package["NOTE"] == ("supported by Debian 12 until 2028-06-30, "
                                   "upstream 2023-03-14")
        # The binary prometheus 2.45 has only upstream's support, which ended in 2024.
        binary = rows[(host, "prometheus", "2.45")]
        assert (binary["DATE"], binary["STATUS"], binary["RULE"], binary["UPSTREAM"]) == (
            "2024-07-31", "past", "upstream", "-")
        # Debian limits its support for Go (security-support-limited: golang.*): upstream's
        # date applies, and the note says why.
        go = rows[(host, "go", "1.19")]
        assert (go["DATE"], go["STATUS"], go["RULE"], go["UPSTREAM"]) == (
            "2023-09-06", "past", "distro-limited", "2023-09-06")
        assert go["NOTE"].startswith("Debian 12 limits its support: See https://www.debian")
    # `--json` and the API say the same, with both dates.
    as_json = json.loads(regie("registry", "eos", "--within", "8m", "--today",
                               TODAY.isoformat(), "--host", host, "--json",
                               "--db", collector.db).stdout)
    [cli_item] = [i for i in as_json["items"] if (i["what"], i["version"]) == ("prometheus",
                                                                            "2.42")]
    assert (cli_item["date"], cli_item["rule"], cli_item["covered_by"],
            cli_item["upstream_date"]) == ("2028-06-30", "distro", "Debian 12", "2023-03-14")

    status, body = collector.call("GET", f"/api/v1/registry/eos?within=8m&host={host}",
                                  token="viewer")
    assert status == 200
    item = next(i for i in body["items"] if (i["what"], i["version"]) == ("prometheus", "2.42"))
    assert (item["rule"], item["covered_by"], item["upstream_date"], item["status"]) == (
        "distro", "Debian 12", "2023-03-14", "extended")


def test_a_fresh_demo_has_hardware_and_contracts(tmp_path):
    """`regie demo` (the real process) imports its samples: the reports are not empty on
    first use, found through the demo's regie.toml."""
    collector_port, agent_port = free_port(), free_port()
    url = f"http://127.0.0.1:{collector_port}"
    state = tmp_path / "regie-demo"
    argv = [sys.executable, "-m", "regie", "demo", "--dir", str(state),
            "--listen", f"127.0.0.1:{collector_port}",
            "--agent-listen", f"127.0.0.1:{agent_port}"]
    with running(argv, log=tmp_path / "demo.log", ready=lambda: http_ok(f"{url}/healthz"),
                 what="regie demo"):
        config = state / "regie.toml"
        wait_for(config.exists, timeout=30, what="the demo's installation file")
        hardware = regie("registry", "hardware", "--config", str(config)).stdout
        contracts = regie("registry", "contracts", "--config", str(config)).stdout
    assert "PowerEdge R730" in hardware and "db-legacy-01" in hardware
    assert "DELL-PS-5521" in contracts            # ended: listed whatever the day
