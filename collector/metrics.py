"""The collector's own /metrics: the ticket queue as Prometheus sees it.

Counters and histograms are updated in this process as tickets move; the open-ticket gauge is
read from the store at scrape time (it is the truth across several collector processes),
cached briefly so a scrape storm does not become a query storm.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from alerting.ticket import Priority, Source

# Seconds: 30 s .. 3 days, the span between a page at 03:00 and a ticket left over a weekend.
RESPONSE_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)


class OpenTickets:
    """regie_tickets_open{priority,source} from the store's counts (set by the app)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = 5.0) -> None:
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._counts: dict[tuple[Priority, Source], int] = {}
        self._at = float("-inf")

    def stale(self) -> bool:
        return self._clock() - self._at >= self._cache_seconds

    def update(self, counts: dict[tuple[Priority, Source], int]) -> None:
        self._counts = dict(counts)
        self._at = self._clock()

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("regie_tickets_open",
                                   "Open or acknowledged tickets (attached alerts excluded).",
                                   labels=["priority", "source"])
        for priority in Priority:
            for source in Source:
                family.add_metric([priority.value, source.value],
                                  self._counts.get((priority, source), 0))
        yield family


class NotificationQueue:
    """regie_notifications_queued{channel,status}: pending and dead notifications, read from
    the store at scrape time (set by the app; stays empty without on-call)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("regie_notifications_queued",
                                   "Notifications waiting for delivery (pending) or given up "
                                   "(dead letters), by channel.",
                                   labels=["channel", "status"])
        for (channel, status), count in sorted(self.counts.items()):
            family.add_metric([channel, status], count)
        yield family


class RegistryGauges:
    """End-of-support and contract gauges, computed from the store at scrape time (set by the
    app, refreshed at most once a minute: a fleet's software is many rows)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = 60.0) -> None:
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._at = float("-inf")
        self.software: list = []          # registry.lifecycle.Software
        self.hardware: list = []          # registry.lifecycle.Hardware
        self.contracts: list = []         # registry.lifecycle.Contract
        self.today = None
        self.until = None

    def stale(self) -> bool:
        return self._clock() - self._at >= self._cache_seconds

    def invalidate(self) -> None:
        """A push changed the data: the next scrape reads it again."""
        self._at = float("-inf")

    def update(self, *, software: list, hardware: list, contracts: list, today, until) -> None:
        self.software, self.hardware, self.contracts = software, hardware, contracts
        self.today, self.until = today, until
        self._at = self._clock()

    def collect(self) -> Iterable[Metric]:
        from registry.lifecycle import Status, software_status

        # Base units only (promtool's rule): end dates as Unix timestamps. Days left are a
        # dashboard's arithmetic, `(regie_eos_end_timestamp_seconds - time()) / 86400`.
        ends = GaugeMetricFamily(
            "regie_eos_end_timestamp_seconds",
            "When the support that applies ends (security, then extended; a distribution "
            "package's by its distribution), Unix time.",
            labels=["host", "product", "cycle"])
        assets = GaugeMetricFamily(
            "regie_eos_assets",
            "Hosts with software (or hardware) past end of support, or reaching it within "
            "registry.near_horizon.", labels=["kind", "status"])
        contract_ends = GaugeMetricFamily(
            "regie_contract_end_timestamp_seconds",
            "When a warranty or support contract ends, Unix time.",
            labels=["asset", "vendor", "contract"])
        families = (ends, assets, contract_ends)
        if self.today is None:
            yield from families
            return
        past: dict[str, set[str]] = {"software": set(), "hardware": set()}
        near: dict[str, set[str]] = {"software": set(), "hardware": set()}
        for row in self.software:
            if row.cycle is None:
                continue
            applies, _, status = software_status(row, self.today, self.until)
            if applies is not None:
                ends.add_metric([row.host, row.product, row.cycle], _timestamp(applies))
            if status is Status.PAST:
                past["software"].add(row.host)
            elif status is Status.NEAR:
                near["software"].add(row.host)
        for asset in self.hardware:
            if asset.end_of_support is None:
                continue
            if asset.end_of_support <= self.today:
                past["hardware"].add(asset.asset)
            elif asset.end_of_support <= self.until:
                near["hardware"].add(asset.asset)
        for kind in ("software", "hardware"):
            assets.add_metric([kind, "past"], len(past[kind]))
            assets.add_metric([kind, "near"], len(near[kind] - past[kind]))
        for contract in self.contracts:
            contract_ends.add_metric([contract.asset, contract.vendor, contract.number],
                                     _timestamp(contract.end_date))
        yield from families


class PatchGauges:
    """Patching gauges, read from the store's update history at scrape time (set by the app,
    refreshed at most every `cache_seconds` and after each push this process stores): right
    after a restart and the same on every collector sharing the database.

    - regie_host_pending_updates{host,kind}: pending updates per host, `security` or `other`;
    - regie_host_security_update_pending_since_timestamp_seconds{host}: when the oldest
      pending security update was first seen (its age: `time() - ...`);
    - regie_patch_last_change_lag_seconds{change,path,statistic}: the patch lag of the last
      completed patch change, `mean` and `max` over its hosts (docs/patching.md)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = 30.0) -> None:
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._at = float("-inf")
        self.hosts: list = []            # collector.store.patches.HostPending
        self.last_change = None          # registry.patch_lag.ChangeLag | None

    def stale(self) -> bool:
        return self._clock() - self._at >= self._cache_seconds

    def invalidate(self) -> None:
        self._at = float("-inf")

    def update(self, *, hosts: list, last_change) -> None:
        self.hosts, self.last_change = hosts, last_change
        self._at = self._clock()

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily("regie_host_pending_updates",
                                    "Pending package updates per host (security or other), "
                                    "as of its latest inventory push.",
                                    labels=["host", "kind"])
        since = GaugeMetricFamily(
            "regie_host_security_update_pending_since_timestamp_seconds",
            "When the host's oldest pending security update was first seen pending, "
            "Unix time.", labels=["host"])
        lag = GaugeMetricFamily(
            "regie_patch_last_change_lag_seconds",
            "Patch lag (installed, as the inventory shows, minus planned start) of the last "
            "completed patch change: mean and max over its patched hosts.",
            labels=["change", "path", "statistic"])
        for host in self.hosts:
            pending.add_metric([host.host, "security"], host.security)
            pending.add_metric([host.host, "other"], host.other)
            if host.oldest_security is not None:
                since.add_metric([host.host], host.oldest_security.timestamp())
        change = self.last_change
        if change is not None and change.lags:
            lags = change.lags
            labels = [str(change.change.id), change.change.path]
            lag.add_metric([*labels, "mean"], sum(lags) / len(lags))
            lag.add_metric([*labels, "max"], max(lags))
        yield from (pending, since, lag)


def _timestamp(day) -> float:
    return float(calendar.timegm(day.timetuple()))


class WithoutCreated(CollectorRegistry):
    """A registry that leaves out the `_created` series of counters and histograms.

    They are the start time of each child, a second series per counter that dashboards never
    read, and promtool lints names such as `regie_tickets_created_created`. The library's
    `disable_created_metrics()` would switch them off for the whole process (the agent's too,
    when both run in one process, as in tests); filtering here keeps it to this registry."""

    def collect(self) -> Iterable[Metric]:
        for family in super().collect():
            if family.type in _HAS_CREATED:
                kept = [s for s in family.samples if not s.name.endswith("_created")]
                if len(kept) != len(family.samples):
                    family = _copy(family, kept)
            yield family


_HAS_CREATED = frozenset({"counter", "histogram", "summary", "gaugehistogram"})


def _copy(family: Metric, samples: list) -> Metric:
    out = Metric(family.name, family.documentation, family.type, family.unit)
    out.samples = samples
    return out


class CollectorMetrics:
    def __init__(self) -> None:
        self.registry = WithoutCreated(auto_describe=False)
        self.open = OpenTickets()
        self.registry.register(self.open)
        self.created = Counter("regie_tickets_created", "Tickets opened.",
                               ["priority", "component", "source"], registry=self.registry)
        self.resolved = Counter("regie_tickets_resolved", "Tickets resolved.",
                                ["priority", "component"], registry=self.registry)
        self.signals = Counter("regie_collector_signals",
                               "Monitoring signals received, by origin and what they did.",
                               ["origin", "result"], registry=self.registry)
        self.rejected = Counter("regie_collector_rejected_requests",
                                "Requests refused with a 4xx, by endpoint and status.",
                                ["endpoint", "status"], registry=self.registry)
        self.time_to_ack = Histogram("regie_ticket_time_to_acknowledge_seconds",
                                     "From a ticket's creation to its acknowledgement.",
                                     ["priority"], buckets=RESPONSE_BUCKETS,
                                     registry=self.registry)
        self.escalation_sweep = Histogram(
            "regie_escalation_sweep_seconds",
            "One escalation timer sweep: find due escalations, claim, decide, write.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=self.registry)
        self.escalations = Counter("regie_escalations_processed",
                                   "Due escalations claimed and decided by this collector.",
                                   registry=self.registry)
        self.escalation_steps = Counter(
            "regie_escalation_steps", "Escalation steps that notified someone, by step number "
            "(1: the first notification).", ["step"], registry=self.registry)
        self.acks_expired = Counter(
            "regie_acknowledgements_expired",
            "Acknowledgements that expired without resolution (the ticket is paged again).",
            registry=self.registry)
        self.notifications = Counter(
            "regie_notification_outcomes",
            "Notification delivery attempts by channel and outcome (delivered, retried, "
            "dead, rate_limited).", ["channel", "outcome"], registry=self.registry)
        # On-call load: a person is a label (names from the schedule, never an address).
        self.pages = Counter(
            "regie_pages", "Notices asking a person to act (trigger, escalate, "
            "reacknowledge, priority_changed) delivered to them, by person and channel.",
            ["person", "channel"], registry=self.registry)
        self.queue = NotificationQueue()
        self.registry.register(self.queue)
        self.eos = RegistryGauges()
        self.registry.register(self.eos)
        from collector.change_metrics import ChangeGauges

        self.changes = ChangeGauges()
        self.registry.register(self.changes)
        self.updates = PatchGauges()
        self.registry.register(self.updates)
        from collector.vendor_case_metrics import VendorCaseGauges

        self.vendor_cases = VendorCaseGauges()
        self.registry.register(self.vendor_cases)
        self.time_to_resolve = Histogram("regie_ticket_time_to_resolve_seconds",
                                         "From a ticket's creation to its resolution.",
                                         ["priority"], buckets=RESPONSE_BUCKETS,
                                         registry=self.registry)

    def escalation_swept(self, result, seconds: float) -> None:
        self.escalation_sweep.observe(seconds)
        if result.claimed:
            self.escalations.inc(result.claimed)
        if result.reopened:
            self.acks_expired.inc(result.reopened)
        for step in result.steps:
            self.escalation_steps.labels(str(step)).inc()
