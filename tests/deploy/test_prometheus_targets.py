"""The agents the collector knows, handed to a real Prometheus both ways: the file
`regie deploy prometheus-targets` writes (file_sd) and the collector's
`GET /api/v1/prometheus/targets` (http_sd, with a viewer token from a credentials file).

All real processes: the collector (`regie collector run`, SQLite), a real agent pushing its
inventory (its announced address, labels from `push.labels`), two Prometheus servers on the
shipped deploy/prometheus/prometheus.yml made local (tests/deploy/prometheus_config.py).
Every series then carries the agent's host name as `host`, never its address.

One machine has one host name, so a second host is its push: the body an agent sends (host
name web-02, the address of a second real agent process that serves metrics without pushing),
posted with an agent token. It must appear in both Prometheus servers within their refresh
(1 s here), waited for with a bound, never a fixed sleep.
"""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest

from tests.agent.conftest import agent_process
from tests.collector.conftest import collector_process, migrated, regie
from tests.conftest import prometheus_query
from tests.deploy.prometheus_config import AGENT_JOB, local_config, prometheus
from tests.services import http_get, wait_for

HERE = socket.gethostname()
# Generous for a 1 s refresh and 1 s scrapes on a busy machine; a failure says what is missing.
WAIT = 30
# The agent's first push waits for its inventory (package lists, `apt-get -s`): 17 s on a
# loaded 2-CPU machine, more beside the other processes here.
PUSH_WAIT = 120


def agent_config(collector_url: str, token_file: Path, spool: Path) -> str:
    return (f'[push]\ncollector = "{collector_url}"\ntoken_file = "{token_file}"\n'
            f'spool_dir = "{spool}"\nlabels = {{ site = "par1", role = "web" }}\n')


def active_targets(prometheus_url: str) -> dict[str, dict]:
    """Prometheus's active targets of the agents' job, by their `host` label."""
    body = json.loads(http_get(f"{prometheus_url}/api/v1/targets?state=active"))
    return {t["labels"].get("host"): t for t in body["data"]["activeTargets"]
            if t["labels"].get("job") == AGENT_JOB}


def hosts_up(prometheus_url: str) -> dict[str, dict]:
    """`up` of the agents' job by host label, once every one has been scraped."""
    return {s["metric"]["host"]: s["metric"]
            for s in prometheus_query(prometheus_url, f'up{{job="{AGENT_JOB}"}} == 1')}


def web_02_push(address: str) -> dict:
    return {"idempotency_key": str(uuid.uuid4()), "document": {
        "schema": "regie.inventory/v1", "host": {"hostname": "web-02"},
        "scrape": {"address": address, "scheme": "http", "labels": {"site": "ams1"}}}}


@pytest.mark.timeout(300)
def test_file_sd_and_http_sd_give_prometheus_the_agents_with_their_host(tmp_path):
    sqlite_db = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    config = '[criticality.hosts]\n"web-02" = "high"\n'
    with collector_process(tmp_path, sqlite_db, config) as collector:
        token = tmp_path / "agent.token"
        token.write_text(collector.tokens["agent"] + "\n")
        token.chmod(0o600)
        (tmp_path / "a1").mkdir()
        (tmp_path / "a2").mkdir()
        with agent_process(tmp_path / "a1", agent_config(collector.url, token,
                                                          tmp_path / "spool")) as agent, \
                agent_process(tmp_path / "a2") as second:
            def announced() -> list[dict]:
                status, groups = collector.call("GET", "/api/v1/prometheus/targets",
                                                token="viewer")
                assert status == 200, groups
                return groups

            (group,) = wait_for(announced, timeout=PUSH_WAIT, interval=0.3,
                                what="the agent's push to announce it")
            assert group == {"targets": [f"127.0.0.1:{agent.port}"],
                             "labels": {"__scheme__": "http", "role": "web", "site": "par1",
                                        "host": HERE, "criticality": "medium"}}
            # Read role: no token, or an agent's, gets nothing.
            assert collector.call("GET", "/api/v1/prometheus/targets", token=None)[0] == 401
            assert collector.call("GET", "/api/v1/prometheus/targets", token="agent")[0] == 403

            out = tmp_path / "sd" / "agents.yml"
            out.parent.mkdir()
            write = ("deploy", "prometheus-targets", "--out", str(out),
                     "--config", str(tmp_path / "collector.toml"), "--db", sqlite_db)
            assert "wrote 1 target to" in regie(*write).stderr
            assert oct(out.stat().st_mode & 0o777) == "0o644"
            collector_address = f"127.0.0.1:{collector.port}"
            viewer = collector.tokens["viewer"]
            file_config = local_config(tmp_path, agents_file=out, collector=collector_address,
                                       viewer_token=viewer)
            http_config = local_config(tmp_path, http_sd=collector.url, viewer_token=viewer)
            with prometheus(tmp_path, file_config, "file-sd") as by_file, \
                    prometheus(tmp_path, http_config, "http-sd") as by_http:
                for url in (by_file, by_http):
                    target = wait_for(lambda url=url: active_targets(url).get(HERE),
                                      timeout=WAIT, interval=0.3,
                                      what=f"the agent among {url}'s targets")
                    assert target["scrapeUrl"] == f"http://127.0.0.1:{agent.port}/metrics"
                    assert {k: target["labels"][k] for k in ("host", "site", "role",
                                                             "criticality")} == {
                        "host": HERE, "site": "par1", "role": "web", "criticality": "medium"}
                    # Every series of the agent carries the host label.
                    series = wait_for(lambda url=url: prometheus_query(
                        url, f'regie_memory_total_bytes{{host="{HERE}"}}'), timeout=WAIT,
                        interval=0.5, what=f"the agent's series in {url} with host={HERE}")
                    assert series[0]["metric"]["instance"] == f"127.0.0.1:{agent.port}"
                # The collector's own job, with the viewer token from its credentials file.
                wait_for(lambda: prometheus_query(by_file, 'up{job="regie-collector"} == 1'),
                         timeout=WAIT, interval=0.5, what="the collector's own scrape")

                # A new agent's push: a target of both within their refresh.
                status, answer = collector.call("POST", "/api/v1/inventory", token="agent",
                                                body=web_02_push(f"127.0.0.1:{second.port}"))
                assert status == 202, answer
                wait_for(lambda: "web-02" in active_targets(by_http), timeout=WAIT,
                         interval=0.2, what="web-02 in the http_sd Prometheus's targets")
                assert "wrote 2 targets to" in regie(*write).stderr
                wait_for(lambda: "web-02" in active_targets(by_file), timeout=WAIT,
                         interval=0.2, what="web-02 in the file_sd Prometheus's targets")
                for url in (by_file, by_http):
                    up = wait_for(lambda url=url: (lambda found: found if len(found) == 2
                                                   else None)(hosts_up(url)),
                                  timeout=WAIT, interval=0.5,
                                  what=f"both agents scraped by {url}")
                    assert up["web-02"]["criticality"] == "high"
                    assert up["web-02"]["site"] == "ams1"
                    assert up["web-02"]["instance"] == f"127.0.0.1:{second.port}"
                    assert up[HERE]["site"] == "par1"
