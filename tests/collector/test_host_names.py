"""collector/host_names.py: the names known to this process, refreshed from the store."""

from __future__ import annotations

import asyncio

from collector.host_names import KnownHosts


def test_targets_win_pushes_teach_at_once_and_the_store_is_read_when_stale():
    reads: list[float] = []
    now = [0.0]
    stored = [("db-01", "db-01.example.net")]

    async def read_agents():
        reads.append(now[0])
        return list(stored)

    async def scenario() -> None:
        hosts = KnownHosts(read_agents=read_agents, local="here", refresh_seconds=60,
                           clock=lambda: now[0])
        await hosts.refresh()
        hosts.add_targets([("db-01.example.net:9847", "database")])
        assert hosts.canonical("db-01.example.net:9847") == "database"   # configured wins
        assert hosts.canonical("db-01.example.net") == "db-01"
        assert hosts.known("127.0.0.1:9847") is None and hosts.canonical("::1") == "here"
        hosts.learn("web-01", "web-01.example.net")
        assert hosts.canonical("web-01.example.net:9847") == "web-01"
        now[0] = 30.0
        await hosts.refresh()
        assert reads == [0.0]                                            # not yet stale
        stored.append(("app-01", "app-01.example.net"))
        now[0] = 61.0
        await hosts.refresh()
        assert reads == [0.0, 61.0]
        assert hosts.canonical("app-01.example.net:9847") == "app-01"

    asyncio.run(scenario())


def test_a_failed_read_keeps_what_is_known():
    async def broken():
        raise OSError("database away")

    async def scenario() -> None:
        hosts = KnownHosts(read_agents=broken, local="here")
        hosts.learn("web-01", "web-01.example.net")
        assert (await hosts.refresh()).canonical("web-01.example.net") == "web-01"
        assert hosts.canonical("127.0.0.1:9847") == "here"

    asyncio.run(scenario())


def test_the_webhook_names_an_agent_by_its_inventory(collector):
    """Real collector process: an agent pushes its inventory (host name and FQDN); an alert
    that Prometheus raised for its scrape address, and an event naming its FQDN, get the
    agent's host name."""
    import uuid

    document = {"schema": "regie.inventory/v1", "collected_at": "2026-01-05T03:00:00+00:00",
                "host": {"hostname": "web-07", "fqdn": "web-07.example.net"},
                "observations": []}
    status, body = collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": uuid.uuid4().hex, "document": document}, token="agent")
    assert status == 202, body

    def alert(instance: str, fingerprint: str) -> dict:
        return {"status": "firing", "fingerprint": fingerprint,
                "labels": {"alertname": "MemoryUsedHigh", "instance": instance},
                "annotations": {"summary": "memory"}, "startsAt": "2026-01-05T03:00:00Z"}

    status, body = collector.call("POST", "/api/v1/alertmanager", {"version": "4", "alerts": [
        alert("web-07.example.net:9847", "a1"), alert("web-08.example.net:9847", "a2")]},
        token="ingest")
    assert status == 200, body
    # The Events API's payload.source is mapped the same way.
    status, body = collector.call("POST", "/api/v1/events", {
        "routing_key": collector.tokens["ingest"], "event_action": "trigger",
        "dedup_key": "web-07/backup", "payload": {"summary": "backup failed",
                                                   "source": "WEB-07.example.net",
                                                   "severity": "error"}}, token=None)
    assert status == 202, body
    tickets = collector.call("GET", "/api/v1/tickets", token="viewer")[1]["tickets"]
    assert sorted(t["host"] for t in tickets) == ["web-07", "web-07", "web-08.example.net"]


def test_the_scrape_address_is_asked_first():
    """An evaluator target named by its address (no inventory yet when the collector started)
    and the agent's FQDN known from inventory: an alert for that target names the host as the
    evaluator does, whatever its `host` label says."""
    from collector.payloads.alertmanager import host_of

    async def agents():
        return [("web-01", "web-01.example.net")]

    async def scenario() -> None:
        hosts = KnownHosts(read_agents=agents, local="here")
        await hosts.refresh()
        hosts.add_targets([("web-01.example.net:9847", "web-01.example.net")])
        labels = {"host": "web-01.example.net", "instance": "web-01.example.net:9847"}
        assert host_of(labels, hosts.known) == "web-01.example.net"
        # Another exporter on that machine: its address is not a target; the FQDN names it.
        assert host_of({**labels, "instance": "web-01.example.net:9100"}, hosts.known) == (
            "web-01")
        assert host_of({"instance": "10.1.1.1:9100"}, hosts.known) == "10.1.1.1"

    asyncio.run(scenario())
