"""SNMP fixtures: one polling round over given targets (the snmpd itself is in ../conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from agent.config import SnmpSettings, SnmpTarget
from agent.snmp.service import SnmpService


@pytest.fixture
def poll() -> Iterator[Callable[..., tuple[SnmpService, CollectorRegistry]]]:
    """Run one SnmpService round over the given targets; services are closed afterwards."""
    services: list[SnmpService] = []

    def run(*targets: SnmpTarget, **settings: Any) -> tuple[SnmpService, CollectorRegistry]:
        service = SnmpService(SnmpSettings(targets=targets, **settings))
        services.append(service)
        service.poll_once()
        registry = CollectorRegistry()
        registry.register(service.collector())
        return service, registry

    yield run
    for service in services:
        service.close()

