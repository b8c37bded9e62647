"""Every PromQL expression the dashboards show, in one place, by name.

Metric names are the ones docs/metrics.md lists (the agent's and the collector's, checked both
ways against what they export by tests/test_docs.py) or a recording rule's own
(dashboards/recording_rules.py); tests/dashboards/test_catalog.py fails on any other.

Selectors carry the dashboards' variables: `$job` and `$host` on the fleet (agents' series carry
the `host` label that the shipped Prometheus configuration gives them), `$job` on the
collector's dashboards.
"""

from __future__ import annotations

# -- selectors -------------------------------------------------------------------------------

HOSTS = 'job=~"$job", host=~"$host"'
COLLECTOR = 'job=~"$job"'


def on_hosts(metric: str, extra: str = "") -> str:
    """`metric{job=~"$job", host=~"$host"[, extra]}`."""
    return f"{metric}{{{HOSTS}{', ' + extra if extra else ''}}}"


def on_collector(metric: str, extra: str = "") -> str:
    return f"{metric}{{{COLLECTOR}{', ' + extra if extra else ''}}}"


# Top-k panels show the worst 25 series: a fleet of 500 stays readable; the mean line shows
# where the rest are.
TOP = 25


def top(expr: str) -> str:
    return f"topk({TOP}, {expr})"


# -- fleet: where to look first ----------------------------------------------------------------

HOSTS_DOWN = f"count({on_hosts('up')} == 0) or vector(0)"
FILESYSTEMS_OVER_90 = f"count({on_hosts('regie_filesystem_used_ratio')} > 0.9) or vector(0)"
FAILED_UNITS_TOTAL = f"sum({on_hosts('regie_systemd_units_failed')}) or vector(0)"
SNMP_DOWN = f"count({on_hosts('regie_snmp_up')} == 0) or vector(0)"

FULLEST_FILESYSTEM = on_hosts("host:regie_filesystem_used:max_ratio")
CPU = on_hosts("host:regie_cpu_utilisation:rate5m")
LOAD_PER_CPU = on_hosts("host:regie_load1_per_cpu:ratio")
MEMORY_USED = f"max by (job, host) ({on_hosts('regie_memory_used_ratio')})"
NETWORK_ERRORS = on_hosts("host:regie_network_errors_drops:rate5m")
FAILED_UNITS = f"sum by (job, host) ({on_hosts('regie_systemd_units_failed')})"
UPTIME = f"max by (job, host) ({on_hosts('regie_uptime_seconds')})"

DAYS_UNTIL_FULL = (
    f"sort({on_hosts('host_mountpoint:regie_filesystem_days_until_full:predict_linear6h')})")
FILLING_USED = (f"{on_hosts('regie_filesystem_used_ratio')} and on (job, host, mountpoint) "
                f"{on_hosts('host_mountpoint:regie_filesystem_days_until_full:predict_linear6h')}")

# -- fleet: resources over time ------------------------------------------------------------

SWAP_USED = on_hosts("regie_swap_used_bytes")
FILESYSTEM_USED = on_hosts("regie_filesystem_used_ratio")
DISK_BUSY = on_hosts("host_device:regie_disk_busy:ratio_rate5m")
NETWORK_RECEIVE = on_hosts("host:regie_network_receive_bytes:rate5m")
NETWORK_TRANSMIT = on_hosts("host:regie_network_transmit_bytes:rate5m")
FAILED_UNITS_BY_HOST = on_hosts("regie_systemd_units_failed")
COLLECTOR_FAILURES = (f"sum by (job, host, collector) "
                      f"(1 - {on_hosts('regie_agent_collector_success')})")
COLLECTOR_FAILURES_TOTAL = f"sum by (job, host) (1 - {on_hosts('regie_agent_collector_success')})"

# -- fleet: SNMP devices -------------------------------------------------------------------
# SNMP counters move once per poll (60 s by default): a fixed 5-minute window holds several.

SNMP_WINDOW = "5m"
SNMP_UP = on_hosts("regie_snmp_up")
SNMP_DEVICE_UPTIME = on_hosts("regie_snmp_sys_uptime_seconds")
SNMP_POLL_SECONDS = on_hosts("regie_snmp_poll_duration_seconds")
SNMP_IF_STATUS = on_hosts("regie_snmp_if_oper_status")


def snmp_rate(*counters: str) -> str:
    parts = " + ".join(f"rate({on_hosts(c)}[{SNMP_WINDOW}])" for c in counters)
    return f"sum by (job, host, target, ifname) ({parts})"


SNMP_IN = snmp_rate("regie_snmp_if_in_octets_total")
SNMP_OUT = snmp_rate("regie_snmp_if_out_octets_total")
SNMP_ERRORS = snmp_rate("regie_snmp_if_in_errors_total", "regie_snmp_if_out_errors_total",
                        "regie_snmp_if_in_discards_total", "regie_snmp_if_out_discards_total")

# -- operations ------------------------------------------------------------------------------


def open_tickets(priority: str | None = None) -> str:
    extra = f'priority="{priority}"' if priority else ""
    return f"sum({on_collector('regie_tickets_open', extra)})"


OPEN_BY_PRIORITY = f"sum by (priority) ({on_collector('regie_tickets_open')})"
OPEN_BY_SOURCE = f"sum by (source) ({on_collector('regie_tickets_open')})"
CREATED_PER_DAY = f"sum(increase({on_collector('regie_tickets_created_total')}[1d]))"
RESOLVED_PER_DAY = f"sum(increase({on_collector('regie_tickets_resolved_total')}[1d]))"
CREATED_BY_SOURCE_PER_DAY = (
    f"sum by (source) (increase({on_collector('regie_tickets_created_total')}[1d]))")


def response_time(what: str, quantile: str) -> str:
    """what: acknowledge | resolve; quantile: p50 | p90 (recording rules)."""
    return on_collector(f"priority:regie_ticket_time_to_{what}_seconds:{quantile}_rate1d")


ESCALATION_STEPS_PER_DAY = (
    f"sum by (step) (increase({on_collector('regie_escalation_steps_total')}[1d]))")
ACKS_EXPIRED_PER_DAY = (
    f"sum(increase({on_collector('regie_acknowledgements_expired_total')}[1d]))")
_DEAD = 'status="dead"'
NOTIFICATIONS_QUEUED = f"sum by (channel, status) ({on_collector('regie_notifications_queued')})"
NOTIFICATIONS_DEAD = f"sum({on_collector('regie_notifications_queued', _DEAD)}) or vector(0)"
NOTIFICATION_OUTCOMES = (f"sum by (channel, outcome) "
                         f"(increase({on_collector('regie_notification_outcomes_total')}[1h]))")
PAGES_PER_PERSON_WEEK = (
    f"sort_desc(sum by (person) (increase({on_collector('regie_pages_total')}[1w])))")
PAGES_PER_PERSON_DAY = (
    f"sum by (person) (increase({on_collector('regie_pages_total')}[1d]))")
SIGNALS = (f"sum by (origin, result) "
           f"(rate({on_collector('regie_collector_signals_total')}[$__rate_interval]))")
REJECTED = (f"sum by (endpoint, status) "
            f"(rate({on_collector('regie_collector_rejected_requests_total')}"
            f"[$__rate_interval]))")

# -- governance -------------------------------------------------------------------------------

DAY = 86400
# "Within 8 months": 8 x 30.44 days, the registry's own near horizon by default.
EOS_HORIZON_DAYS = 243
CONTRACT_HORIZON_DAYS = 90

EOS_DAYS_LEFT = f"({on_collector('regie_eos_end_timestamp_seconds')} - time()) / {DAY}"
EOS_SOON = f"sort({EOS_DAYS_LEFT} < {EOS_HORIZON_DAYS} >= 0)"
EOS_SOON_DATE = (f"{on_collector('regie_eos_end_timestamp_seconds')} * 1000 "
                 f"and on (host, product, cycle) ({EOS_DAYS_LEFT} < {EOS_HORIZON_DAYS} >= 0)")
EOS_PAST = f"sort(-({EOS_DAYS_LEFT} < 0))"
EOS_PAST_DATE = (f"{on_collector('regie_eos_end_timestamp_seconds')} * 1000 "
                 f"and on (host, product, cycle) ({EOS_DAYS_LEFT} < 0)")


def eos_assets(kind: str, status: str) -> str:
    matchers = f'kind="{kind}", status="{status}"'
    return f"sum({on_collector('regie_eos_assets', matchers)})"


CONTRACT_DAYS_LEFT = (f"({on_collector('regie_contract_end_timestamp_seconds')} - time()) "
                      f"/ {DAY}")
CONTRACTS_DUE = f"sort({CONTRACT_DAYS_LEFT} < {CONTRACT_HORIZON_DAYS})"
CONTRACTS_DUE_DATE = (f"{on_collector('regie_contract_end_timestamp_seconds')} * 1000 "
                      f"and on (asset, vendor, contract) "
                      f"({CONTRACT_DAYS_LEFT} < {CONTRACT_HORIZON_DAYS})")
_SECURITY = on_collector("regie_host_pending_updates", 'kind="security"')
SECURITY_UPDATES = f"sort_desc({_SECURITY})"
OTHER_UPDATES = on_collector("regie_host_pending_updates", 'kind="other"')
SECURITY_UPDATES_TOTAL = f"sum({_SECURITY}) or vector(0)"
# Patching (docs/patching.md): the last completed patch change's lag, and how long each host's
# oldest pending security update has waited.
_LAST_CHANGE_LAG = "regie_patch_last_change_lag_seconds"
LAST_CHANGE_MEAN_LAG = "max(" + on_collector(_LAST_CHANGE_LAG, 'statistic="mean"') + ")"
LAST_CHANGE_MAX_LAG = "max(" + on_collector(_LAST_CHANGE_LAG, 'statistic="max"') + ")"
SECURITY_WAITING_DAYS = (
    f"sort_desc((time() - "
    f"{on_collector('regie_host_security_update_pending_since_timestamp_seconds')}) / {DAY})")
HOSTS_WAITING_FOR_SECURITY = f"count({_SECURITY} > 0) or vector(0)"
# P2 tickets opened per component over the quarter, the top ten, and each one's share.
_P2_CREATED = on_collector("regie_tickets_created_total", 'priority="P2"')
_P2 = f"sum by (component) (increase({_P2_CREATED}[90d]))"
P2_BY_COMPONENT = f"sort_desc(topk(10, {_P2}))"
P2_SHARE = f"topk(10, {_P2}) / scalar(sum({_P2}))"
# Vendor cases (docs/vendor-cases.md): those still waiting on someone, overdue follow-ups, and
# each vendor's oldest.
_CASES_OPEN = on_collector("regie_vendor_cases_open")
_CASES_OVERDUE = on_collector("regie_vendor_cases_overdue")
VENDOR_CASES_OPEN = f"sum({_CASES_OPEN}) or vector(0)"
VENDOR_CASES_OVERDUE = f"sum({_CASES_OVERDUE}) or vector(0)"
VENDOR_CASES_BY_VENDOR = f"sort_desc(sum by (vendor) ({_CASES_OPEN}))"
VENDOR_CASES_OVERDUE_BY_VENDOR = f"sum by (vendor) ({_CASES_OVERDUE})"
VENDOR_CASE_OLDEST_DAYS = (
    f"max by (vendor) ((time() - "
    f"{on_collector('regie_vendor_case_oldest_opened_timestamp_seconds')}) / {DAY})")
