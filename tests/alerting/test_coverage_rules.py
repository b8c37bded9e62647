"""The bundled rules beyond plain thresholds, fed the same samples in Prometheus's rule engine
(`promtool test rules`) and in the embedded evaluator: every rule fires at the same minute with
the same labels and text in both, and stays quiet in both where it should (a fresh filesystem
filled once, a shrinking trend, a guard not met).

Time starts at the Unix epoch in both (promtool's series begin at 0), so rules on timestamps
(`time_until`, `time_since`) see the same `time()`. Each case lists the minutes at which the
evaluator must fire and must not: the comparison alone could agree on "never".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from alerting.range_functions import predict_linear
from alerting.rule_export import alerting_rule, to_prometheus
from alerting.rule_templates import render
from alerting.rules import Evaluation, Rule, Sample
from collector.rules_file import load_rule_set
from collector.runbooks import linked
from tests.alerting.test_rule_export import promtool, scrape_labels

pytestmark = pytest.mark.services

RULE_SET = load_rule_set(None)
# With the runbook links the collector gives them (collector/runbooks.py), as exported.
BY_NAME = {r.name: r for r in linked(RULE_SET.rules, "https://regie.example.org")}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STALE = "stale"
GB = 1e9
DAY = 86400


@dataclass(frozen=True)
class Series:
    host: str
    metric: str
    values: tuple[float | str, ...]      # one per step from 0; STALE: absent at that step
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    rules: tuple[str, ...]
    series: tuple[Series, ...]
    must_fire: tuple[tuple[int, str, str], ...]         # (step, rule, host)
    must_not_fire: tuple[tuple[str, str], ...] = ()     # (rule, host): never, at any step
    quiet_at: tuple[tuple[int, str, str], ...] = ()     # (step, rule, host): resolved by then
    step_minutes: int = 1
    check_every: int = 1                                # compare at every n-th step

    @property
    def steps(self) -> int:
        return max(len(s.values) for s in self.series)


def ramp(start: float, per_step: float, steps: int) -> tuple[float, ...]:
    return tuple(start + per_step * i for i in range(steps))


FS = {"device": "/dev/vdb1", "fstype": "ext4", "mountpoint": "/srv"}


def filesystem(host: str, avail: tuple[float, ...], *, size: float = 100 * GB,
               labels: dict[str, str] = FS) -> tuple[Series, ...]:
    used = tuple(v if v == STALE else 1 - v / size for v in avail)
    return (Series(host, "regie_filesystem_avail_bytes", avail, labels),
            Series(host, "regie_filesystem_used_ratio", used, labels),
            Series(host, "regie_filesystem_readonly", tuple(0 if v != STALE else STALE
                                                            for v in avail), labels))


EIGHT_HOURS = 8 * 60
# Filling 1.5 GB an hour from 40 GB free: 24-hour prediction below zero from the start, but only
# a series 6 h old is predicted, and the guard (more than 60% used) holds throughout.
FILLING = ramp(40 * GB, -1.5 * GB / 60, EIGHT_HOURS)
# A fresh filesystem filled once: 100 GB free, a restore takes 70 GB within 10 minutes, then flat.
FRESH = tuple([100 * GB] * 5 + [100 * GB - 14 * GB * i for i in range(1, 6)]
              + [30 * GB] * (EIGHT_HOURS - 10))
# Filling 3.5 GB an hour from 30 GB free for 7 hours, then shrinking (6 GB an hour freed) while
# still over 80% used: the 4-hour prediction fires, then resolves on the trend alone.
CLEANED = ramp(30 * GB, -3.5 * GB / 60, 7 * 60) + ramp(5.5 * GB, 7 * GB / 60, 120)


CASES: dict[str, Case] = {
    "predicted full: filling, fresh, shrinking": Case(
        ("FilesystemPredictedFullIn24h", "FilesystemPredictedFullIn4h"),
        (*filesystem("filling", FILLING), *filesystem("fresh", FRESH),
         *filesystem("cleaned", CLEANED)),
        must_fire=((7 * 60, "FilesystemPredictedFullIn24h", "filling"),
                   (7 * 60, "FilesystemPredictedFullIn4h", "cleaned")),
        # Still over 80% used at step 520 (the guard holds): resolved by the trend alone.
        quiet_at=((520, "FilesystemPredictedFullIn4h", "cleaned"),),
        must_not_fire=(("FilesystemPredictedFullIn24h", "fresh"),
                       ("FilesystemPredictedFullIn4h", "fresh"),
                       ("FilesystemPredictedFullIn4h", "filling")),
    ),
    "a slow leak over days (2-minute samples)": Case(
        ("FilesystemFullWithinAWeek", "MemoryLeakSuspected"),
        (*filesystem("leaky", ramp(60 * GB, -8 * GB / 720, 1800)),
         *filesystem("steady", ramp(60 * GB, 0, 1800)),
         Series("leaky", "regie_memory_available_bytes", ramp(8 * GB, -2 * GB / 720, 1800)),
         Series("steady", "regie_memory_available_bytes",
                tuple(8 * GB + (0.5 * GB if i % 2 else 0) for i in range(1800)))),
        must_fire=((2 * 720 + 180, "FilesystemFullWithinAWeek", "leaky"),
                   (720 + 181, "MemoryLeakSuspected", "leaky")),
        must_not_fire=(("FilesystemFullWithinAWeek", "steady"),
                       ("MemoryLeakSuspected", "steady")),
        step_minutes=2, check_every=5,
    ),
    "counters: OOM kills, page faults, swap, pressure, errors, disks": Case(
        ("OomKill", "MemoryMajorPageFaultsHigh", "SwapInHigh", "MemoryPressureStalling",
         "NetworkReceiveErrors", "NetworkTransmitErrors", "DiskIoSaturated",
         "NetworkInterfaceFlapping"),
        (Series("web1", "regie_vmstat_oom_kills_total", (0,) * 20 + (1,) * 20 + (3,) * 30),
         Series("web1", "regie_vmstat_major_page_faults_total",
                ramp(0, 600 * 60, 40) + ramp(600 * 60 * 40, 50 * 60, 30)),
         # A counter reset (the host rebooted) is not a burst of swapping.
         Series("web1", "regie_vmstat_pages_swapped_in_total",
                ramp(1e6, 10 * 60, 30) + ramp(0, 10 * 60, 40)),
         Series("web1", "regie_pressure_stalled_seconds_total",
                ramp(0, 0.3 * 60, 70), {"resource": "memory"}),
         Series("web1", "regie_pressure_stalled_seconds_total",
                ramp(0, 0.9 * 60, 70), {"resource": "io"}),
         Series("web1", "regie_network_receive_errors_total", ramp(0, 20, 70),
                {"device": "eth0"}),
         Series("web1", "regie_network_receive_errors_total", ramp(0, 1, 70),
                {"device": "eth1"}),
         # Transmit errors: 15 every 2 minutes on eth0 (over 10 once the window holds two
         # minutes, firing an hour later), 5 on eth1 (under the threshold).
         Series("web1", "regie_network_transmit_errors_total", ramp(0, 7.5, 70),
                {"device": "eth0"}),
         Series("web1", "regie_network_transmit_errors_total", ramp(0, 2.5, 70),
                {"device": "eth1"}),
         Series("web1", "regie_disk_io_time_seconds_total", ramp(0, 57, 70),
                {"device": "sda"}),
         Series("web1", "regie_network_carrier_changes_total",
                (0,) * 10 + ramp(1, 1, 10) + (10,) * 50, {"device": "eth2"})),
        must_fire=((20, "OomKill", "web1"), (40, "OomKill", "web1"),
                   (20, "MemoryMajorPageFaultsHigh", "web1"),
                   (17, "MemoryPressureStalling", "web1"),
                   (61, "NetworkReceiveErrors", "web1"), (62, "NetworkTransmitErrors", "web1"),
                   (35, "DiskIoSaturated", "web1"),
                   (14, "NetworkInterfaceFlapping", "web1")),
        must_not_fire=(("SwapInHigh", "web1"),),
    ),
    "clock, RAID, bond, tables and limits": Case(
        ("ClockNotSynchronising", "ClockSkew", "RaidDegraded", "RaidDiskFailed",
         "BondSlaveDown", "ConntrackTableFilling", "FileDescriptorsFilling",
         "FileDescriptorsAlmostExhausted", "CpuSaturated", "FilesystemFilesFilling",
         "FilesystemFilesAlmostFull"),
        (Series("a", "regie_timex_sync_status", (0,) * 20),
         Series("a", "regie_timex_maxerror_seconds", (16,) * 20),
         Series("b", "regie_timex_sync_status", (0,) * 20),       # just lost sync: error small
         Series("b", "regie_timex_maxerror_seconds", (0.5,) * 20),
         Series("a", "regie_timex_offset_seconds", (-0.08,) * 20),
         Series("b", "regie_timex_offset_seconds", (0.01,) * 20),
         Series("a", "regie_md_disks_missing", (0,) * 3 + (1,) * 17, {"device": "md1"}),
         Series("a", "regie_md_disks", (0,) * 3 + (1,) * 17, {"device": "md1", "state": "failed"}),
         Series("a", "regie_md_disks", (2,) * 20, {"device": "md1", "state": "active"}),
         Series("a", "regie_bonding_slave_up", (1,) * 5 + (0,) * 15,
                {"master": "bond0", "slave": "eno2"}),
         Series("a", "regie_conntrack_used_ratio", ramp(0.7, 0.01, 20)),
         Series("a", "regie_filefd_used_ratio", (0.75,) * 20),
         Series("a", "regie_load1_per_cpu", (2.5,) * 20),
         Series("a", "regie_filesystem_files_used_ratio", ramp(0.89, 0.01, 20), FS)),
        must_fire=((10, "ClockNotSynchronising", "a"), (10, "ClockSkew", "a"),
                   (18, "RaidDegraded", "a"), (3, "RaidDiskFailed", "a"),
                   (10, "BondSlaveDown", "a"), (11, "ConntrackTableFilling", "a"),
                   (15, "FileDescriptorsFilling", "a"), (15, "CpuSaturated", "a"),
                   (12, "FilesystemFilesFilling", "a"), (11, "FilesystemFilesAlmostFull", "a")),
        must_not_fire=(("ClockNotSynchronising", "b"), ("ClockSkew", "b"),
                       ("FileDescriptorsAlmostExhausted", "a")),
    ),
    "certificates, reboots and security updates by the clock": Case(
        ("CertificateExpiresSoon", "CertificateExpiresVerySoon", "CertificateFileUnreadable",
         "RebootRequiredForAWeek", "SecurityUpdatesPending", "FilesystemDeviceError",
         "SystemdUnitFailed"),
        (Series("web1", "regie_certificate_not_after_timestamp_seconds", (7 * DAY + 300,) * 12,
                {"path": "/etc/ssl/site.pem", "subject": "CN=www.example.net",
                 "issuer": "CN=Example CA", "serial": "1f"}),
         Series("web1", "regie_certificate_not_after_timestamp_seconds",
                (30 * DAY + 180,) * 12,
                {"path": "/etc/ssl/api.pem", "subject": "CN=api.example.net",
                 "issuer": "CN=Example CA", "serial": "2a"}),
         Series("web1", "regie_certificate_not_after_timestamp_seconds", (400 * DAY,) * 12,
                {"path": "/etc/ssl/far.pem", "subject": "CN=far.example.net",
                 "issuer": "CN=Example CA", "serial": "3b"}),
         Series("web1", "regie_reboot_required_since_timestamp_seconds",
                (-7 * DAY + 240,) * 12, {"reason": "kernel"}),
         Series("web2", "regie_reboot_required_since_timestamp_seconds",
                (-6 * DAY,) * 12, {"reason": "packages"}),
         Series("web1", "regie_updates_security_pending_since_timestamp_seconds",
                (-14 * DAY + 420,) * 12),
         # A file unreadable from minute 1 (fires 10 minutes later); web2's was unreadable for
         # 5 minutes only (never).
         Series("web1", "regie_certificate_file_error", (0,) + (1,) * 11,
                {"path": "/etc/ssl/gone.pem"}),
         Series("web2", "regie_certificate_file_error", (0,) + (1,) * 5 + (0,) * 6,
                {"path": "/etc/ssl/flaky.pem"}),
         # A dead NFS mount from minute 2, a unit failed from minute 3 (each fires 5 minutes
         # later); web2's unit failed for 3 minutes and was restarted (never).
         Series("web1", "regie_filesystem_device_error", (0, 0) + (1,) * 10,
                {"device": "nfs:/export", "fstype": "nfs4", "mountpoint": "/mnt/share"}),
         Series("web1", "regie_systemd_unit_failed", (0, 0, 0) + (1,) * 9,
                {"unit": "backup.service"}),
         Series("web2", "regie_systemd_unit_failed", (0, 1, 1, 1) + (0,) * 8,
                {"unit": "backup.service"})),
        must_fire=((0, "CertificateExpiresSoon", "web1"), (6, "CertificateExpiresVerySoon", "web1"),
                   (5, "RebootRequiredForAWeek", "web1"), (8, "SecurityUpdatesPending", "web1"),
                   (11, "CertificateFileUnreadable", "web1"),
                   (7, "FilesystemDeviceError", "web1"), (8, "SystemdUnitFailed", "web1")),
        must_not_fire=(("RebootRequiredForAWeek", "web2"), ("CertificateFileUnreadable", "web2"),
                       ("SystemdUnitFailed", "web2")),
    ),
}


def timeline(case: Case, rules: tuple[Rule, ...]) -> list[Evaluation]:
    evaluation = Evaluation(rules)
    states = []
    for step in range(case.steps):
        samples: dict[str, list[Sample]] = {}
        for s in case.series:
            value = s.values[step] if step < len(s.values) else STALE
            samples.setdefault(s.host, [])
            if value != STALE:
                samples[s.host].append(Sample(s.metric, s.labels, float(value)))
        now = EPOCH + timedelta(minutes=step * case.step_minutes)
        _, evaluation = evaluation.step(samples, now=now, up={})
        states.append(evaluation)
    return states


def expected(rule: Rule, evaluation: Evaluation) -> list[dict[str, Any]]:
    out = []
    exported = alerting_rule(rule)
    for (name, host, labels), state in sorted(evaluation.alerts.items()):
        if name != rule.name or not state.firing:
            continue
        label_map = dict(labels)
        annotations = {"summary": render(rule.summary, host=host, value=state.value,
                                         labels=label_map),
                       "description": render(rule.description, host=host, value=state.value,
                                             labels=label_map),
                       "runbook_url": rule.runbook_url}
        out.append({"exp_labels": {**label_map, **scrape_labels(host), **exported["labels"]},
                    "exp_annotations": annotations})
    return out


def series_line(s: Series) -> str:
    labels = {**s.labels, **scrape_labels(s.host)}
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{s.metric}{{{inner}}}"


def values_line(s: Series, case: Case) -> str:
    padded = s.values + (STALE,) * (case.steps - len(s.values))
    return " ".join(v if v == STALE else repr(float(v)) for v in padded)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_promtool_and_the_evaluator_agree(case, tmp_path):
    rules = tuple(BY_NAME[name] for name in case.rules)
    states = timeline(case, rules)
    for step, rule, host in case.must_fire:
        assert any(k[:2] == (rule, host) for k in states[step].firing), (
            f"the evaluator does not fire {rule} for {host} at step {step}")
        if step > 0 and BY_NAME[rule].for_seconds:
            assert not any(k[:2] == (rule, host) for k in states[step - 1].firing), (
                f"{rule} for {host} already fires at step {step - 1}: the case is not "
                "pinned to its first minute")
    for step, rule, host in case.quiet_at:
        assert not any(k[:2] == (rule, host) for k in states[step].firing), (step, rule, host)
    for rule, host in case.must_not_fire:
        assert not any(k[:2] == (rule, host) for s in states for k in s.firing), (rule, host)

    (tmp_path / "rules.yml").write_text(yaml.safe_dump(to_prometheus(rules), sort_keys=False))
    interval = f"{case.step_minutes}m"
    tests = [{"eval_time": f"{step * case.step_minutes}m", "alertname": rule.name,
              "exp_alerts": expected(rule, states[step])}
             for step in range(0, case.steps, case.check_every) for rule in rules]
    # The pinned steps are checked whatever check_every skips.
    tests += [{"eval_time": f"{step * case.step_minutes}m", "alertname": rule,
               "exp_alerts": expected(BY_NAME[rule], states[step])}
              for step, rule, _ in case.must_fire + case.quiet_at]
    unit = {"rule_files": ["rules.yml"], "evaluation_interval": interval,
            "tests": [{"interval": interval,
                       "input_series": [{"series": series_line(s), "values": values_line(s, case)}
                                        for s in case.series],
                       "alert_rule_test": tests}]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit, sort_keys=False, width=10**9))
    result = promtool("test", "rules", "test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_the_fresh_filesystem_would_be_predicted_full_without_the_age_guard():
    """The quiet 'fresh' case is quiet because of the guard, not by luck: the bare trend of
    its first hour does predict it full within 4 hours."""
    times = [60.0 * i for i in range(60)]
    prediction = predict_linear(times, list(FRESH[:60]), at=times[-1], ahead=4 * 3600)
    assert prediction is not None and prediction < 0


def test_every_rule_has_a_runbook_and_every_runbook_a_rule():
    from pathlib import Path

    runbooks = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
    names = {r.name for r in RULE_SET.rules}
    from collector.runbooks import Runbooks

    # No link in the file: the collector links each to its bundled page, at its own address.
    assert all(r.runbook_url is None for r in RULE_SET.rules)
    assert [r.runbook_url for r in linked(RULE_SET.rules, "https://regie.example.org/")] == [
        f"https://regie.example.org/runbooks/{r.name}" for r in RULE_SET.rules]
    assert Runbooks.bundled().names == names   # the installed package carries every page
    assert {p.stem for p in runbooks.glob("*.md")} - {"README"} == names
    for name in names:
        text = (runbooks / f"{name}.md").read_text()
        for heading in ("## What it means", "## Confirm", "## Act", "## Escalate"):
            assert heading in text, (name, heading)


def test_tiers_of_one_problem_are_tied_by_inhibition():
    """The lesser tier attaches to the greater: each pair below is inhibited on the same host
    and object, and never the other way round."""
    from alerting.inhibition import inhibited_by

    pairs = [("FilesystemAlmostFull", "FilesystemFilling"),
             ("FilesystemAlmostFull", "FilesystemPredictedFullIn4h"),
             ("FilesystemPredictedFullIn4h", "FilesystemPredictedFullIn24h"),
             ("FilesystemPredictedFullIn24h", "FilesystemFullWithinAWeek"),
             ("FilesystemFilling", "FilesystemFullWithinAWeek"),
             ("FilesystemFilesAlmostFull", "FilesystemFilesFilling"),
             ("FileDescriptorsAlmostExhausted", "FileDescriptorsFilling"),
             ("CertificateExpiresVerySoon", "CertificateExpiresSoon"),
             ("RaidDegraded", "RaidDiskFailed"),
             ("MemoryUsedHigh", "MemoryLeakSuspected")]
    obj = {"host": "web1", "mountpoint": "/srv", "device": "/dev/vdb1", "path": "/p",
           "serial": "1f"}
    rules = RULE_SET.inhibit_rules
    for greater, lesser in pairs:
        assert inhibited_by(rules, {**obj, "alertname": greater}, {**obj, "alertname": lesser})
        assert not inhibited_by(rules, {**obj, "alertname": lesser},
                                {**obj, "alertname": greater})
        other = {**obj, "host": "web2", "alertname": lesser}
        assert not inhibited_by(rules, {**obj, "alertname": greater}, other)
    # Urgency follows the tiers.
    urgency = {"high": 3, "medium": 2, "low": 1}
    for greater, lesser in pairs:
        assert urgency[BY_NAME[greater].urgency.value] >= urgency[BY_NAME[lesser].urgency.value]
