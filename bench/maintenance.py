#!/usr/bin/env python3
"""What asking the maintenance windows costs the intake, per alert that opens a ticket.

    python bench/maintenance.py [--signals 200000] [--windows 0,1,10,100]

The intake asks `collector.maintenance.Maintenance.covering(host, service, labels, at)` for each
alert that would open a ticket (collector/store/signal_batch.py). This measures that call in
this process, the windows held in memory as the collector holds them, for a realistic mix of
alerts (500 hosts, alertname/host/mountpoint labels), with N windows of which one in ten
covers something (host globs, services and label matchers mixed), all running now.

Anchor, measured in the same run: `alerting.inhibition.alert_labels`, which the batch already
computes for every alert it may open (the same call's inputs). bench/README.md records a run;
bench/ingest.py measures the whole intake with and without this code.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerting.inhibition import alert_labels
from alerting.maintenance import parse_window
from collector.maintenance import Maintenance

NOW = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)


def windows(count: int) -> list:
    out = []
    for i in range(count):
        covers = i % 10 == 0
        kind = i % 3
        scope = {"hosts": [], "services": [], "matchers": []}
        if kind == 0:
            scope["hosts"] = [f"web-{i % 500:03d}*" if covers else f"none-{i}-*"]
        elif kind == 1:
            scope["services"] = ["nginx" if covers else f"svc-{i}"]
        else:
            scope["matchers"] = [f'alertname=~"{"Disk.*" if covers else f"Nothing{i}.*"}"',
                                 'env!="prod"']
        out.append(parse_window(
            key=str(i + 1), name=f"window {i}", start="2026-11-01T02:00", end=None,
            duration="2h", timezone="Europe/Amsterdam",
            rrule_text="FREQ=WEEKLY;BYDAY=SU" if i % 2 else "FREQ=DAILY",
            now=NOW - timedelta(days=30),
            **scope))
    return out


def alerts(n: int) -> list[tuple]:
    rng = random.Random(1)
    out = []
    for _ in range(n):
        host = f"{rng.choice(['web', 'db', 'app'])}-{rng.randrange(500):03d}"
        details = {"labels": {"alertname": rng.choice(["DiskFull", "LoadHigh", "HostDown"]),
                              "instance": f"{host}:9847", "mountpoint": "/var"}}
        out.append((host, rng.choice([None, "nginx", "postgres"]), details))
    return out


def per_signal(fn, items) -> float:
    started = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - started) / len(items) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=200_000)
    parser.add_argument("--windows", default="0,1,10,100")
    args = parser.parse_args()
    items = alerts(args.signals)
    labelled = [(host, service, alert_labels(details=d, host=host, component=None))
                for host, service, d in items]
    anchor = per_signal(lambda a: alert_labels(details=a[2], host=a[0], component=None), items)
    print(f"{'windows':>8}  {'covering, µs/alert':>19}  {'held':>6}  "
          f"{'anchor alert_labels, µs/alert':>30}")
    for count in (int(c) for c in args.windows.split(",")):
        maintenance = Maintenance(None, clock=lambda: NOW)
        maintenance.windows = tuple(windows(count))
        maintenance._compute(NOW)
        held = sum(maintenance.covering(h, s, labels, NOW) is not None
                   for h, s, labels in labelled)
        cost = per_signal(lambda a, m=maintenance: m.covering(a[0], a[1], a[2], NOW), labelled)
        print(f"{count:>8}  {cost:>19.2f}  {held / len(labelled):>6.1%}  {anchor:>30.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
