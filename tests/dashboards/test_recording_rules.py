"""The dashboards' recording rules as Prometheus loads them: `promtool check rules` clean, and
`promtool test rules` (recording_rules_test.yml) proves each one's value on known series."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from dashboards import recording_rules
from tests.collector.conftest import regie
from tests.services import require_binary

HERE = Path(__file__).resolve().parent


def exported(tmp_path: Path) -> Path:
    out = tmp_path / "recording.yml"
    regie("rules", "export", "--format", "recording", "--out", str(out))
    return out


def test_promtool_checks_the_exported_rules(tmp_path):
    result = subprocess.run([require_binary("promtool"), "check", "rules",
                             str(exported(tmp_path))], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(recording_rules.RULES)} rules found" in result.stdout


def test_promtool_unit_tests_cover_every_recording_rule(tmp_path):
    exported(tmp_path)
    tests = HERE / "recording_rules_test.yml"
    shutil.copy(tests, tmp_path / tests.name)
    # Every rule has an expectation: a rule added without one fails here.
    document = yaml.safe_load(tests.read_text())
    tested = {case["expr"] for group in document["tests"]
              for case in group["promql_expr_test"]}
    assert tested == set(recording_rules.NAMES)
    result = subprocess.run([require_binary("promtool"), "test", "rules",
                             str(tmp_path / tests.name)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_names_follow_level_metric_operations():
    for rule in recording_rules.RULES:
        level, metric, operations = rule.record.split(":")
        assert level and operations, rule.record
        assert metric.startswith("regie_"), rule.record
