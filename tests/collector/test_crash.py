"""`kill -9` of the collector in the middle of a burst (real process, SQLite and PostgreSQL).

Every alert whose request got a 2xx must be in the store after a restart, and delivering the
whole burst again (as Alertmanager does after errors) must create no duplicate open ticket.
"""

from __future__ import annotations

import signal
import threading
import urllib.error

import pytest

from tests.collector.conftest import collector_process

BATCHES = 60
PER_BATCH = 25


def batch(n: int) -> dict:
    return {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "fingerprint": f"{n:04d}{i:04d}crash",
         "labels": {"alertname": "Burst", "instance": f"host-{i}:9847", "batch": str(n)},
         "annotations": {"summary": f"burst {n}/{i}"},
         "startsAt": "2026-11-29T19:50:08.829Z"} for i in range(PER_BATCH)]}


def all_tickets(collector) -> list[dict]:
    out, before = [], None
    for _ in range(BATCHES * PER_BATCH // 500 + 2):   # the most pages the tickets can fill
        query = "status=open,acknowledged,resolved,closed&include_attached=true&limit=500"
        if before:
            query += f"&before={before}"
        status, body = collector.call("GET", f"/api/v1/tickets?{query}", token="viewer")
        assert status == 200, body
        out += body["tickets"]
        if len(body["tickets"]) < 500:
            return out
        before = body["next_before"]
    raise AssertionError(f"ticket pages never ended ({len(out)} tickets read, before {before})")


@pytest.mark.timeout(300)  # burst, kill -9, restart: 20-40 s (default: 120 s)
def test_kill_9_mid_burst_loses_nothing_acknowledged(tmp_path, collector_db):
    committed: set[int] = set()
    lock = threading.Lock()
    queue = list(range(BATCHES))

    with collector_process(tmp_path, collector_db) as collector:
        tokens = collector.tokens

        def sender() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    n = queue.pop(0)
                try:
                    status, _ = collector.call("POST", "/api/v1/alertmanager", batch(n),
                                               token="ingest")
                except (urllib.error.URLError, ConnectionError, OSError):
                    return  # the collector is gone: this batch's fate is unknown
                if status == 200:
                    with lock:
                        committed.add(n)
                        if len(committed) == BATCHES // 3:
                            collector.process.send_signal(signal.SIGKILL)

        threads = [threading.Thread(target=sender) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a sender still posting after 120 s"
        collector.process.wait(timeout=30)
        assert collector.process.returncode == -signal.SIGKILL

    assert len(committed) >= BATCHES // 3
    with collector_process(tmp_path, collector_db, tokens=tokens) as restarted:
        stored = {t["dedup_key"] for t in all_tickets(restarted)}
        for n in committed:
            for i in range(PER_BATCH):
                assert f"alertmanager/{n:04d}{i:04d}crash" in stored, (n, i)
        # Re-deliver everything, as Alertmanager does after failures.
        for n in range(BATCHES):
            status, _ = restarted.call("POST", "/api/v1/alertmanager", batch(n), token="ingest")
            assert status == 200
        tickets = all_tickets(restarted)
    keys = [t["dedup_key"] for t in tickets if t["status"] in ("open", "acknowledged")]
    assert len(keys) == len(set(keys)) == BATCHES * PER_BATCH


def test_collector_checkpoints_the_sqlite_wal(tmp_path, sqlite_db):
    """Automatic checkpoints are off (they made commits slow); the collector copies the WAL
    into the database in the background instead. Without that, the database file would not
    grow while the collector runs: every page would stay in regie.db-wal."""
    from tests.services import wait_for

    db_file = tmp_path / "regie.db"
    with collector_process(tmp_path, sqlite_db) as collector:
        before = db_file.stat().st_size
        for n in range(20):
            assert collector.call("POST", "/api/v1/alertmanager", batch(n),
                                  token="ingest")[0] == 200
        wait_for(lambda: db_file.stat().st_size > before, timeout=30, interval=0.2,
                 what="the database file to receive the WAL's pages")
