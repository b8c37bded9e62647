"""Recording rules for the dashboards' heavy queries, named level:metric:operations.

The level is the labels a rule keeps: `host` (with `job`) for one series per host,
`host_device` / `host_mountpoint` for one per disk, interface or filesystem, `priority` for the
ticket histograms. Dashboards read these names (dashboards/queries.py) so a fleet of hundreds
of hosts costs Prometheus one evaluation per rule interval, not one per panel per viewer.

Exported with `regie rules export --format recording` (collector/rules_cli.py); the rule unit
tests are tests/dashboards/recording_rules_test.yml, run with `promtool test rules`.
Pure data: importing this module needs neither grafanalib nor matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUP = "regie-dashboards"
# Rates over 5 minutes: ten samples at the shipped 30 s scrape interval, smooth enough for a
# fleet view, short enough to show a spike within minutes.
RATE_WINDOW = "5m"
# Days until a filesystem is full: the trend of the last 6 hours (a nightly job or a log burst
# does not make a filesystem "full in 2 hours"; a week would miss a runaway process).
FILL_WINDOW = "6h"
# Response times: the distribution over the last day (MTTA/MTTR per priority).
RESPONSE_WINDOW = "1d"


@dataclass(frozen=True, slots=True)
class Recording:
    record: str
    expr: str
    help: str


_CPU = "regie_cpu_seconds_total"
_NET = "regie_network_{}_total"
# Loopback carries no traffic worth a fleet view (and its bytes are the host talking to itself).
_NOT_LO = '{device!="lo"}'

RULES: tuple[Recording, ...] = (
    Recording(
        "host:regie_cpu_utilisation:rate5m",
        f'1 - sum by (job, host) (rate({_CPU}{{mode=~"idle|iowait"}}[{RATE_WINDOW}]))'
        f" / sum by (job, host) (rate({_CPU}[{RATE_WINDOW}]))",
        "share of CPU time busy (not idle, not waiting for I/O), all CPUs of the host"),
    Recording(
        "host:regie_load1_per_cpu:ratio",
        "regie_load1 / regie_cpus_online",
        "1-minute load average per online CPU: above 1, runnable work waits for a CPU"),
    Recording(
        "host_device:regie_disk_busy:ratio_rate5m",
        f"rate(regie_disk_io_time_seconds_total[{RATE_WINDOW}])",
        "share of time each disk had I/O in flight"),
    Recording(
        "host:regie_network_receive_bytes:rate5m",
        f"sum by (job, host) (rate({_NET.format('receive_bytes')}{_NOT_LO}[{RATE_WINDOW}]))",
        "bytes received per second, all interfaces but loopback"),
    Recording(
        "host:regie_network_transmit_bytes:rate5m",
        f"sum by (job, host) (rate({_NET.format('transmit_bytes')}{_NOT_LO}[{RATE_WINDOW}]))",
        "bytes sent per second, all interfaces but loopback"),
    Recording(
        "host:regie_network_errors_drops:rate5m",
        "sum by (job, host) ("
        + " + ".join(f"rate({_NET.format(n)}[{RATE_WINDOW}])" for n in (
            "receive_errors", "transmit_errors", "receive_drop", "transmit_drop"))
        + ")",
        "receive and transmit errors and drops per second, all interfaces"),
    Recording(
        "host:regie_filesystem_used:max_ratio",
        "max by (job, host) (regie_filesystem_used_ratio)",
        "the fullest filesystem of each host, used / (used + available)"),
    Recording(
        "host_mountpoint:regie_filesystem_days_until_full:predict_linear6h",
        # avail / (what it loses a day), only where the 6 h trend falls: a filesystem that is
        # stable or emptying has no "days until full" (no series, not a huge number).
        f"regie_filesystem_avail_bytes / (regie_filesystem_avail_bytes"
        f" - predict_linear(regie_filesystem_avail_bytes[{FILL_WINDOW}], 86400))"
        f" and predict_linear(regie_filesystem_avail_bytes[{FILL_WINDOW}], 86400)"
        f" < regie_filesystem_avail_bytes",
        "days until the filesystem is full at the trend of the last 6 hours; only filesystems "
        "whose free space falls"),
    *(Recording(
        f"priority:regie_ticket_time_to_{what}_seconds:{name}_rate1d",
        f"histogram_quantile({q}, sum by (job, priority, le) "
        f"(rate(regie_ticket_time_to_{what}_seconds_bucket[{RESPONSE_WINDOW}])))",
        f"{'median' if q == 0.5 else '90th percentile'} time to "
        f"{what} over the last day, per priority")
      for what in ("acknowledge", "resolve") for q, name in ((0.5, "p50"), (0.9, "p90"))),
)

NAMES = frozenset(r.record for r in RULES)


def to_prometheus(rules: tuple[Recording, ...] = RULES, *,
                  interval: str | None = None) -> dict[str, Any]:
    """The rule-file document: one group, the rules in order."""
    group: dict[str, Any] = {"name": GROUP}
    if interval:
        group["interval"] = interval
    group["rules"] = [{"record": r.record, "expr": r.expr} for r in rules]
    return {"groups": [group]}


def text(*, generated_from: str = "dashboards/recording_rules.py") -> str:
    import yaml

    lines = [f"# Recording rules for the Regie Grafana dashboards, generated from "
             f"{generated_from}.", "# Load beside the alerting rules (rule_files:). One line "
             "per rule:"]
    lines += [f"#   {r.record}: {r.help}" for r in RULES]
    body = yaml.safe_dump(to_prometheus(), sort_keys=False, width=1000)
    return "\n".join(lines) + "\n" + body
