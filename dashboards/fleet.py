"""Fleet health: where to look first (worst hosts), then the USE method per resource (CPU,
memory, disks, network; utilisation, saturation, errors), the system and the SNMP devices."""

from __future__ import annotations

from typing import Any

from dashboards import queries as q
from dashboards.panels import (
    AMBER,
    GREEN,
    RED,
    Column,
    Layout,
    Query,
    any_is_bad,
    dashboard,
    falling,
    rising,
    stat,
    steps,
    table,
    timeseries,
    variable,
)

UID = "regie-fleet"
TITLE = "Regie / Fleet health"
# A host's own view: this dashboard filtered to it, from the worst-hosts table.
HOST_LINK = f"/d/{UID}?var-host=${{__data.fields.host}}&${{__url_time_range}}"

PERCENT = "percentunit"


def build(datasource_uid: str) -> dict[str, Any]:
    layout = Layout(datasource_uid)
    layout.row(
        "Where to look first",
        stat("Hosts down", "Agents Prometheus cannot scrape (up == 0). Red: the host or its "
             "agent is down; check the host, then `systemctl status regie-agent` on it.",
             Query(q.HOSTS_DOWN), unit="none", thresholds=any_is_bad()),
        stat("Filesystems over 90 %", "Filesystems more than 90 % full. Red: see the "
             "'Worst hosts' and 'Filesystems filling up' tables below, free space or grow "
             "the filesystem.", Query(q.FILESYSTEMS_OVER_90), unit="none",
             thresholds=any_is_bad()),
        stat("Failed systemd units", "Units in the failed state, all selected hosts. Red: "
             "`systemctl --failed` on the host named in the table below.",
             Query(q.FAILED_UNITS_TOTAL), unit="none", thresholds=any_is_bad()),
        stat("SNMP devices down", "SNMP targets whose last poll failed (regie_snmp_up == 0). "
             "Red: the device is unreachable or the credentials changed; see the SNMP row.",
             Query(q.SNMP_DOWN), unit="none", thresholds=any_is_bad()),
        stat("Network errors and drops", "Receive/transmit errors and drops per second, "
             "all selected hosts. Red: a NIC, cable or switch port is failing, or a queue "
             "overflows; the worst host is in the table below.",
             Query(f"sum({q.NETWORK_ERRORS}) or vector(0)"), unit="pps",
             thresholds=rising(0.01, 1), decimals=2),
        stat("Agent collectors failing", "Agent collectors that failed in their last "
             "scrape (their metrics are missing). Red: `regie agent scrape` on the host "
             "shows the error.", Query(f"sum({q.COLLECTOR_FAILURES_TOTAL}) or vector(0)"),
             unit="none", thresholds=any_is_bad()),
        table("Worst hosts", "One row per host, fullest filesystem first: the first rows are "
              "where to look. Amber/red cells: a filesystem over 80/90 % (free space or grow "
              "it), CPU busy over 80/90 % or load over 1/2 per CPU (find the process: `top`), "
              "memory over 85/95 % (a leak or too little memory), network errors (the NIC or "
              "its switch port), failed units (`systemctl --failed`). Click a host to see only "
              "it.",
              [Query(q.FULLEST_FILESYSTEM, column="Fullest filesystem"),
               Query(q.CPU, column="CPU busy"),
               Query(q.LOAD_PER_CPU, column="Load per CPU"),
               Query(q.MEMORY_USED, column="Memory used"),
               Query(q.NETWORK_ERRORS, column="Net errors/drops"),
               Query(q.FAILED_UNITS, column="Failed units"),
               Query(q.UPTIME, column="Up for")],
              columns={
                  "Fullest filesystem": Column(unit=PERCENT, thresholds=rising(0.8, 0.9),
                                               decimals=1),
                  "CPU busy": Column(unit=PERCENT, thresholds=rising(0.8, 0.9), decimals=1),
                  "Load per CPU": Column(unit="none", thresholds=rising(1, 2), decimals=2),
                  "Memory used": Column(unit=PERCENT, thresholds=rising(0.85, 0.95),
                                        decimals=1),
                  "Net errors/drops": Column(unit="pps", thresholds=rising(0.01, 1),
                                             decimals=2),
                  "Failed units": Column(unit="none", thresholds=any_is_bad()),
                  "Up for": Column(unit="s"),
              },
              labels=("host",), sort_by="Fullest filesystem", links={"host": HOST_LINK}, height=9),
        table("Filesystems filling up", "Filesystems whose free space fell over the last "
              "6 hours, soonest full first, with the days left at that trend. Red under 7 "
              "days, amber under 30: clean up or grow the filesystem before then; a sudden "
              "trend is often logs or a runaway job.",
              [Query(q.DAYS_UNTIL_FULL, column="Days until full"),
               Query(q.FILLING_USED, column="Used")],
              columns={"Days until full": Column(unit="d", thresholds=falling(7, 30),
                                                 decimals=1),
                       "Used": Column(unit=PERCENT, thresholds=rising(0.8, 0.9), decimals=1)},
              labels=("host", "mountpoint", "device"), sort_by="Days until full",
              descending=False, hide=("fstype",), height=7),
    )
    layout.row(
        "CPU",
        timeseries("CPU busy (top 25)", "Share of CPU time not idle and not waiting for I/O, "
                   "the 25 busiest hosts and the fleet mean (dashed). Above the red line "
                   "(90 %) for long: the host is saturated; find the process, or add CPUs.",
                   [Query(q.top(q.CPU), legend="{{host}}")], mean_of=q.CPU, unit=PERCENT,
                   min_value=0, max_value=1, thresholds=rising(0.8, 0.9)),
        timeseries("Load per CPU (top 25)", "1-minute load average divided by the online "
                   "CPUs: over 1, runnable work queues for a CPU (saturation). Red (2): "
                   "requests wait; with low CPU busy, the queue is I/O (see disk busy).",
                   [Query(q.top(q.LOAD_PER_CPU), legend="{{host}}")], mean_of=q.LOAD_PER_CPU,
                   unit="none", min_value=0, thresholds=rising(1, 2)),
    )
    layout.row(
        "Memory",
        timeseries("Memory used (top 25)", "1 - available/total: memory not reclaimable "
                   "without swapping. Red (95 %): the OOM killer is near; find the process "
                   "growing (`ps aux --sort=-rss`).",
                   [Query(q.top(q.MEMORY_USED), legend="{{host}}")], mean_of=q.MEMORY_USED,
                   unit=PERCENT, min_value=0, max_value=1, thresholds=rising(0.85, 0.95)),
        timeseries("Swap used (top 25)", "Swap in use per host. Growing swap with high "
                   "memory use means memory pressure: the host pages and slows down.",
                   [Query(q.top(q.SWAP_USED), legend="{{host}}")], unit="bytes",
                   min_value=0),
    )
    layout.row(
        "Disks",
        timeseries("Filesystem used (top 25)", "Used / (used + available) per filesystem, "
                   "as df shows it. Red (90 %): services start failing at 100 %; free "
                   "space or grow it (the days left are in 'Filesystems filling up').",
                   [Query(q.top(q.FILESYSTEM_USED), legend="{{host}} {{mountpoint}}")],
                   unit=PERCENT, min_value=0, max_value=1, thresholds=rising(0.8, 0.9)),
        timeseries("Disk busy (top 25)", "Share of time each disk had I/O in flight. "
                   "Near 100 % for long: the disk is the bottleneck (with load per CPU over "
                   "1 and low CPU busy); find the writer (`iotop`).",
                   [Query(q.top(q.DISK_BUSY), legend="{{host}} {{device}}")],
                   mean_of=q.DISK_BUSY, unit=PERCENT, min_value=0, max_value=1,
                   thresholds=rising(0.8, 0.95)),
    )
    layout.row(
        "Network",
        timeseries("Network throughput (top 25)", "Bytes per second received and sent, all "
                   "interfaces but loopback. A host near its link speed drops packets; "
                   "compare with errors and drops.",
                   [Query(q.top(q.NETWORK_RECEIVE), legend="{{host}} in"),
                    Query(q.top(q.NETWORK_TRANSMIT), legend="{{host}} out")],
                   unit="Bps", min_value=0),
        timeseries("Network errors and drops (top 25)", "Receive and transmit errors and "
                   "drops per second. Above zero for long: a failing NIC, cable or switch "
                   "port, or ring buffers too small (`ethtool -S`).",
                   [Query(q.top(q.NETWORK_ERRORS), legend="{{host}}")], unit="pps",
                   min_value=0, thresholds=rising(0.01, 1)),
    )
    layout.row(
        "System",
        timeseries("Failed systemd units per host", "Units in the failed state per host "
                   "(hosts "
                   "with systemd). Red: `systemctl --failed` and `journalctl -u UNIT` there.",
                   [Query(q.FAILED_UNITS_BY_HOST, legend="{{host}}")], unit="none",
                   min_value=0, thresholds=any_is_bad(), width=8),
        timeseries("Agent collectors failing", "Per host and collector, 1 while the "
                   "collector fails (its metrics are then missing from every panel). Red: "
                   "the agent's log on that host says why.",
                   [Query(q.COLLECTOR_FAILURES, legend="{{host}} {{collector}}")],
                   unit="none", min_value=0, thresholds=any_is_bad(), width=8),
        table("Time since boot", "Uptime per host, most recent boot first. A host that "
              "rebooted unexpectedly is at the top (amber under an hour); one up for "
              "more than a year misses kernel updates.",
              [Query(q.UPTIME, column="Up for")],
              columns={"Up for": Column(unit="s", thresholds=steps_uptime())},
              labels=("host",), sort_by="Up for", descending=False, width=8),
    )
    layout.row(
        "SNMP devices",
        table("SNMP targets", "Every SNMP target the agents poll: up (last poll answered), "
              "how long its SNMP agent has run, and how long the poll took. Red 'down': "
              "the device does not answer or the credentials changed.",
              [Query(q.SNMP_UP, column="Status"),
               Query(q.SNMP_DEVICE_UPTIME, column="Device up for"),
               Query(q.SNMP_POLL_SECONDS, column="Poll took")],
              columns={"Status": Column(), "Device up for": Column(unit="s"),
                       "Poll took": Column(unit="s", thresholds=rising(1, 2), decimals=2)},
              mappings={"Status": {"1": ("up", GREEN), "0": ("down", RED)}},
              labels=("target", "host"), sort_by="Status", descending=False, width=12),
        table("Interface status", "ifOperStatus per interface of every target. Red 'down' "
              "on an interface that should carry traffic: a link is lost (cable, "
              "far end, or shut).",
              [Query(q.SNMP_IF_STATUS, column="Status")],
              columns={"Status": Column()},
              mappings={"Status": {"1": ("up", GREEN), "2": ("down", RED),
                                   "3": ("testing", AMBER), "5": ("dormant", AMBER),
                                   "7": ("lower layer down", RED)}},
              labels=("target", "ifname", "host"), sort_by="Status", descending=True,
              hide=("ifindex",), width=12),
        timeseries("Interface traffic", "Octets per second in and out per interface and "
                   "target (64-bit counters where the device has them).",
                   [Query(q.top(q.SNMP_IN), legend="{{target}} {{ifname}} in"),
                    Query(q.top(q.SNMP_OUT), legend="{{target}} {{ifname}} out")],
                   unit="Bps", min_value=0),
        timeseries("Interface errors and discards", "Errors and discards per second, in and "
                   "out, per interface. Above zero for long: a bad cable or optic, a duplex "
                   "mismatch, or a congested port.",
                   [Query(q.top(q.SNMP_ERRORS), legend="{{target}} {{ifname}}")],
                   unit="pps", min_value=0, thresholds=rising(0.01, 1)),
    )
    return dashboard(
        uid=UID, title=TITLE, layout=layout, time_from="now-6h",
        description="Regie agents across the fleet: worst hosts first, then CPU, memory, "
                    "disks, network, system and SNMP devices.",
        variables=[variable("job", "Job", "label_values(regie_agent_build_info, job)",
                            layout.datasource),
                   variable("host", "Host",
                            'label_values(regie_agent_build_info{job=~"$job"}, host)',
                            layout.datasource)])


def steps_uptime() -> dict[str, Any]:
    """Amber under an hour (an unexpected reboot), green after, amber again past a year."""
    return steps((AMBER, None), (GREEN, 3600), (AMBER, 365 * 86400))
