"""An Events API request without a bearer token (its token is the body's routing_key) is
bounded to PagerDuty's 512 KB event before its body is read or parsed, against the real
collector process on SQLite and PostgreSQL.

Found: anyone who could reach the port could send 8 MiB bodies ([server] max_body_bytes) built
to be slow to parse (200,000 keys, millions of empty objects or nested lists): the collector
parsed each in its event loop before it looked at the routing_key, 1.2-2 s per request on a
quiet machine, while /healthz and every sender's alerts waited.
"""

from __future__ import annotations

import gzip
import json
import time

import pytest

LIMIT = 512 * 1024


def event(routing_key: str, filler: int) -> bytes:
    return json.dumps({"routing_key": routing_key, "event_action": "trigger",
                       "dedup_key": f"big-{filler}",
                       "payload": {"summary": "disk full", "source": "db1", "severity": "error",
                                   "custom_details": {"log": "x" * filler}}}).encode()


def slow_to_parse(size: int) -> bytes:
    return b"[" + b"[[[]]]," * (size // 7 - 2) + b"1]"


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_an_event_without_bearer_token_over_512_kib_is_refused_unread(collector, encoding):
    body = event(collector.tokens["ingest"], LIMIT)
    headers = {}
    if encoding:   # no Content-Length to go by: refused as it is read
        body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
    status, answer = collector.call("POST", "/api/v1/events", raw=body, token=None,
                                    headers=headers)
    assert status == 413, answer
    assert answer["status"] == "invalid event" and answer["message"] == (
        "Event object is too large"), answer
    assert answer["errors"] == [f"body larger than {LIMIT} bytes (an event without a bearer "
                                f"token)"], answer
    status, listed = collector.call("GET", "/api/v1/tickets", token="viewer")
    assert listed["tickets"] == [], listed


def test_an_event_without_bearer_token_under_512_kib_is_taken(collector):
    status, answer = collector.call("POST", "/api/v1/events", token=None,
                                    raw=event(collector.tokens["ingest"], LIMIT - 2048))
    assert status == 202, answer


def test_a_sender_with_a_bearer_token_keeps_the_server_limit(collector):
    status, answer = collector.call("POST", "/api/v1/events", token="ingest",
                                    raw=event(collector.tokens["ingest"], 2 * LIMIT))
    assert status == 202, answer


def test_slow_bodies_without_a_token_do_not_hold_the_collector(collector):
    """Eight of the slowest 8 MiB bodies, each refused before parsing: /healthz answers
    meanwhile as it does alone."""
    import threading

    body = slow_to_parse(8 * 1024 * 1024 - 64)
    answers: list[int] = []

    def send() -> None:
        answers.append(collector.call("POST", "/api/v1/events", raw=body, token=None)[0])

    senders = [threading.Thread(target=send) for _ in range(8)]
    started = time.monotonic()
    for sender in senders:
        sender.start()
    worst = 0.0
    while any(s.is_alive() for s in senders):
        begin = time.monotonic()
        status, _ = collector.call("GET", "/healthz", token=None)
        worst = max(worst, time.monotonic() - begin)
        assert status == 200
    for sender in senders:
        sender.join()
    assert answers == [413] * 8, answers
    assert worst < 0.5, (worst, time.monotonic() - started)
