"""Source packages from the agent to the registry's report, through the real collector process
on SQLite and PostgreSQL.

The inventory is this host's, collected by the agent's own code (real dpkg-query): each
binary built from a source of another name carries it as `source_package`, and the push keeps
it. A package whose source Debian 12 lists as limited (zabbix: "the web UI is only supported
for access by trusted users") is reported `distro-limited` with Debian's note. (Here the
product's name, zabbix, is on the list too; tests/registry/test_distro_support.py has the case
only the source package decides.)
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from agent.inventory import collect_inventory
from agent.inventory.packages import Package
from tests.collector.conftest import _in_process


def stored_document(db: str, host: str) -> dict:
    from sqlalchemy import select

    from collector.store.models import InventoryPushRow

    async def work(engine) -> dict:
        async with engine.connect() as connection:
            return (await connection.execute(select(InventoryPushRow.document).where(
                InventoryPushRow.host == host))).scalar_one()

    return asyncio.run(_in_process(db, work))


@pytest.mark.timeout(300)  # a real agent's inventory: 40-100 s (default: 120 s)
def test_the_agents_source_packages_reach_the_registry(collector):
    document = collect_inventory()
    host = f"src-{uuid.uuid4().hex[:8]}"
    document["host"]["hostname"] = host
    assert document["os"]["ID"] == "debian"       # the Debian build host
    # As the agent reports zabbix-agent (built from zabbix) on a host that runs it.
    document["observations"].append(Package(
        manager="dpkg", name="zabbix-agent", version="1:6.0.14+dfsg-1", architecture="amd64",
        source="zabbix").observation())
    status, body = collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": uuid.uuid4().hex, "document": document}, token="agent")
    assert status == 202, body

    kept = {(o["raw"]["package"], o["raw"]["architecture"]): o["raw"].get("source_package")
            for o in stored_document(collector.db, host)["observations"]
            if o["source"] == "dpkg"}
    assert kept[("libssl3", "amd64")] == "openssl"
    assert kept[("libc6", "amd64")] == "glibc"
    assert kept[("zabbix-agent", "amd64")] == "zabbix"

    status, report = collector.call(
        "GET", f"/api/v1/registry/eos?within=100y&host={host}", token="viewer")
    assert status == 200, report
    [zabbix] = [i for i in report["items"] if i["what"] == "zabbix"]
    assert (zabbix["version"], zabbix["rule"], zabbix["covered_by"]) == (
        "6.0", "distro-limited", "Debian 12")
    assert zabbix["detail"].startswith(
        "dpkg: zabbix-agent 1:6.0.14+dfsg-1; Debian 12 limits its support: The WEB UI is only "
        "supported for access by trusted users"), zabbix
