"""One rule file, two alerting paths, one queue, all real processes:

1. embedded: a real agent, the real collector whose evaluator scrapes it (no Prometheus);
2. Prometheus: `regie rules export` -> a real Prometheus scraping the same agent -> a real
   Alertmanager -> the collector's webhook.

The rule is one that is certainly breached on any host (total memory above zero), so the
ticket's appearance proves the path, not the host's state. Both paths name the host alike:
the agent's host name, never the scrape address (alerting/host_identity.py).
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import yaml

from alerting.priority import assess
from alerting.ticket import Criticality, Urgency
from tests.agent.conftest import agent_process
from tests.collector.conftest import collector_process, evaluator_config, regie
from tests.collector.test_alertmanager_real import local_config
from tests.services import free_port, http_ok, require_binary, running, wait_for

SHIPPED_PROMETHEUS = (Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
                      / "prometheus.yml")

RULES = """
rules:
  - name: MemoryPresent
    metric: regie_memory_total_bytes
    op: ">"
    value: 0
    for: 0s
    urgency: low
    component: memory
    summary: "{{ host }} has {{ value | humanize1024 }}B of memory"
"""


def open_tickets(collector) -> list[dict]:
    return collector.call("GET", "/api/v1/tickets", token="viewer")[1]["tickets"]


def test_embedded_evaluator_path(tmp_path, sqlite_db):
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    with agent_process(agent_dir) as agent:
        config = evaluator_config(tmp_path, RULES, {agent.port: None})
        with collector_process(tmp_path, sqlite_db, config) as collector:
            (ticket,) = wait_for(lambda: open_tickets(collector), timeout=60, interval=0.3,
                                 what="the evaluator's ticket")
    assert ticket["origin"] == "evaluator"
    assert ticket["host"] == socket.gethostname()
    assert ticket["component"] == "memory"
    assert ticket["summary"].startswith(f"{socket.gethostname()} has ")
    assert ticket["dedup_key"] == f"evaluator:MemoryPresent:{socket.gethostname()}"
    assert (ticket["urgency"], ticket["priority"]) == ("low", "P4")


def test_prometheus_path_with_exported_rules(tmp_path, sqlite_db, start_prometheus,
                                             start_alertmanager):
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    exported = tmp_path / "prometheus-rules.yml"
    regie("rules", "export", "--rules", str(rules), "--out", str(exported))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    with agent_process(agent_dir) as agent, \
            collector_process(tmp_path, sqlite_db) as collector:
        alertmanager = start_alertmanager(
            local_config(tmp_path, collector.url, collector.tokens["ingest"]))
        start_prometheus([f"127.0.0.1:{agent.port}"], rule_files=[exported],
                         alertmanager=f"127.0.0.1:{alertmanager.port}")
        (ticket,) = wait_for(lambda: open_tickets(collector), timeout=90, interval=0.5,
                             what="the ticket from Prometheus -> Alertmanager")
    assert ticket["origin"] == "alertmanager"
    assert (ticket["component"], ticket["urgency"], ticket["priority"]) == ("memory", "low",
                                                                             "P4")
    # Prometheus knows the scrape address only. This collector does not scrape the agent and
    # has no inventory from it, so nothing names the address (a loopback address here means
    # Prometheus's machine, not necessarily the collector's): the address stays the host.
    assert ticket["host"] == "127.0.0.1"
    assert ticket["summary"].startswith(f"127.0.0.1:{agent.port} has ")


def shipped_prometheus(tmp_path: Path, target: str, rule_file: Path, alertmanager: str):
    """A real Prometheus with deploy/prometheus/prometheus.yml (its relabelling to `host`
    included), made local: plain HTTP, one static target listed by hand (no `host` label),
    1 s intervals."""
    config = yaml.safe_load(SHIPPED_PROMETHEUS.read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["scrape_configs"] = [job for job in config["scrape_configs"]
                                if job["job_name"] == "regie-agent"]
    (job,) = config["scrape_configs"]
    job["scheme"] = "http"
    del job["tls_config"], job["file_sd_configs"]
    job["static_configs"] = [{"targets": [target]}]
    config["rule_files"] = [str(rule_file)]
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    path = tmp_path / "shipped-prometheus.yml"
    path.write_text(json.dumps(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return running([require_binary("prometheus"), f"--config.file={path}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb-shipped'}",
                    f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={url}"],
                   log=tmp_path / "shipped-prometheus.log", ready=lambda: http_ok(f"{url}/-/ready"),
                   timeout=60)


def test_one_breach_through_both_paths_gives_one_host_and_one_priority(
        tmp_path, sqlite_db, start_alertmanager):
    """The same agent breaches the same rule; the embedded evaluator and Prometheus (with the
    shipped configuration) -> Alertmanager each open a ticket. Both name the same host (the
    evaluator's target address is the agent's alias), so the host's criticality applies to
    both and they get the same priority; with the scrape address as host, the criticality
    would not apply (and a second "system" would raise the impact)."""
    here = socket.gethostname()
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    exported = tmp_path / "prometheus-rules.yml"
    regie("rules", "export", "--rules", str(rules), "--out", str(exported))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    with agent_process(agent_dir) as agent:
        config = (f'[criticality.hosts]\n"{here}" = "business-critical"\n'
                  + evaluator_config(tmp_path, RULES, {agent.port: None}))
        with collector_process(tmp_path, sqlite_db, config) as collector:
            alertmanager = start_alertmanager(
                local_config(tmp_path, collector.url, collector.tokens["ingest"]))
            with shipped_prometheus(tmp_path, f"127.0.0.1:{agent.port}", exported,
                                    f"127.0.0.1:{alertmanager.port}"):
                def both() -> dict[str, dict] | None:
                    by_origin = {t["origin"]: t for t in open_tickets(collector)}
                    return by_origin if len(by_origin) == 2 else None

                by_origin = wait_for(both, timeout=90, interval=0.5,
                                     what="a ticket from each path")
                labels = collector.call("GET", f"/api/v1/tickets/{by_origin['alertmanager']['id']}",
                                        token="viewer")[1]["details"]["labels"]
    embedded, prometheus = by_origin["evaluator"], by_origin["alertmanager"]
    expected = assess(criticality=Criticality.BUSINESS_CRITICAL, urgency=Urgency.LOW).priority
    for ticket in (embedded, prometheus):
        assert (ticket["host"], ticket["priority"], ticket["urgency"], ticket["component"]) == (
            here, expected.value, "low", "memory"), ticket
    assert expected != assess(criticality=Criticality.MEDIUM, urgency=Urgency.LOW).priority
    # The shipped relabelling gave the series a `host` label (the address without its port),
    # which the summary prints as the evaluator does... and the collector mapped it.
    assert labels["host"] == "127.0.0.1"
    assert prometheus["summary"].startswith("127.0.0.1 has ")
    assert embedded["summary"].startswith(f"{here} has ")


@pytest.mark.timeout(300)
def test_one_breach_with_generated_targets_gives_one_host_and_one_priority(
        tmp_path, sqlite_db, start_alertmanager):
    """As above, with the agents found as operators deploy them: the agent pushes its
    inventory (announcing its address), `regie deploy prometheus-targets` writes the file the
    shipped configuration discovers, and Prometheus scrapes the agent with its host name as
    `host`. The alert then names the host itself (no address left to map), so both tickets
    have the same host, priority and summary text."""
    from tests.deploy.prometheus_config import local_config as prometheus_config_for
    from tests.deploy.prometheus_config import prometheus

    here = socket.gethostname()
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    exported = tmp_path / "prometheus-rules.yml"
    regie("rules", "export", "--rules", str(rules), "--out", str(exported))
    agent_port = free_port()
    config = (f'[criticality.hosts]\n"{here}" = "business-critical"\n'
              + evaluator_config(tmp_path, RULES, {agent_port: None}))
    with collector_process(tmp_path, sqlite_db, config) as collector:
        token = tmp_path / "agent.token"
        token.write_text(collector.tokens["agent"] + "\n")
        token.chmod(0o600)
        agent_config = tmp_path / "agent.toml"
        agent_config.write_text(f'[push]\ncollector = "{collector.url}"\n'
                                f'token_file = "{token}"\nspool_dir = "{tmp_path / "spool"}"\n')
        argv = [sys.executable, "-m", "regie", "agent", "run", "--config", str(agent_config),
                "--listen", f"127.0.0.1:{agent_port}"]
        with running(argv, log=tmp_path / "agent.log", what="regie agent",
                     ready=lambda: http_ok(f"http://127.0.0.1:{agent_port}/healthz")):
            wait_for(lambda: collector.call("GET", "/api/v1/prometheus/targets",
                                            token="viewer")[1],
                     timeout=120, interval=0.5, what="the agent's push announcing it")
            targets = tmp_path / "agents.yml"
            regie("deploy", "prometheus-targets", "--out", str(targets), "--config",
                  str(tmp_path / "collector.toml"), "--db", sqlite_db)
            alertmanager = start_alertmanager(
                local_config(tmp_path, collector.url, collector.tokens["ingest"]))
            prometheus_config = prometheus_config_for(
                tmp_path, agents_file=targets, rule_files=[exported],
                alertmanager=f"127.0.0.1:{alertmanager.port}")
            with prometheus(tmp_path, prometheus_config, "generated-targets"):
                def both() -> dict[str, dict] | None:
                    by_origin = {t["origin"]: t for t in open_tickets(collector)}
                    return by_origin if len(by_origin) == 2 else None

                by_origin = wait_for(both, timeout=90, interval=0.5,
                                     what="a ticket from each path")
                labels = collector.call("GET", f"/api/v1/tickets/{by_origin['alertmanager']['id']}",
                                        token="viewer")[1]["details"]["labels"]
    embedded, prometheus_ticket = by_origin["evaluator"], by_origin["alertmanager"]
    expected = assess(criticality=Criticality.BUSINESS_CRITICAL, urgency=Urgency.LOW).priority
    for ticket in (embedded, prometheus_ticket):
        assert (ticket["host"], ticket["priority"], ticket["urgency"], ticket["component"]) == (
            here, expected.value, "low", "memory"), ticket
        assert ticket["summary"].startswith(f"{here} has "), ticket["summary"]
    # The series carried the agent's host name and the collector's criticality from the
    # generated targets; nothing had to be mapped from an address.
    assert (labels["host"], labels["criticality"]) == (here, "business-critical")
    assert labels["instance"] == f"127.0.0.1:{agent_port}"
