"""deploy/collector.example.toml and deploy/systemd/regie-collector.service, as shipped.

systemd does not run here (`systemd-analyze verify` needs it), so the unit is parsed and its
hardening directives checked; the config path its ExecStart names must be the one the docs
install the example to.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from collector.config import load_settings
from regie.installation import SYSTEM_FILE, load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "collector.example.toml"
UNIT = ROOT / "deploy" / "systemd" / "regie-collector.service"


def test_example_loads_as_shipped():
    settings = load_settings(EXAMPLE)
    assert settings.database.url == "sqlite:////var/lib/regie/regie.db"
    assert settings.server.listen == "127.0.0.1:8847"
    assert load(EXAMPLE).api_url == "http://127.0.0.1:8847"


def test_example_loads_with_every_example_uncommented(tmp_path):
    lines = []
    for line in EXAMPLE.read_text().splitlines():
        stripped = line.lstrip("# ")
        is_example = line.startswith("# ") and ("=" in stripped or stripped.startswith("["))
        lines.append(stripped if is_example else line)
    text = "\n".join(lines)
    for name in re.findall(r'"/etc/regie/([^"]+)"', text):
        local = tmp_path / name.replace("/", "-")
        local.write_text("0123456789abcdef0123456789abcdef\n")
        local.chmod(0o600)  # secret files readable by others are refused
        if name.endswith(".yml"):
            local.write_text(_yaml(name))
        text = text.replace(f'"/etc/regie/{name}"', f'"{local}"')
    uncommented = tmp_path / "regie.toml"
    uncommented.write_text(text)
    settings = load_settings(uncommented)
    assert settings.evaluator.targets[0].host == "web-01"
    assert settings.oncall.enabled
    assert str(settings.criticality.hosts["db-01"]) == "business-critical"
    assert load(uncommented).cli.url == "https://regie.example.net:8847"


def _yaml(name: str) -> str:
    """Valid stand-ins for the example's YAML files (their formats have their own tests)."""
    if name == "oncall.yml":
        return (ROOT / "deploy" / "oncall.example.yml").read_text()
    if name == "rules.yml":
        return (ROOT / "collector" / "data" / "default_rules.yml").read_text()
    return (ROOT / "collector" / "data" / "default_escalation.yml").read_text()


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       empty_lines_in_values=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_unit_is_hardened_like_the_agent():
    service = unit()["Service"]
    required = {
        "User": "regie", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
        "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
        "StateDirectory": "regie", "ReadWritePaths": "/var/lib/regie",
        "CapabilityBoundingSet": "", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
        "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes", "UMask": "0077",
    }
    assert {k: service.get(k) for k in required} == required
    assert "AF_INET" in service["RestrictAddressFamilies"]
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_unit_runs_the_installation_the_docs_install():
    exec_start = unit()["Service"]["ExecStart"].split()
    assert exec_start[:3] == ["/opt/regie/bin/regie", "collector", "run"]
    config = Path(exec_start[exec_start.index("--config") + 1])
    assert config == SYSTEM_FILE  # where every command finds it without a flag
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert f"deploy/collector.example.toml {config}" in operations
    assert "deploy/systemd/regie-collector.service" in operations
    # The database the example names is in the unit's writable state directory.
    database = load_settings(EXAMPLE).database.url.removeprefix("sqlite:///")
    assert Path(database).parent == Path(unit()["Service"]["ReadWritePaths"])
