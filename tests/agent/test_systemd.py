"""Failed systemd units.

This machine does not run systemd (no /run/systemd/system), so `systemctl` cannot answer
here: the collector is given captured `systemctl list-units --state=failed --plain
--no-legend` output instead, and the clock is injected to test the cache.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from agent.collectors.systemd import SystemdCollector, parse_failed_units

CAPTURED = (
    "nginx.service      loaded failed failed A high performance web server\n"
    "● backup.timer     loaded failed failed Nightly backup\n"
)


@pytest.mark.parametrize(
    ("output", "units"),
    [
        ("", []),
        (CAPTURED, ["nginx.service", "backup.timer"]),
        ("\n  \n", []),
    ],
)
def test_parse(output, units):
    assert parse_failed_units(output) == units


def test_metrics_and_cache():
    calls = []
    now = [0.0]

    def systemctl() -> str:
        calls.append(now[0])
        return CAPTURED if len(calls) == 1 else ""

    collector = SystemdCollector(cache_seconds=30, clock=lambda: now[0], systemctl=systemctl)
    registry = CollectorRegistry()
    registry.register(collector)
    assert registry.get_sample_value("regie_systemd_units_failed") == 2
    assert registry.get_sample_value("regie_systemd_unit_failed",
                                     {"unit": "nginx.service"}) == 1
    now[0] = 29.0  # within the cache: systemctl is not asked again
    assert registry.get_sample_value("regie_systemd_units_failed") == 2
    now[0] = 31.0
    assert registry.get_sample_value("regie_systemd_units_failed") == 0
    assert calls == [0.0, 31.0]


def test_not_offered_without_systemd():
    """On this machine systemd is not PID 1, so the factory declines (not a failure)."""
    assert SystemdCollector.if_available(cache_seconds=30) is None
