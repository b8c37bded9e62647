"""docs/ stays true to the code: every exposed metric is documented, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.collectors import build_collectors
from agent.collectors.sensors import TemperatureCollector
from agent.collectors.systemd import SystemdCollector
from agent.config import HealthSettings, PushSettings
from agent.exposition import HealthMetrics, build_registry
from agent.snmp import oids
from agent.snmp.metrics import SnmpMetrics
from agent.snmp.sample import build_sample

ROOT = Path(__file__).resolve().parents[1]


def documented_metrics() -> set[str]:
    text = (ROOT / "docs" / "metrics.md").read_text()
    return set(re.findall(r"^\| `(regie_[a-z0-9_]+)` \|", text, flags=re.MULTILINE))


def exposed_metrics(tmp_path: Path) -> set[str]:
    """Names from the real collectors. Host-dependent ones (no hwmon sensors, no systemd here)
    are constructed directly; SNMP gets a sample with every OID of the table answered."""
    from agent.push import PushService

    full = SnmpMetrics(lambda: [build_sample(
        "t", duration_seconds=0.1,
        system={o.field: 1 for o in oids.SYSTEM},
        tables={table: {"1": {c.field: 1 for c in columns}}
                for table, columns in oids.TABLES.items()},
    )])
    push = PushService(PushSettings(collector="http://127.0.0.1:9", spool_dir=tmp_path),
                       token=None, inventory=dict)
    extra = [TemperatureCollector(),
             SystemdCollector(cache_seconds=0, systemctl=lambda: "a.service loaded failed\n"),
             full, push.collector()]
    registry = build_registry(HealthMetrics(build_collectors(HealthSettings())), extra)
    registries = [registry, collector_registry()]
    suffix = {"counter": "_total", "info": "_info"}
    names = set()
    for family in (f for r in registries for f in r.collect()):
        if family.type in ("histogram", "summary"):  # one documented name, several series
            names.add(family.name)
            continue
        names.update(sample.name for sample in family.samples)
        if not family.samples:  # e.g. no hwmon sensors on this host: the name as exposed
            names.add(family.name + suffix.get(family.type, ""))
    return {n for n in names if n.startswith("regie_")}


def collector_registry():
    """The collector's registry with one sample in each labelled family."""
    from collector.metrics import CollectorMetrics

    metrics = CollectorMetrics()
    metrics.created.labels("P1", "disk", "user").inc()
    metrics.resolved.labels("P1", "disk").inc()
    metrics.signals.labels("alertmanager", "created").inc()
    metrics.rejected.labels("/api/v1/tickets", "400").inc()
    metrics.time_to_ack.labels("P1").observe(60)
    metrics.time_to_resolve.labels("P1").observe(600)
    # The embedded evaluator's families, registered by the app when targets are configured.
    from collector.evaluator import Evaluator, EvaluatorMetrics, EvaluatorTarget

    evaluator = Evaluator([EvaluatorTarget("127.0.0.1:9847", "web-01")], (),
                          interval_seconds=1, ingest=None, session=None)
    metrics.registry.register(EvaluatorMetrics(evaluator))
    # The maintenance gauges, registered by the app at start (collector/maintenance.py).
    from datetime import UTC, datetime

    from collector.maintenance import Maintenance

    metrics.registry.register(Maintenance(None, clock=lambda: datetime.now(UTC)).gauges)
    return metrics.registry


@pytest.fixture
def exposed(tmp_path):
    return exposed_metrics(tmp_path)


def test_every_exposed_metric_is_documented(exposed):
    assert exposed - documented_metrics() == set()


def test_every_documented_metric_is_exposed(exposed):
    assert documented_metrics() - exposed == set()
