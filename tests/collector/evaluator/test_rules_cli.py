"""`regie rules check|export`, called through its `main()` as `regie` calls it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from alerting.rule_export import to_alertmanager_inhibit_rules, to_prometheus
from collector.rules_cli import main
from collector.rules_file import default_rules_source, load_rule_set, load_rules
from collector.runbooks import linked
from tests.services import require_binary

SHIPPED_ALERTMANAGER = (Path(__file__).resolve().parents[3] / "deploy" / "alertmanager"
                        / "alertmanager.yml")

pytestmark = pytest.mark.services

GOOD = """\
rules:
  - name: RootFull
    metric: regie_filesystem_used_ratio
    labels: {mountpoint: /}
    op: ">="
    value: 0.95
    for: 5m
    urgency: high
    component: filesystem
    summary: "{{ labels.mountpoint }} on {{ host }} is {{ value | humanizePercentage }} full"
  - name: Load
    metric: regie_load1
    op: ">"
    value: 32
    urgency: low
    component: cpu
    summary: "load {{ value }} on {{ host }}"
"""


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(GOOD)
    return path


def promtool_check(path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary("promtool"), "check", "rules", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_check_bundled(capsys):
    assert main(["check"]) == 0
    rule_set = load_rule_set(None)
    count, inhibit = len(rule_set.rules), len(rule_set.inhibit_rules)
    assert inhibit >= 1
    assert capsys.readouterr().out == (f"{default_rules_source()}: {count} rules, {inhibit} "
                                       f"inhibit rule{'s' if inhibit > 1 else ''} ok\n")


def test_check_a_file(rules_file, capsys):
    assert main(["check", "--rules", str(rules_file)]) == 0
    assert capsys.readouterr().out == f"{rules_file}: 2 rules, 0 inhibit rules ok\n"


def test_check_a_bad_file_prints_one_line_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yml"
    bad.write_text(GOOD.replace('op: ">"', 'op: "=>"'))
    assert main(["check", "--rules", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"regie rules: {bad}: rules[1].op: must be one of >, >=, <, <=, ==, !=, "
                   f"not '=>'\n")


def test_yaml_errors_and_missing_files_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.yml"
    broken.write_text("rules:\n  - name: [x\n")
    assert main(["check", "--rules", str(broken)]) == 2
    assert main(["export", "--rules", str(tmp_path / "nope.yml"), "--out", "-"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"regie rules: {broken}: invalid YAML at line 3")
    assert lines[1].startswith(f"regie rules: {tmp_path / 'nope.yml'}: cannot read")


def test_export_writes_a_file_promtool_accepts(rules_file, tmp_path, capsys):
    out = tmp_path / "prometheus" / "regie-rules.yml"
    out.parent.mkdir()
    assert main(["export", "--rules", str(rules_file), "--out", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote 2 rules to {out}\n"
    assert yaml.safe_load(out.read_text()) == to_prometheus(load_rules(rules_file))
    result = promtool_check(out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rules found" in result.stdout


def test_export_bundled_to_stdout(tmp_path, capsys):
    assert main(["export", "--out", "-"]) == 0
    text = capsys.readouterr().out
    # No installation here, so no oncall.public_url: the bundled runbooks' links are paths.
    assert yaml.safe_load(text) == to_prometheus(linked(load_rules(None), ""))
    assert yaml.safe_load(text)["groups"][0]["rules"][0]["annotations"]["runbook_url"] == \
        "/runbooks/RegieAgentDown"
    path = tmp_path / "stdout.yml"
    path.write_text(text)
    assert promtool_check(path).returncode == 0


def test_export_to_an_unwritable_place_exits_1(rules_file, tmp_path, capsys):
    out = tmp_path / "no-such-dir" / "rules.yml"
    assert main(["export", "--rules", str(rules_file), "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith(f"regie rules: {out}: cannot write")


@pytest.mark.parametrize("argv", [[], ["export"], ["frobnicate"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage: regie rules" in capsys.readouterr().err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"], prog="regie rules")
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "regie rules export --out" in out
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "'-' for stdout" in capsys.readouterr().out


def test_export_inhibit_rules_for_alertmanager(tmp_path, capsys):
    """The bundled rules' inhibit rules, as alertmanager.yml's section: amtool accepts a
    configuration carrying them, and the shipped alertmanager.yml carries exactly them."""
    out = tmp_path / "inhibit.yml"
    assert main(["export", "--format", "alertmanager", "--out", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote the inhibit rules to {out}\n"
    exported = yaml.safe_load(out.read_text())
    rule_set = load_rule_set(None)
    assert exported == to_alertmanager_inhibit_rules(rule_set)
    # The host-down rule first, then the file's own, each source required to carry a host.
    assert len(exported["inhibit_rules"]) == 1 + len(rule_set.inhibit_rules)
    assert exported["inhibit_rules"][1] == {
        "source_matchers": ['alertname="FilesystemAlmostFull"', 'host=~".+"'],
        "target_matchers": ['alertname="FilesystemFilling"'],
        "equal": ["host", "mountpoint", "device"]}
    shipped = yaml.safe_load(SHIPPED_ALERTMANAGER.read_text())
    assert shipped["inhibit_rules"] == exported["inhibit_rules"], (
        "deploy/alertmanager/alertmanager.yml's inhibit_rules differ from "
        "'regie rules export --format alertmanager'")
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump({
        "route": {"receiver": "regie"},
        "receivers": [{"name": "regie",
                       "webhook_configs": [{"url": "http://127.0.0.1:8847/x"}]}],
        **exported}))
    result = subprocess.run([require_binary("amtool"), "check-config", str(config)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f" - {len(exported['inhibit_rules'])} inhibit rules" in result.stdout


def test_a_bad_inhibit_rule_is_refused_with_its_key(tmp_path, capsys):
    bad = tmp_path / "bad.yml"
    bad.write_text(GOOD + """
inhibit_rules:
  - source_matchers: ['alertname="A"']
    target_matchers: ['alertname=~"("']
    equal: [host]
""")
    assert main(["check", "--rules", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"regie rules: {bad}: inhibit_rules[0].target_matchers[0]: ")
    assert "not a regular expression" in err
