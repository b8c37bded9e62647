"""deploy/prometheus/ and deploy/alertmanager/ as shipped: `promtool check config` passes on
the file_sd configuration and on its http_sd alternative (with real exported rules), the
example target file has the generated file's shape, and the Alertmanager route groups by and
passes on `host`."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import yaml

from alerting.ticket import Criticality
from collector.payloads.inventory import ScrapeEndpoint
from collector.prometheus_sd import Target, file_sd_text
from tests.collector.conftest import regie
from tests.deploy.prometheus_config import (
    AGENT_JOB,
    COLLECTOR_JOB,
    ROOT,
    http_sd_block,
    job,
    local_config,
    shipped,
    write_config,
)
from tests.services import require_binary
from tests.tls import make_tls

ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"


def promtool_check(path: Path) -> str:
    result = subprocess.run([require_binary("promtool"), "check", "config", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_both_discoveries_pass_promtool(tmp_path):
    rules = [tmp_path / "regie-rules.yml", tmp_path / "regie-recording-rules.yml"]
    # The bundled rules and the dashboards' recording rules, exported as the docs do.
    regie("rules", "export", "--out", str(rules[0]))
    regie("rules", "export", "--format", "recording", "--out", str(rules[1]))
    ca = make_tls(tmp_path).ca
    file_sd = local_config(tmp_path, collector="127.0.0.1:8847", rule_files=rules,
                           alertmanager="127.0.0.1:9093", ca_file=ca, interval="30s")
    http_sd = local_config(tmp_path, http_sd="http://127.0.0.1:8847",
                           collector="127.0.0.1:8847", rule_files=rules,
                           alertmanager="127.0.0.1:9093", ca_file=ca, interval="30s")
    for name, config in (("file", file_sd), ("http", http_sd)):
        out = promtool_check(write_config(tmp_path, config, f"{name}.yml"))
        assert out.count("rules found") == 2 and "SUCCESS" in out
    assert "http_sd_configs" in job(http_sd, AGENT_JOB)
    assert "file_sd_configs" not in job(http_sd, AGENT_JOB)


def test_shipped_jobs_scrape_agents_and_the_collector():
    config = shipped()
    names = [j["job_name"] for j in config["scrape_configs"]]
    assert names == [AGENT_JOB, COLLECTOR_JOB]
    agents = job(config, AGENT_JOB)
    assert agents["file_sd_configs"][0]["files"] == ["/etc/prometheus/regie/agents.yml"]
    # The agents' scheme is per target (__scheme__), not fixed for the job.
    assert "scheme" not in agents
    relabel = agents["relabel_configs"][0]
    assert (relabel["target_label"], relabel["source_labels"]) == ("host", ["host",
                                                                            "__address__"])
    # The collector's own series carry `host` labels of their own: no target label may
    # overwrite them (they would become exported_host).
    own = job(config, COLLECTOR_JOB)
    assert "relabel_configs" not in own
    assert "credentials_file" in own["authorization"]
    assert config["rule_files"] == ["/etc/prometheus/regie-rules.yml",
                                    "/etc/prometheus/regie-recording-rules.yml"]
    # Both discoveries authenticate as "Bearer" explicitly: Prometheus 2.42's http_sd sends the
    # bare token without it (seen against the collector: 401).
    assert own["authorization"]["type"] == "Bearer"
    (sd,) = http_sd_block()["http_sd_configs"]
    assert sd["authorization"]["type"] == "Bearer"
    assert sd["url"].endswith("/api/v1/prometheus/targets")


def test_example_targets_have_the_generated_shape():
    """deploy/prometheus/agents.yml shows what the CLI writes: the same keys, in order."""
    example = yaml.safe_load((ROOT / "deploy" / "prometheus" / "agents.yml").read_text())
    generated = yaml.safe_load(file_sd_text([Target(
        host="web-01", criticality=Criticality.HIGH,
        endpoint=ScrapeEndpoint("web-01.example.net:9847", "https",
                                {"site": "par1", "role": "web"}))], yaml_format=True))
    assert list(example[0]) == list(generated[0]) == ["targets", "labels"]
    assert list(example[0]["labels"]) == list(generated[0]["labels"])
    assert example[0] == generated[0]


def test_alertmanager_route_groups_by_host_and_passes_it_on():
    config = yaml.safe_load(ALERTMANAGER.read_text())
    assert "host" in config["route"]["group_by"]
    (receiver,) = config["receivers"]
    (hook,) = receiver["webhook_configs"]
    # The webhook sends every label of every alert; the collector names the ticket's host
    # from `host` (tests/collector/test_alerting_paths.py follows one through).
    assert hook["url"].endswith("/api/v1/alertmanager")
    assert hook["send_resolved"] is True


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       empty_lines_in_values=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((ROOT / "deploy" / "systemd" / name).read_text())
    return parser


def test_target_refresh_units():
    """deploy/systemd/regie-prometheus-targets.{service,timer}: the command the docs give,
    writing where prometheus.yml reads, hardened as the collector's unit, every minute."""
    service = _unit("regie-prometheus-targets.service")["Service"]
    command = service["ExecStart"].split()
    assert command[:3] == ["/opt/regie/bin/regie", "deploy", "prometheus-targets"]
    out = command[command.index("--out") + 1]
    assert [out] == job(shipped(), AGENT_JOB)["file_sd_configs"][0]["files"]
    # The docs' procedure writes the same file ($P is /etc/prometheus on the host).
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert "`P=/etc/prometheus`" in operations
    assert ("regie deploy prometheus-targets --out "
            + out.replace("/etc/prometheus", "$P")) in operations
    assert "deploy/systemd/regie-prometheus-targets.timer" in operations
    collector = _unit("regie-collector.service")["Service"]
    for key in ("User", "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp",
                "PrivateDevices", "CapabilityBoundingSet", "RestrictSUIDSGID",
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups",
                "SystemCallFilter", "RestrictAddressFamilies"):
        assert service.get(key) == collector.get(key), key
    # It may write the target file's directory, and the SQLite WAL's shared memory.
    parser = _unit("regie-prometheus-targets.service")
    writable = parser.get("Service", "ReadWritePaths", raw=True)
    assert str(Path(out).parent) in writable and "/var/lib/regie" in writable
    timer = _unit("regie-prometheus-targets.timer")
    assert timer["Timer"]["OnUnitActiveSec"] == "1min"
    assert timer["Install"]["WantedBy"] == "timers.target"
