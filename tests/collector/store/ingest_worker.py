"""One collector process for test_two_collectors.py: batches of signals into PostgreSQL.

    python -m tests.collector.store.ingest_worker URL ROUNDS KEYS BATCH SEED

Prints "ready" once connected, waits for a line on stdin (so both processes start together),
then, for each round, triggers KEYS new dedup keys (plus a repeat of every key of the round
before) in batches of BATCH, in an order shuffled by SEED. Prints one JSON line: the number of
signals applied, the outcomes by result, and how often a batch had to be applied again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
from collections import Counter
from datetime import UTC, datetime

from alerting.priority import assess
from alerting.ticket import Action, Criticality, Signal
from collector.store.engine import create_engine
from collector.store.tickets import TicketStore


class _Retries(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _assess(signal: Signal, systems: int):
    return assess(criticality=Criticality.MEDIUM, urgency=signal.urgency,
                  systems_affected=systems)


def _trigger(key: str, now: datetime) -> Signal:
    return Signal(dedup_key=key, action=Action.TRIGGER, origin="alertmanager",
                  summary=f"{key} firing", occurred_at=now, host=f"host-{hash(key) % 20}",
                  component="web")


async def main(url: str, rounds: int, keys: int, batch: int, seed: int) -> None:
    retries = _Retries()
    store_log = logging.getLogger("regie.collector.store")
    store_log.addHandler(retries)
    store_log.setLevel(logging.INFO)
    shuffle = random.Random(seed).shuffle
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:   # connected before the start
            await connection.exec_driver_sql("SELECT 1")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        tickets = TicketStore(engine)
        results: Counter[str] = Counter()
        signals = 0
        for number in range(rounds):
            now = datetime.now(UTC)
            names = [f"round{number}-key{i}" for i in range(keys)]
            if number:
                names += [f"round{number - 1}-key{i}" for i in range(keys)]
            shuffle(names)
            for start in range(0, len(names), batch):
                chunk = [_trigger(name, now) for name in names[start:start + batch]]
                outcomes = await tickets.apply_signals(chunk, now=now, assess=_assess)
                results.update(o.result for o in outcomes)
                signals += len(chunk)
    finally:
        await engine.dispose()
    print(json.dumps({"signals": signals, "results": results, "retries": retries.count}),
          flush=True)


if __name__ == "__main__":
    url, rounds, keys, batch, seed = sys.argv[1:6]
    asyncio.run(main(url, int(rounds), int(keys), int(batch), int(seed)))
