"""Recurring maintenance windows first started long ago cost what is new, not every start
since then, against the real collector process on SQLite and PostgreSQL.

Found: a recurrence is listed by dateutil from its first start, and the collector listed the
starts of every window from it whenever the intake, a listing, /metrics or the refresh asked
(all in the event loop): 31 daily windows first started on 2000-01-01 (about 10,000 starts
each) made GET /api/v1/maintenance take 7.9 s, adding a window 6-13 s, and /healthz waited up
to 7.6 s at each refresh; it grew with every such window and every day. A responder's token is
enough to add them.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.collector.conftest import collector_process

WINDOWS = 30


@pytest.fixture
def collector(tmp_path, collector_db):
    """A collector of its own: the windows stay (the shared one's wipe keeps them)."""
    with collector_process(tmp_path, collector_db) as service:
        yield service


def test_windows_started_long_ago_do_not_hold_the_collector(collector):
    added = []
    for i in range(WINDOWS):
        begin = time.monotonic()
        status, body = collector.call("POST", "/api/v1/maintenance", token="responder", body={
            "name": f"nightly {i}", "start": "2000-01-01T01:00:00Z", "duration": "1h",
            "rrule": "FREQ=DAILY", "hosts": [f"nobody-{i}"]})
        added.append(time.monotonic() - begin)
        assert status == 201, body
    worst_health, stop = [0.0], threading.Event()

    def probe() -> None:
        while not stop.is_set():
            begin = time.monotonic()
            collector.call("GET", "/healthz", token=None)
            worst_health[0] = max(worst_health[0], time.monotonic() - begin)
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        timings = {}
        for path in ("/api/v1/maintenance", "/metrics"):
            begin = time.monotonic()
            status, listed = collector.call("GET", path, token="viewer")
            timings[path] = time.monotonic() - begin
            assert status == 200, listed
        begin = time.monotonic()
        status, answer = collector.call("POST", "/api/v1/alertmanager", token="ingest", body={
            "version": "4", "status": "firing", "alerts": [{
                "status": "firing", "fingerprint": "cost", "labels": {
                    "alertname": "DiskFull", "host": "nobody-3", "severity": "critical"},
                "annotations": {"summary": "disk full"}}]})
        timings["alert"] = time.monotonic() - begin
        assert status == 200, answer
    finally:
        stop.set()
        prober.join()
    assert max(added[-5:]) < 1.5, added
    assert max(timings.values()) < 1.5, timings
    assert worst_health[0] < 1.5, worst_health
