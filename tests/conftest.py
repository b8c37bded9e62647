"""Fixtures that start real components (see tests/services.py for the mechanics)."""

from __future__ import annotations

import contextlib
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import free_port, http_get, http_ok, require_binary, running


@dataclass(frozen=True)
class Service:
    url: str
    port: int


@pytest.fixture(scope="session")
def node_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A real prometheus-node-exporter on a loopback port (systemd collector off: no D-Bus).

    Debian patches node_exporter's defaults (it also hides /run, /mnt, /media and lo), so the
    exclusions are set to the agent's documented defaults: both then look at the same devices
    (filesystems, interfaces, and disks: the agent also leaves out zram).
    """
    from agent.config import (
        DEFAULT_EXCLUDE_DISKS,
        DEFAULT_EXCLUDE_FSTYPES,
        DEFAULT_EXCLUDE_MOUNTPOINTS,
    )

    binary = require_binary("prometheus-node-exporter")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("node_exporter") / "node_exporter.log"
    argv = [binary, f"--web.listen-address=127.0.0.1:{port}", "--no-collector.systemd",
            f"--collector.filesystem.mount-points-exclude={DEFAULT_EXCLUDE_MOUNTPOINTS}",
            f"--collector.filesystem.fs-types-exclude={DEFAULT_EXCLUDE_FSTYPES}",
            "--collector.netdev.device-exclude=^$",
            f"--collector.diskstats.device-exclude={DEFAULT_EXCLUDE_DISKS}"]
    with running(argv, log=log, ready=lambda: http_ok(f"{url}/metrics")):
        yield Service(url=url, port=port)


@pytest.fixture
def start_prometheus(tmp_path: Path):
    """Factory: a real Prometheus scraping the given targets every second on a loopback port."""
    binary = require_binary("prometheus")
    stack = contextlib.ExitStack()

    def start(targets: list[str], *, scheme: str = "http", ca_file: Path | None = None,
              rule_files: list[Path] = (), alertmanager: str | None = None) -> Service:
        port = free_port()
        config = tmp_path / "prometheus.yml"
        tls = f"    tls_config:\n      ca_file: {ca_file}\n" if ca_file else ""
        rules = f"rule_files: {json.dumps([str(r) for r in rule_files])}\n" if rule_files else ""
        alerting = ("alerting:\n  alertmanagers:\n    - static_configs:\n"
                    f"        - targets: [{json.dumps(alertmanager)}]\n") if alertmanager else ""
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"{rules}{alerting}"
            "scrape_configs:\n  - job_name: regie\n"
            f"    scheme: {scheme}\n{tls}"
            "    static_configs:\n"
            f"      - targets: {json.dumps(targets)}\n"
        )
        url = f"http://127.0.0.1:{port}"
        argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={url}",
                "--web.enable-lifecycle"]
        stack.enter_context(running(argv, log=tmp_path / "prometheus.log",
                                    ready=lambda: http_ok(f"{url}/-/ready")))
        return Service(url=url, port=port)

    with stack:
        yield start


def prometheus_query(url: str, promql: str) -> list[dict]:
    """The result vector of an instant query against a real Prometheus."""
    body = http_get(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.fixture
def start_alertmanager(tmp_path: Path):
    """Factory: a real Alertmanager (gossip off) with the given configuration text."""
    binary = require_binary("prometheus-alertmanager")
    stack = contextlib.ExitStack()

    def start(config: str) -> Service:
        port = free_port()
        conf = tmp_path / f"alertmanager-{port}.yml"
        conf.write_text(config)
        url = f"http://127.0.0.1:{port}"
        argv = [binary, f"--config.file={conf}", f"--storage.path={tmp_path / f'am-{port}'}",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                f"--web.external-url={url}"]
        stack.enter_context(running(argv, log=tmp_path / f"alertmanager-{port}.log",
                                    ready=lambda: http_ok(f"{url}/-/ready")))
        return Service(url=url, port=port)

    with stack:
        yield start
