"""Long keys and labels: refused at the door naming the field, or stored alike on both backends.

PostgreSQL caps a btree index entry at ~2,704 bytes (SQLSTATE 54000 beyond), and a ticket's
dedup key is in a unique index; SQLite has no such cap. So the bounds are set at parsing, the
same on both backends: an Events `dedup_key` holds at most 255 characters and an Alertmanager
`fingerprint` 128 (in UTF-8 at most 1,020 and 512 bytes: always within the index), and a
longer one is a 400 naming the field. Labels are no part of a webhook alert's dedup key (the
fingerprint is), so long labels are accepted and kept whole in the ticket's details.

Should a value still reach PostgreSQL and break its limit, `collector/store/refusal.py` counts
54000 as the sender's (a 400 for that request, its group's other requests committed).

Real components: the collector process (`regie collector run`) on SQLite and PostgreSQL; the
PostgreSQL server at 127.0.0.1:5432 for the SQLSTATE table; the real Intake and TicketStore.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from collector.intake import ValueRefused
from collector.store.refusal import refused_value
from tests.collector.conftest import PG_ADMIN, _in_process
from tests.collector.test_api_unstorable_input import alert, event, stored, webhook
from tests.collector.test_intake import batch
from tests.collector.test_intake_isolation import _everything, with_intake


def incompressible(size: int) -> str:
    """ASCII that PostgreSQL's inline compression cannot shrink below the index cap."""
    return secrets.token_urlsafe(size)[:size]


@pytest.mark.parametrize(("length", "path", "make", "reason"), [
    (3_000, "/api/v1/events", lambda key, value: {**event(key), "dedup_key": value},
     "dedup_key: longer than 255 characters"),
    (256, "/api/v1/events", lambda key, value: {**event(key), "dedup_key": value},
     "dedup_key: longer than 255 characters"),
    (3_000, "/api/v1/alertmanager", lambda _, value: webhook(alert(fingerprint=value)),
     "alerts[0].fingerprint: longer than 128 characters"),
    (129, "/api/v1/alertmanager", lambda _, value: webhook(alert(fingerprint=value)),
     "alerts[0].fingerprint: longer than 128 characters"),
], ids=["dedup_key 3000", "dedup_key 256", "fingerprint 3000", "fingerprint 129"])
def test_an_over_long_key_is_refused_naming_the_field(collector, length, path, make, reason):
    before = stored(collector.db)
    body = make(collector.tokens["ingest"], incompressible(length))
    code, answer = collector.call("POST", path, body,
                                  token="ingest" if "alertmanager" in path else None)
    assert code == 400, answer
    assert answer["error"].startswith(reason), answer
    assert stored(collector.db) == before


def test_the_longest_keys_in_four_byte_characters_fit_the_index(collector):
    """255 four-byte characters (1,020 bytes) as a dedup key, 128 as a fingerprint: stored,
    and a repeat finds the same ticket (the unique index held them)."""
    key, fingerprint = "\U0001f525" * 255, "\U0001f4a5" * 128
    for _ in range(2):
        code, answer = collector.call("POST", "/api/v1/events",
                                      {**event(collector.tokens["ingest"]), "dedup_key": key},
                                      token=None)
        assert (code, answer.get("dedup_key")) == (202, key), answer
        code, answer = collector.call("POST", "/api/v1/alertmanager",
                                      webhook(alert(fingerprint=fingerprint)), token="ingest")
        assert code == 200, answer
    _, listed = collector.call("GET", "/api/v1/tickets", token="viewer")
    assert sorted((t["dedup_key"], t["occurrences"]) for t in listed["tickets"]) == sorted(
        [(f"events/{key}", 2), (f"alertmanager/{fingerprint}", 2)])


def test_3000_bytes_of_labels_are_accepted_and_kept_whole(collector):
    """Accepted by design (Alertmanager's labels are what they are; the fingerprint is the
    key): the same ticket, the same labels, on SQLite and on PostgreSQL."""
    labels = {"alertname": "Long", "host": "web-1", "query": incompressible(3_000),
              "path": "\u00e9" * 1_500}
    for _ in range(2):
        code, answer = collector.call("POST", "/api/v1/alertmanager",
                                      webhook(alert("long-labels", labels=labels)),
                                      token="ingest")
        assert code == 200, answer
    _, listed = collector.call("GET", "/api/v1/tickets?details=true", token="viewer")
    (ticket,) = listed["tickets"]
    assert (ticket["dedup_key"], ticket["host"], ticket["occurrences"]) == (
        "alertmanager/long-labels", "web-1", 2)
    assert ticket["details"]["labels"] == labels


# What PostgreSQL says, and whose fault it is: True when the sender's value (a 400 for that
# request alone), False when the statement or the database (a 500, the group as a whole).
SQLSTATES = [
    ("22003 numeric_value_out_of_range", ["SELECT 2147483647::int4 + 1"], True),
    ("22001 string_data_right_truncation",
     ["CREATE TEMP TABLE short (v varchar(3))", "INSERT INTO short VALUES ('abcdef')"], True),
    ("22008 datetime_field_overflow", ["SELECT '294277-01-01'::timestamp"], True),
    ("22021 character_not_in_repertoire", [r"SELECT convert_from('\x00'::bytea, 'UTF8')"],
     True),
    ("22P05 untranslatable_character", ["SELECT convert_to('\u20ac', 'LATIN1')"], True),
    ("54000 program_limit_exceeded",
     ["CREATE TEMP TABLE keyed (k text)", "CREATE UNIQUE INDEX ON keyed (k)",
      # 3,200 characters of hex digests: nothing for compression to find.
      "INSERT INTO keyed SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i"],
     True),
    ("54023 too_many_arguments", [f"SELECT concat({', '.join(['1'] * 101)})"], False),
    ("42P01 undefined_table", ["SELECT * FROM no_such_table"], False),
]


@pytest.mark.parametrize(("name", "statements", "senders"), SQLSTATES,
                         ids=[c[0] for c in SQLSTATES])
def test_which_postgresql_errors_are_the_senders(name, statements, senders):
    async def work(engine) -> BaseException:
        async with engine.connect() as connection:
            try:
                for statement in statements:
                    await connection.execute(text(statement))
            except DBAPIError as exc:
                return exc
        raise AssertionError("PostgreSQL accepted every statement")

    error = asyncio.run(_in_process(PG_ADMIN, work))
    code = getattr(error.orig, "sqlstate", None)
    assert code == name.split()[0], error
    assert refused_value(error) is senders, (code, error)


def test_a_key_over_the_index_cap_fails_its_request_only(tmp_path):
    """The fallback behind the parse-time bounds, on PostgreSQL (SQLite takes such a key):
    signals handed to the intake directly, as a parser with a gap would. The one request
    with a 3,000-byte key is refused as the sender's (400); the 20 others are committed."""
    from tests.collector.conftest import migrated, throwaway_database

    requests = [batch(f"r{n}", 1) for n in range(21)]
    requests[10] = [dataclasses.replace(requests[10][0], dedup_key=incompressible(3_000))]

    async def work(intake, store):
        results = await asyncio.gather(*(intake.signals(r) for r in requests),
                                       return_exceptions=True)
        return results, await store.list(dataclasses.replace(_everything(), limit=100))

    with throwaway_database("postgresql", tmp_path) as url:
        results, listed = asyncio.run(with_intake(migrated(url), work))
    assert isinstance(results[10], ValueRefused), results[10]
    assert [r[0].result for n, r in enumerate(results) if n != 10] == ["created"] * 20
    assert len(listed) == 20
