"""A real Prometheus scrapes the real agent process; the series are queryable over its HTTP API."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.agent.conftest import agent_process
from tests.conftest import prometheus_query
from tests.services import require_binary, wait_for
from tests.tls import make_tls


def test_prometheus_scrapes_agent(agent, start_prometheus):
    prometheus = start_prometheus([f"127.0.0.1:{agent.port}"])
    # The first scrape lands some seconds after ready: poll for data, never sleep a fixed time.
    result = wait_for(lambda: prometheus_query(prometheus.url, "regie_memory_total_bytes"),
                      timeout=60, interval=0.5, what="the first scrape of the agent")
    assert result[0]["metric"]["job"] == "regie"
    assert float(result[0]["value"][1]) > 0
    up = prometheus_query(prometheus.url, "up")
    assert [float(s["value"][1]) for s in up] == [1.0]
    for promql in (
        'regie_cpu_seconds_total{mode="idle"}',
        'regie_filesystem_size_bytes{mountpoint="/"}',
        'regie_network_receive_bytes_total{device="lo"}',
        'regie_agent_collector_success{collector="processes"} == 1',
        "regie_agent_build_info",
    ):
        assert prometheus_query(prometheus.url, promql), promql


def test_prometheus_scrapes_agent_over_tls(tmp_path, start_prometheus):
    """Prometheus verifies the agent's certificate against the test CA."""
    tls = make_tls(tmp_path)
    config = f"[http]\ntls_cert_file = '{tls.cert}'\ntls_key_file = '{tls.key}'\n"
    with agent_process(tmp_path, config, scheme="https") as agent:
        prometheus = start_prometheus([f"127.0.0.1:{agent.port}"], scheme="https",
                                      ca_file=tls.ca)
        wait_for(lambda: prometheus_query(prometheus.url, "up == 1"), timeout=60, interval=0.5,
                 what="a verified TLS scrape")
        assert prometheus_query(prometheus.url, "regie_load1")


def test_shipped_prometheus_config_is_valid(tmp_path):
    """deploy/prometheus/prometheus.yml passes `promtool check config` (paths made local)."""
    deploy = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
    (tmp_path / "regie-ca.pem").write_bytes(make_tls(tmp_path).ca.read_bytes())
    shutil.copy(deploy / "agents.yml", tmp_path / "agents.yml")
    config = (deploy / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/regie-ca.pem", str(tmp_path / "regie-ca.pem"))
    config = config.replace("/etc/prometheus/regie/agents.yml", str(tmp_path / "agents.yml"))
    # The rule file and the collector's token it names (tests/deploy/ checks them for real).
    (tmp_path / "regie-rules.yml").write_text("groups: []\n")
    (tmp_path / "regie-recording-rules.yml").write_text("groups: []\n")
    (tmp_path / "regie-viewer.token").write_text("regie_x\n")
    for name in ("regie-rules.yml", "regie-recording-rules.yml", "regie-viewer.token"):
        config = config.replace(f"/etc/prometheus/{name}", str(tmp_path / name))
    (tmp_path / "prometheus.yml").write_text(config)
    result = subprocess.run([require_binary("promtool"), "check", "config",
                             str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
