"""The fleet's scrape endpoints from stored pushes (collector/store/hosts.py), made targets
(collector/prometheus_sd.py), on SQLite and PostgreSQL: each host's latest push decides, an
address two hosts announce names neither, an announcement today's rules refuse is left out."""

from __future__ import annotations

import pytest

from alerting.ticket import Criticality
from collector.config import CriticalitySettings
from collector.prometheus_sd import fleet, http_sd
from collector.store.hosts import scrape_endpoints
from tests.collector.store.signals import T0, at

CRITICALITY = CriticalitySettings(default=Criticality.MEDIUM,
                                  hosts={"db-*": Criticality.BUSINESS_CRITICAL})


def document(host: str, scrape: dict | None = None) -> dict:
    out = {"schema": "regie.inventory/v1", "host": {"hostname": host},
           "packages": [{"name": "openssl", "version": "3.0.15-1~deb12u1"}]}
    if scrape is not None:
        out["scrape"] = scrape
    return out


def test_latest_push_per_host_decides(db):
    async def scenario(s):
        store = s.inventory
        await store.store("web-01", "a", document("web-01", {
            "address": "web-01.example.net:9847", "scheme": "http"}), T0)
        await store.store("db-01", "b", document("db-01", {
            "address": "db-01.example.net:9847", "scheme": "https",
            "labels": {"site": "par1", "role": "database"}}), at(1))
        await store.store("old-01", "c", document("old-01"), at(2))   # an older agent
        # web-01 moves: its latest push names the new address.
        await store.store("web-01", "d", document("web-01", {
            "address": "web-01.example.net:19847", "scheme": "https",
            "labels": {"site": "ams1"}}), at(3))
        return await scrape_endpoints(s.engine)

    rows = db.run(scenario)
    assert [host for host, _ in rows] == ["db-01", "old-01", "web-01"]
    found = fleet(rows, CRITICALITY)
    assert http_sd(found.targets) == [
        {"targets": ["db-01.example.net:9847"],
         "labels": {"__scheme__": "https", "role": "database", "site": "par1",
                    "host": "db-01", "criticality": "business-critical"}},
        {"targets": ["web-01.example.net:19847"],
         "labels": {"__scheme__": "https", "site": "ams1", "host": "web-01",
                    "criticality": "medium"}},
    ]
    assert found.conflicts == {} and found.invalid == {}


def test_an_agent_that_stops_announcing_is_no_target_any_more(db):
    async def scenario(s):
        await s.inventory.store("web-01", "a", document("web-01", {
            "address": "web-01:9847", "scheme": "http"}), T0)
        await s.inventory.store("web-01", "b", document("web-01"), at(1))
        return await scrape_endpoints(s.engine)

    assert fleet(db.run(scenario), CRITICALITY).targets == ()


def test_one_address_for_two_hosts_names_neither(db):
    """Two agents left on the default loopback address: a target would put one host's name
    on whatever answers there."""
    async def scenario(s):
        for i, host in enumerate(("web-01", "web-02", "web-03")):
            address = "127.0.0.1:9847" if host != "web-03" else "web-03:9847"
            await s.inventory.store(host, f"k{i}", document(host, {
                "address": address, "scheme": "http"}), at(i))
        return await scrape_endpoints(s.engine)

    found = fleet(db.run(scenario), CRITICALITY)
    assert [t.host for t in found.targets] == ["web-03"]
    assert found.conflicts == {"127.0.0.1:9847": ("web-01", "web-02")}


@pytest.mark.parametrize("stored", [
    {"address": "web-01:9847", "scheme": "gopher"},
    {"address": "web-01:9847", "scheme": "http", "labels": {"host": "other"}},
    "web-01:9847",
])
def test_a_stored_announcement_the_rules_refuse_is_left_out(db, stored):
    """Pushes stored before the collector checked `scrape` (or by hand) cannot make a bad
    target: they are left out with the reason."""
    async def scenario(s):
        await s.inventory.store("web-01", "a", document("web-01", stored), T0)
        return await scrape_endpoints(s.engine)

    found = fleet(db.run(scenario), CRITICALITY)
    assert found.targets == ()
    assert list(found.invalid) == ["web-01"]
    assert found.invalid["web-01"].startswith("scrape")
