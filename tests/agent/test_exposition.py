"""The agent's registry: every collector's output, failure isolation, promtool-clean names."""

from __future__ import annotations

import logging
import subprocess

import psutil
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily

from agent.collectors import COLLECTORS, build_collectors
from agent.config import HealthSettings
from agent.exposition import HealthMetrics, build_registry
from tests.services import require_binary


class Exploding:
    """A collector that fails after yielding one family: that family must not leak out."""

    name = "exploding"

    def collect(self):
        yield GaugeMetricFamily("regie_test_partial", "Yielded before the failure.", value=1)
        raise OSError("simulated /proc read failure")


class Fine:
    name = "fine"

    def collect(self):
        yield GaugeMetricFamily("regie_test_fine", "A healthy collector.", value=42)


def test_failing_collector_drops_only_its_own_metrics(caplog):
    registry = CollectorRegistry()
    registry.register(HealthMetrics([Exploding(), Fine()]))
    with caplog.at_level(logging.WARNING):
        text = generate_latest(registry).decode()
        generate_latest(registry)  # a second failing scrape logs nothing new
    assert registry.get_sample_value("regie_test_fine") == 42
    assert "regie_test_partial" not in text
    assert registry.get_sample_value("regie_agent_collector_success",
                                     {"collector": "exploding"}) == 0
    assert registry.get_sample_value("regie_agent_collector_success", {"collector": "fine"}) == 1
    assert registry.get_sample_value("regie_agent_collector_duration_seconds",
                                     {"collector": "fine"}) >= 0
    failures = [r for r in caplog.records if "exploding failed" in r.getMessage()]
    assert len(failures) == 1


@pytest.fixture(scope="module")
def full_registry() -> CollectorRegistry:
    return build_registry(HealthMetrics(build_collectors(HealthSettings())))


def test_every_collector_on_this_host_succeeds(full_registry):
    generate_latest(full_registry)
    built = {c.name for c in build_collectors(HealthSettings())}
    assert built >= {"cpu", "memory", "filesystem", "disk", "network", "system", "processes"}
    for name in built:
        assert full_registry.get_sample_value("regie_agent_collector_success",
                                              {"collector": name}) == 1, name


@pytest.mark.parametrize(
    ("metric", "labels"),
    [
        ("regie_cpu_seconds_total", {"mode": "user"}),
        ("regie_cpu_utilisation_ratio", {}),
        ("regie_cpus_online", {}),
        ("regie_load1", {}),
        ("regie_memory_total_bytes", {}),
        ("regie_memory_available_bytes", {}),
        ("regie_swap_total_bytes", {}),
        ("regie_boot_time_seconds", {}),
        ("regie_uptime_seconds", {}),
        ("regie_filefd_allocated", {}),
        ("regie_threads", {}),
        ("regie_processes", {"state": "sleeping"}),
        ("regie_network_receive_bytes_total", {"device": "lo"}),
        ("regie_agent_build_info", None),
        ("process_resident_memory_bytes", {}),
    ],
)
def test_metric_present(full_registry, metric, labels):
    if labels is None:
        text = generate_latest(full_registry).decode()
        assert f"\n{metric}{{" in text
    else:
        assert full_registry.get_sample_value(metric, labels) is not None


def test_root_filesystem_and_ratio_bounds(full_registry):
    text = generate_latest(full_registry).decode()
    assert 'mountpoint="/"' in text
    for line in text.splitlines():
        if line.startswith(("regie_filesystem_used_ratio", "regie_cpu_utilisation_ratio",
                            "regie_memory_used_ratio")):
            assert 0.0 <= float(line.rsplit(" ", 1)[1]) <= 1.0, line


def test_disabled_collector_is_absent():
    registry = build_registry(HealthMetrics(build_collectors(HealthSettings(disable=("cpu",)))))
    assert registry.get_sample_value("regie_cpu_utilisation_ratio") is None
    assert registry.get_sample_value("regie_memory_total_bytes") == psutil.virtual_memory().total


def test_table_names_match_collector_names():
    for collector in build_collectors(HealthSettings()):
        assert collector.name in COLLECTORS


def test_promtool_check_metrics_is_clean(full_registry):
    promtool = require_binary("promtool")
    result = subprocess.run([promtool, "check", "metrics"], input=generate_latest(full_registry),
                            capture_output=True, timeout=60, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, b"")
