"""Two collector processes ingesting the same new alerts into one PostgreSQL database.

Real OS processes (tests/collector/store/ingest_worker.py), started together, each applying
the same rounds of batches in its own order: the partial unique index and the store's
conflict handling must leave exactly one active ticket per key, and count every signal once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from collector.store.models import ACTIVE_PREDICATE, TicketRow

ROOT = Path(__file__).resolve().parents[3]
ROUNDS, KEYS, BATCH = 4, 300, 100
TICKETS = TicketRow.__table__


def test_two_collectors_open_one_ticket_per_key(pg_db):
    argv = [sys.executable, "-m", "tests.collector.store.ingest_worker", pg_db.url,
            str(ROUNDS), str(KEYS), str(BATCH)]
    workers = [subprocess.Popen([*argv, str(seed)], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for seed in (1, 2)]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        for worker in workers:      # go, both at once
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, err
            reports.append(json.loads(out.splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    async def counts(s):
        async with s.engine.connect() as connection:
            per_key = (await connection.execute(
                select(TICKETS.c.dedup_key, func.count()).where(text(ACTIVE_PREDICATE))
                .group_by(TICKETS.c.dedup_key))).all()
            total = (await connection.execute(select(func.count()).select_from(TICKETS)))
            occurrences = (await connection.execute(
                select(func.sum(TICKETS.c.occurrences)))).scalar_one()
            return dict(per_key), total.scalar_one(), occurrences

    per_key, tickets, occurrences = pg_db.run(counts)
    expected_keys = {f"round{r}-key{i}" for r in range(ROUNDS) for i in range(KEYS)}
    summary = f"worker reports: {reports}"
    assert set(per_key) == expected_keys, summary
    assert set(per_key.values()) == {1}, summary           # one active ticket per key
    assert tickets == len(expected_keys), summary           # and no other ticket at all
    signals = sum(r["signals"] for r in reports)
    assert occurrences == signals, summary                  # every signal counted once
    created = sum(r["results"].get("created", 0) for r in reports)
    repeated = sum(r["results"].get("repeated", 0) for r in reports)
    assert (created, repeated) == (len(expected_keys), signals - len(expected_keys)), summary
    print(summary)  # how often a batch met the other's keys: shown with pytest -s
