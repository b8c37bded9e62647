"""A real Prometheus scrapes the real agent process; the series are queryable over its HTTP API."""

from __future__ import annotations

from tests.agent.conftest import agent_process
from tests.conftest import prometheus_query
from tests.services import wait_for
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
