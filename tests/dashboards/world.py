"""A small Regie installation running for real, for the dashboards' queries to read:

- two real agents (`regie agent run`), one polling a real snmpd, as hosts app-01 and app-02;
- the real collector (`regie collector run`, SQLite) with on-call (a schedule, a file channel,
  short escalation steps, an acknowledgement that expires after 3 s), the demo's hardware and
  contract samples, inventories pushed for both hosts through POST /api/v1/inventory (an OS and
  a runtime near or past end of support, pending updates; a completed patch change on app-01
  whose package a second push shows installed), tickets raised through
  POST /api/v1/tickets and /api/v1/events, acknowledged and resolved through the API, and one
  request it must refuse; vendor cases opened through POST /api/v1/vendor-cases;
- a real Prometheus scraping all three every second, with the dashboards' recording rules
  (from `regie rules export --format recording`) and the shipped `host` label per agent.

Used by test_live_queries.py, and by make_previews.py for docs/img/dashboards/.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.agent.conftest import Snmpd
from tests.collector.conftest import (
    Collector,
    collector_process,
    create_tokens,
    migrated,
    regie,
)
from tests.conftest import prometheus_query
from tests.services import free_port, http_ok, require_binary, running, wait_for

HOSTS = ("app-01", "app-02")
SCRAPE_SECONDS = 1.0
SCHEDULE = """\
people:
  alice: {email: alice@example.org}
  bob: {email: bob@example.org}
  carol: {email: carol@example.org}
teams:
  - name: ops
    timezone: UTC
    business_hours: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
    layers:
      primary: {participants: [alice], rotation: daily, handoff: "09:00", start: 2026-01-05}
      secondary: {participants: [bob], rotation: daily, handoff: "09:00", start: 2026-01-05}
      escalation_manager:
        {participants: [carol], rotation: daily, handoff: "09:00", start: 2026-01-05}
"""
# Seconds instead of minutes, so every step and an expired acknowledgement happen in the test.
POLICIES = """\
policies:
  P1:
    steps:
      - {after: 0s, notify: primary}
      - {after: 2s, notify: secondary}
      - {after: 4s, notify: escalation_manager}
    ack_expires: 3s
  P2:
    steps:
      - {after: 0s, notify: primary}
      - {after: 3s, notify: secondary}
  P3:
    steps:
      - {after: 0s, notify: primary}
  P4:
    steps:
      - {after: 0s, notify: primary}
"""
# What each host reports: Alpine 3.22 and Node.js 22 reach end of support in 2027 (within 8
# months of the end of 2026), Debian 11 and PostgreSQL 14 are past it.
INVENTORIES = {
    "app-01": ([("os-release", {"ID": "alpine", "VERSION_ID": "3.22.1"}),
                ("binary", {"name": "nodejs", "version": "22.11.0"})],
               {"security": 3, "other": 5}),
    "app-02": ([("os-release", {"ID": "debian", "VERSION_ID": "11"}),
                ("binary", {"name": "postgresql", "version": "14.9"})],
               {"security": 12, "other": 1}),
}


@dataclass
class World:
    prometheus: str
    collector: Collector
    started: float
    hosts: tuple[str, ...] = HOSTS

    def query(self, promql: str) -> list[dict]:
        return prometheus_query(self.prometheus, promql)


def _agent_config(snmpd: Snmpd | None) -> str:
    if snmpd is None:
        return ""
    # Generous timeout and a retry: on a busy machine a 1 s poll may miss, and the
    # interface panels read the last poll.
    return (f"[snmp]\ninterval_seconds = 2.0\ntimeout_seconds = 3.0\nretries = 2\n"
            f"[[snmp.targets]]\nname = \"core-sw-01\"\naddress = \"127.0.0.1\"\n"
            f"port = {snmpd.port}\nversion = \"2c\"\ncommunity = \"{snmpd.community}\"\n")


@contextlib.contextmanager
def _agent(tmp: Path, config: str) -> Iterator[int]:
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = tmp / "agent.toml"
    conf.write_text(config)
    argv = [sys.executable, "-m", "regie", "agent", "run", "--config", str(conf),
            "--listen", f"127.0.0.1:{port}"]
    with running(argv, log=tmp / "agent.log", what="regie agent",
                 ready=lambda: http_ok(f"http://127.0.0.1:{port}/healthz")):
        yield port


def _collector_config(tmp: Path) -> str:
    (tmp / "oncall.yml").write_text(SCHEDULE)
    (tmp / "policies.yml").write_text(POLICIES)
    key = tmp / "link.key"
    key.write_text(uuid.uuid4().hex * 2 + "\n")
    key.chmod(0o600)
    secret = tmp / "hook.key"
    secret.write_text(uuid.uuid4().hex + "\n")
    secret.chmod(0o600)
    return f"""\
[oncall]
schedule_file = "{tmp / 'oncall.yml'}"
policy_file = "{tmp / 'policies.yml'}"
public_url = "http://127.0.0.1"
link_secret_file = "{key}"

[[oncall.channels]]
name = "pager"
kind = "file"
path = "{tmp / 'pages.jsonl'}"

# A webhook nobody answers (a closed port): its notices wait for their retries (pending).
[[oncall.channels]]
name = "chat"
kind = "webhook"
url = "http://127.0.0.1:{free_port()}/hook"
secret_file = "{secret}"
allow_networks = ["127.0.0.1/32"]
timeout_seconds = 2
"""


def _prometheus_config(tmp: Path, agents: dict[str, int], collector: Collector,
                       rules: Path) -> Path:
    token = tmp / "viewer.token"
    token.write_text(collector.tokens["viewer"] + "\n")
    token.chmod(0o600)
    config = {
        "global": {"scrape_interval": f"{SCRAPE_SECONDS:g}s",
                   "evaluation_interval": f"{SCRAPE_SECONDS:g}s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            # The shipped configuration gives every agent's series its `host` label
            # (deploy/prometheus/): here, as file_sd would, from the target's labels.
            {"job_name": "regie-agent",
             "static_configs": [{"targets": [f"127.0.0.1:{port}"], "labels": {"host": host}}
                                for host, port in agents.items()]},
            {"job_name": "regie-collector",
             "authorization": {"credentials_file": str(token)},
             "static_configs": [{"targets": [f"127.0.0.1:{collector.port}"]}]},
        ],
    }
    path = tmp / "prometheus.yml"
    path.write_text(json.dumps(config))
    return path


# The package a patch change installs on the first host (docs/patching.md): offered in its
# first push, installed in a second one after the change's planned start.
PATCHED = ("openssl", "3.0.15-1~deb12u1")


def _push_inventory(collector: Collector, host: str, *, patched: bool | None = None) -> None:
    """`patched`: False offers PATCHED as a security update too, True shows it installed
    (with the `packages` list the installation is detected from)."""
    observations, updates = INVENTORIES[host]
    pending = [{"manager": "apt", "package": f"pkg-{kind}-{i}", "architecture": "amd64",
                "current_version": "1.0", "version": "1.1", "origin": None,
                "security": kind == "security", "advisories": []}
               for kind, count in updates.items() for i in range(count)]
    name, version = PATCHED
    if patched is False:
        pending.append({"manager": "apt", "package": name, "architecture": "amd64",
                        "current_version": "3.0.14-1~deb12u2", "version": version,
                        "origin": "Debian-Security:12/stable-security", "security": True,
                        "advisories": []})
    document = {"schema": "regie.inventory/v1", "host": {"hostname": host},
                "updates": pending,
                "observations": [{"source": s, "raw": raw} for s, raw in observations]}
    if patched:
        document["packages"] = [{"manager": "dpkg", "name": name, "version": version,
                                 "architecture": "amd64"}]
    status, body = collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": f"{host}-{uuid.uuid4().hex}", "document": document}, token="agent")
    assert status == 202, body


def _patch_change(db: str, host: str) -> int:
    """A completed patch change of PATCHED on `host`, planned an hour ago (stored with the
    changes' own store function; its moves are the changes' tests)."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from alerting.changes import ChangeType
    from collector.store.changes import CHANGES, NewChange, Package, insert_change
    from tests.collector.conftest import _in_process

    planned = datetime.now(UTC) - timedelta(hours=1)

    async def work(engine) -> int:
        change = await insert_change(engine, NewChange(
            type=ChangeType.NORMAL, summary="patch openssl", author="alice",
            host_patterns=(host,), hosts=(host,), services=(), planned_start=planned,
            planned_end=planned + timedelta(hours=2), timezone="UTC",
            packages=(Package(*PATCHED),), risk={}), planned - timedelta(days=1))
        async with engine.begin() as connection:
            await connection.execute(update(CHANGES).where(CHANGES.c.id == change)
                                     .values(status="completed"))
        return change

    return asyncio.run(_in_process(db, work))


def _ticket(collector: Collector, *, host: str, component: str, impact: str,
            urgency: str) -> int:
    status, body = collector.call("POST", "/api/v1/tickets", {
        "summary": f"{component} trouble on {host}", "host": host, "component": component,
        "impact": impact, "urgency": urgency}, token="responder")
    assert status == 201, body
    return body["id"]


def _event(collector: Collector, *, host: str, component: str, severity: str) -> None:
    status, body = collector.call("POST", "/api/v1/events", {
        "routing_key": "dashboards-test", "event_action": "trigger",
        "dedup_key": f"{host}-{component}-{uuid.uuid4().hex[:6]}",
        "payload": {"summary": f"{component} alert on {host}", "source": host,
                    "severity": severity, "component": component}}, token="ingest")
    assert status in (200, 202), body


def _act(collector: Collector, ticket: int, action: str) -> None:
    status, body = collector.call("POST", f"/api/v1/tickets/{ticket}/{action}", {},
                                  token="responder")
    assert status == 200, body


def _vendor_cases(collector: Collector) -> None:
    """Two vendor cases waiting on Dell, one on HPE (none overdue: the overdue figures are
    zeros, which is data)."""
    for vendor, number in (("Dell", "SR-1"), ("Dell", "SR-2"), ("HPE", "5300-1")):
        status, body = collector.call("POST", "/api/v1/vendor-cases", {
            "vendor": vendor, "case_number": number, "summary": "controller resets",
            "hosts": [HOSTS[0]]}, token="responder")
        assert status == 201, body


def _activity(collector: Collector) -> None:
    """One wave of queue activity: tickets of every priority from users and monitoring,
    some acknowledged, some resolved, and one refused request."""
    p1 = _ticket(collector, host="app-01", component="postgres", impact="business-critical",
                 urgency="high")
    p2 = _ticket(collector, host="app-02", component="network", impact="high", urgency="high")
    _ticket(collector, host="app-02", component="disk", impact="high", urgency="medium")
    _ticket(collector, host="app-01", component="disk", impact="high", urgency="medium")
    _ticket(collector, host="app-01", component="network", impact="high", urgency="medium")
    _ticket(collector, host="app-01", component="printer", impact="low", urgency="low")
    _event(collector, host="app-01", component="network", severity="critical")
    _event(collector, host="app-02", component="disk", severity="warning")
    _act(collector, p1, "ack")              # expires after 3 s: paged again
    _act(collector, p2, "ack")
    _act(collector, p2, "resolve")
    status, _ = collector.call("POST", "/api/v1/tickets", {"summary": ""}, token="responder")
    assert status == 400


@contextlib.contextmanager
def world(tmp: Path, snmpd: Snmpd, *, settle_seconds: float = 0.0) -> Iterator[World]:
    """Everything above, running; data in Prometheus for every kind of panel before it
    yields. `settle_seconds`: extra time (after that) for longer histories (previews)."""
    from collector.demo_registry import import_samples

    started = time.time()
    tmp.mkdir(parents=True, exist_ok=True)
    db = migrated(f"sqlite:///{tmp / 'regie.db'}")
    import asyncio

    asyncio.run(import_samples(db))   # the demo's hardware and contracts (upserts)
    tokens = create_tokens(db)
    rules = tmp / "recording.yml"
    regie("rules", "export", "--format", "recording", "--out", str(rules))
    with contextlib.ExitStack() as stack:
        collector = stack.enter_context(
            collector_process(tmp, db, _collector_config(tmp), tokens=tokens))
        agents = {HOSTS[0]: stack.enter_context(_agent(tmp / "agent-1", _agent_config(snmpd))),
                  HOSTS[1]: stack.enter_context(_agent(tmp / "agent-2", ""))}
        for host in HOSTS:
            _push_inventory(collector, host, patched=False if host == HOSTS[0] else None)
        _patch_change(db, HOSTS[0])
        _push_inventory(collector, HOSTS[0], patched=True)
        _vendor_cases(collector)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = _prometheus_config(tmp, agents, collector, rules)
        stack.enter_context(running(
            [require_binary("prometheus"), f"--config.file={config}",
             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}",
             f"--web.external-url={url}"],
            log=tmp / "prometheus.log", ready=lambda: http_ok(f"{url}/-/ready"), timeout=60))
        here = World(prometheus=url, collector=collector, started=started)

        def scraped(promql: str, count: int = 1):
            return lambda: len(here.query(promql)) >= count or None

        # The collector's counters exist before the second wave, so increase() sees it.
        _activity(collector)
        wait_for(scraped("regie_tickets_created_total"), timeout=60, interval=0.5,
                 what="Prometheus's first scrape of the collector")
        _activity(collector)
        for promql, count, what in (
                ("host:regie_cpu_utilisation:rate5m", 2, "the CPU recording rule, both hosts"),
                ("host:regie_network_receive_bytes:rate5m", 2, "throughput, both hosts"),
                ("regie_snmp_if_oper_status", 1, "the SNMP interface table"),
                ("rate(regie_snmp_if_in_octets_total[5m])", 1, "an SNMP counter rate"),
                ("regie_acknowledgements_expired_total > 0", 1, "an expired acknowledgement"),
                ('regie_escalation_steps_total{step="3"}', 1, "a third escalation step"),
                ("increase(regie_pages_total[1d]) > 0", 1, "pages counted"),
                ("priority:regie_ticket_time_to_resolve_seconds:p50_rate1d", 1, "MTTR"),
                ("increase(regie_tickets_created_total[1d]) > 0", 1, "created per day"),
                ("regie_eos_end_timestamp_seconds", 4, "end-of-support dates"),
                ("regie_host_pending_updates", 4, "pending updates of both hosts"),
                ("regie_patch_last_change_lag_seconds", 2, "the last patch change's lag"),
                ("regie_vendor_cases_open", 2, "vendor cases of both vendors"),
                ('regie_notifications_queued{status="pending"}', 1, "notices waiting")):
            wait_for(scraped(promql, count), timeout=90, interval=0.5, what=what)
        if settle_seconds:
            deadline = time.monotonic() + settle_seconds
            while time.monotonic() < deadline:
                _activity(collector)
                time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))
        yield here
