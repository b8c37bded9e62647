"""A recurrence counted again from the last start seen (alerting/maintenance.py `_starts`)
lists exactly what dateutil lists from the first start, for rules of every kind the windows
take (INTERVAL, COUNT, UNTIL, BYSETPOS, BYEASTER, WKST, lists of days), in zones with DST
(Lord Howe's is half an hour), as time moves on and back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerting.maintenance import _rule, _starts

RULES = [
    "FREQ=DAILY", "FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY;BYDAY=SU", "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=WEEKLY;INTERVAL=5;BYDAY=MO,FR", "FREQ=MONTHLY", "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1", "FREQ=MONTHLY;INTERVAL=7;BYMONTHDAY=31",
    "FREQ=YEARLY", "FREQ=YEARLY;INTERVAL=3;BYMONTH=3;BYDAY=-1SU", "FREQ=DAILY;COUNT=5000",
    "FREQ=WEEKLY;COUNT=300;BYDAY=SA,SU", "FREQ=DAILY;UNTIL=20270101T000000Z",
    "FREQ=MONTHLY;BYMONTHDAY=1,15,-1", "FREQ=YEARLY;BYYEARDAY=1,100,200,366",
    "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "FREQ=YEARLY;BYEASTER=0",
    "FREQ=MONTHLY;COUNT=100;BYSETPOS=2;BYDAY=MO,TU,WE",
    "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,SA",
]
ZONES = ["UTC", "Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe"]


@pytest.mark.parametrize("body", RULES)
def test_counting_from_the_last_start_seen_lists_the_same_starts(body):
    rng = random.Random(body)
    for _ in range(4):
        zone = ZoneInfo(rng.choice(ZONES))
        first = datetime(rng.randint(2000, 2025), rng.randint(1, 12), rng.randint(1, 28),
                         rng.randint(0, 23), rng.choice([0, 30]), tzinfo=UTC).astimezone(zone)
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randint(0, 5000))
        for _ in range(30):
            at += timedelta(hours=rng.choice([1, 7, 24, 24 * 9, -30, 24 * 40]))
            since = at.astimezone(zone)
            until = (at + timedelta(days=rng.choice([1, 366]))).astimezone(zone)
            assert _starts(body, first, since, until) == \
                _rule(body, first).between(since, until, inc=True), (body, first, since)
