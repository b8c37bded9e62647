"""The push client against a real HTTP receiver (tests/agent/push_receiver.py) on loopback.

HTTP is never mocked. What is faked, and why, is said per test; most tests drive time with a
fake monotonic clock and call run_once() so no test waits for an interval to pass.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from agent.config import PushSettings
from agent.push import (
    PushService,
    backoff_seconds,
    classify,
    encode_spool_record,
    inventory_url,
    redact_url,
    request_body,
)
from agent.spool import Spool, encode_record, scan_segment
from regie import __version__
from regie.configfile import Secret
from tests.agent.push_receiver import Answer, Receiver
from tests.agent.spool_writer import record_key
from tests.services import free_port, require_binary, wait_for
from tests.tls import make_tls

REPO = Path(__file__).resolve().parents[2]
TOKEN = Secret("s3cr3t-token-value-0123456789")


class FakeClock:
    """Stands in for time.monotonic so retry and inventory intervals pass instantly."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Inventory:
    """A stand-in for collect_inventory(): a small document whose content the test changes."""

    def __init__(self) -> None:
        self.version = 0

    def __call__(self) -> dict[str, Any]:
        return {"schema": "regie.inventory/v1", "collected_at": f"t{time.monotonic()}",
                "host": {"hostname": "web1"}, "version": self.version}


def settings(tmp_path: Path, url: str, **overrides: Any) -> PushSettings:
    base = PushSettings(collector=url, spool_dir=tmp_path / "spool", fsync=True,
                        inventory_interval_seconds=900.0, retry_interval_seconds=30.0,
                        timeout_seconds=5.0)
    return replace(base, **overrides)


def service(tmp_path: Path, url: str, *, inventory: Any = None, clock: FakeClock | None = None,
            token: Secret | None = TOKEN, **overrides: Any) -> PushService:
    return PushService(settings(tmp_path, url, **overrides), token, inventory or Inventory(),
                       monotonic=clock or FakeClock(), clock=lambda: 1_700_000_000.0)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def down_url() -> str:
    """A loopback port nothing listens on: connections are refused (the collector is down)."""
    return f"http://127.0.0.1:{free_port()}"


# -- pure pieces -------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "outcome"), [
    (None, "retry"), (200, "delivered"), (201, "delivered"), (202, "delivered"),
    (204, "delivered"), (302, "rejected"), (400, "rejected"), (401, "rejected"),
    (403, "rejected"), (404, "rejected"), (408, "retry"), (409, "rejected"),
    (413, "rejected"), (422, "rejected"), (429, "retry"), (500, "retry"), (502, "retry"),
    (503, "retry"), (504, "retry"),
])
def test_classify(status: int | None, outcome: str) -> None:
    """Pure: what each answer means for a record."""
    assert classify(status) == outcome


@pytest.mark.parametrize(("failures", "seconds"), [
    (1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (6, 300), (60, 300),
])
def test_backoff(failures: int, seconds: float) -> None:
    """Pure: exponential, capped at ten retry intervals."""
    assert backoff_seconds(30.0, failures) == seconds


@pytest.mark.parametrize(("url", "shown", "endpoint"), [
    ("https://collector.example:8443", "https://collector.example:8443/api/v1/inventory",
     "https://collector.example:8443/api/v1/inventory"),
    ("https://u:pw@collector.example/regie/?t=x", "https://collector.example/regie/api/v1/inventory",
     "https://collector.example/regie/api/v1/inventory"),
    ("http://[::1]:9000/", "http://[::1]:9000/api/v1/inventory",
     "http://[::1]:9000/api/v1/inventory"),
])
def test_urls(url: str, shown: str, endpoint: str) -> None:
    """Pure: the endpoint drops URL credentials; the logged form drops them too."""
    assert inventory_url(url) == endpoint
    assert redact_url(inventory_url(url)) == shown


# -- delivery ----------------------------------------------------------------------------------

def test_delivered_with_token_and_idempotency_key(tmp_path: Path, receiver: Receiver) -> None:
    """Real receiver; the inventory is a small stand-in document."""
    push = service(tmp_path, receiver.url)
    try:
        push.run_once()
    finally:
        push.close()
    (request,) = receiver.requests
    assert request.path == "/api/v1/inventory"
    assert request.headers["authorization"] == f"Bearer {TOKEN.reveal()}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"regie-agent/{__version__}"
    key = request.headers["idempotency-key"]
    assert uuid.UUID(key).version == 4
    assert request.json["idempotency_key"] == key
    assert request.json["document"]["host"] == {"hostname": "web1"}


def test_no_token_no_authorization_header(tmp_path: Path, receiver: Receiver) -> None:
    """Real receiver; an agent without push.token_file sends no Authorization header."""
    push = service(tmp_path, receiver.url, token=None)
    push.run_once()
    push.close()
    assert "authorization" not in receiver.requests[0].headers


def test_pushes_only_when_the_digest_changes(tmp_path: Path, receiver: Receiver) -> None:
    """Real receiver; fake monotonic clock to pass inventory intervals. collected_at changes
    on every collection and does not count as a change."""
    clock, inventory = FakeClock(), Inventory()
    push = service(tmp_path, receiver.url, inventory=inventory, clock=clock)
    push.run_once()
    clock.advance(900)
    push.run_once()
    assert len(receiver.requests) == 1
    inventory.version = 1
    push.run_once()  # not due yet
    assert len(receiver.requests) == 1
    clock.advance(900)
    push.run_once()
    push.close()
    assert [r.json["document"]["version"] for r in receiver.requests] == [0, 1]
    assert receiver.requests[0].key != receiver.requests[1].key


def test_down_then_back_replays_in_order_each_key_once(tmp_path: Path) -> None:
    """Real receiver, first absent (nothing listens on its port: connection refused), then
    started on that port. Fake monotonic clock."""
    clock, inventory = FakeClock(), Inventory()
    port = free_port()
    push = service(tmp_path, f"http://127.0.0.1:{port}", inventory=inventory, clock=clock)
    for version in range(3):
        inventory.version = version
        push.run_once()
        clock.advance(900)
    assert len(push.spool) == 3
    with Receiver(port=port) as receiver:
        push.run_once()
        push.close()
    documents = [r.json["document"]["version"] for r in receiver.requests]
    keys = [r.key for r in receiver.requests]
    assert documents == [0, 1, 2]
    assert len(set(keys)) == 3
    assert all(r.json["idempotency_key"] == r.key for r in receiver.requests)
    with Spool(tmp_path / "spool", 1 << 20) as spool:
        assert len(spool) == 0  # acknowledged durably


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_transient_status_spools_with_the_same_key(tmp_path: Path, receiver: Receiver,
                                                   status: int) -> None:
    """Real receiver scripted to answer `status` once, then 200. Fake monotonic clock."""
    clock = FakeClock()
    receiver.answer(status)
    push = service(tmp_path, receiver.url, clock=clock)
    push.run_once()
    assert len(push.spool) == 1
    clock.advance(30)
    push.run_once()
    push.close()
    first, second = receiver.requests
    assert (first.status, second.status) == (status, 200)
    assert first.key == second.key
    assert first.body == second.body


def test_retry_after_is_honoured(tmp_path: Path, receiver: Receiver) -> None:
    """Real receiver answers 429 with Retry-After: 120; fake clock. No retry before 120 s."""
    clock = FakeClock()
    receiver.answer(Answer(429, headers=(("Retry-After", "120"),)))
    push = service(tmp_path, receiver.url, clock=clock,
                   inventory_interval_seconds=10_000.0)
    assert push.run_once() == pytest.approx(120)
    clock.advance(60)
    push.run_once()
    assert len(receiver.requests) == 1
    clock.advance(60)
    push.run_once()
    push.close()
    assert len(receiver.delivered()) == 1


@pytest.mark.parametrize("answer", [
    Answer(400, '{"error": "document.os: required"}'),
    Answer(401, '{"error": "unknown agent token"}'),
    Answer(422, '{"error": "schema regie.inventory/v9 not supported"}'),
    Answer(302, "", (("Location", "/login"),)),
], ids=["400", "401", "422", "redirect"])
def test_rejected_is_logged_counted_not_spooled(tmp_path: Path, receiver: Receiver,
                                                answer: Answer, caplog) -> None:
    """Real receiver scripted to refuse once; fake clock. A redirect is not followed (urllib
    would turn the POST into a bodiless GET)."""
    caplog.set_level(logging.INFO, logger="agent.push")
    clock = FakeClock()
    receiver.answer(answer)
    push = service(tmp_path, receiver.url, clock=clock)
    push.run_once()
    assert len(push.spool) == 0
    assert f"status {answer.status}" in caplog.text
    if answer.body:
        assert answer.body.split('"')[3] in caplog.text  # the collector's reason
    clock.advance(900)
    push.run_once()  # the same document is offered again at the next interval
    push.close()
    assert [r.status for r in receiver.requests] == [answer.status, 200]
    assert receiver.requests[0].key != receiver.requests[1].key
    assert all(r.path == "/api/v1/inventory" for r in receiver.requests)


def test_replay_stops_at_the_first_failure(tmp_path: Path) -> None:
    """Real receiver: three spooled records, the second answered 503. Fake clock."""
    clock, inventory = FakeClock(), Inventory()
    port = free_port()
    push = service(tmp_path, f"http://127.0.0.1:{port}", inventory=inventory, clock=clock,
                   inventory_interval_seconds=10_000.0)
    for version in range(3):
        inventory.version = version
        clock.advance(10_000)
        push.run_once()
    with Receiver(port=port) as receiver:
        receiver.answer(200, 503)
        clock.advance(300)
        push.run_once()
        assert [r.json["document"]["version"] for r in receiver.delivered()] == [0]
        assert len(push.spool) == 2
        clock.advance(30)
        push.run_once()
        push.close()
    assert [r.json["document"]["version"] for r in receiver.delivered()] == [0, 1, 2]
    assert [r.status for r in receiver.requests] == [200, 503, 200, 200]


def test_new_pushes_queue_behind_the_spool(tmp_path: Path, receiver: Receiver) -> None:
    """Real receiver answering 503 twice; fake clock. A newer document must not overtake an
    older spooled one, even when the collector is back before the retry is due."""
    clock, inventory = FakeClock(), Inventory()
    receiver.answer(503)
    push = service(tmp_path, receiver.url, inventory=inventory, clock=clock,
                   inventory_interval_seconds=10.0, retry_interval_seconds=30.0)
    push.run_once()  # 503: spooled
    inventory.version = 1
    clock.advance(10)
    push.run_once()  # collector is fine now, but the spool is not empty: queued behind it
    assert len(receiver.requests) == 1 and len(push.spool) == 2
    clock.advance(20)
    push.run_once()
    push.close()
    assert [r.json["document"]["version"] for r in receiver.delivered()] == [0, 1]


def test_rejected_during_replay_is_dropped(tmp_path: Path) -> None:
    """Real receiver: of two spooled records the first is refused (400) on replay."""
    clock, inventory = FakeClock(), Inventory()
    port = free_port()
    push = service(tmp_path, f"http://127.0.0.1:{port}", inventory=inventory, clock=clock)
    push.run_once()
    inventory.version = 1
    clock.advance(900)
    push.run_once()
    with Receiver(port=port) as receiver:
        receiver.answer(400)
        clock.advance(300)
        push.run_once()
        push.close()
    assert [r.status for r in receiver.requests] == [400, 200]
    assert len(push.spool) == 0


def test_backoff_while_down(tmp_path: Path) -> None:
    """No receiver at all (refused connections); fake clock. The wait grows and is capped."""
    clock = FakeClock()
    push = service(tmp_path, down_url(), clock=clock, inventory_interval_seconds=100_000.0)
    waits = []
    for _ in range(7):
        waits.append(push.run_once())
        clock.advance(waits[-1])
    push.close()
    assert waits == [30, 60, 120, 240, 300, 300, 300]


# -- metrics and logs --------------------------------------------------------------------------

def test_metrics(tmp_path: Path) -> None:
    """Real receiver (down, then 400, then up); fake clocks; a fresh CollectorRegistry; the
    exposition checked by the real promtool."""
    clock, inventory = FakeClock(), Inventory()
    port = free_port()
    push = service(tmp_path, f"http://127.0.0.1:{port}", inventory=inventory, clock=clock)
    registry = CollectorRegistry()
    registry.register(push.collector())

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("regie_agent_inventory_last_push_timestamp_seconds") == 0
    push.run_once()  # down: spooled
    assert value("regie_agent_inventory_pushes_total", result="spooled") == 1
    assert value("regie_agent_spool_records") == 1
    assert value("regie_agent_spool_bytes") == len(encode_record(0, b"")) + \
        len(push.spool.peek() or b"")
    with Receiver(port=port) as receiver:
        clock.advance(900)
        push.run_once()  # replayed; unchanged inventory is not pushed again
        receiver.answer(400)
        inventory.version = 1
        clock.advance(900)
        push.run_once()
    assert value("regie_agent_inventory_pushes_total", result="delivered") == 1
    assert value("regie_agent_inventory_pushes_total", result="rejected") == 1
    assert value("regie_agent_inventory_pushes_total", result="spooled") == 1
    assert value("regie_agent_spool_records") == 0
    assert value("regie_agent_spool_bytes") == 0
    assert value("regie_agent_spool_dropped_records_total") == 0
    assert value("regie_agent_spool_corrupt_records_total") == 0
    assert value("regie_agent_spool_max_bytes") == push.spool.max_bytes
    assert value("regie_agent_inventory_last_push_timestamp_seconds") == 1_700_000_000.0
    text = generate_latest(registry)
    promtool = subprocess.run([require_binary("promtool"), "check", "metrics"], input=text,
                              capture_output=True, timeout=30, check=False)
    assert (promtool.returncode, promtool.stdout, promtool.stderr) == (0, b"", b"")
    push.close()


def test_dropped_records_are_counted(tmp_path: Path) -> None:
    """No receiver (down); a spool bound small enough that the third document drops the first."""
    clock, inventory = FakeClock(), Inventory()
    push = service(tmp_path, down_url(), inventory=inventory, clock=clock,
                   spool_max_bytes=1024)
    registry = CollectorRegistry()
    registry.register(push.collector())
    for version in range(8):
        inventory.version = version
        push.run_once()
        clock.advance(900)
    push.close()
    dropped = registry.get_sample_value("regie_agent_spool_dropped_records_total")
    assert dropped and dropped > 0
    assert dropped + registry.get_sample_value("regie_agent_spool_records") == 8


def test_token_and_url_credentials_never_logged(tmp_path: Path, caplog) -> None:
    """Real receiver that fails in every way, including echoing the request's Authorization
    header in a 400 reason; the configured URL carries user:password. DEBUG logs are checked."""
    caplog.set_level(logging.DEBUG)
    clock, inventory = FakeClock(), Inventory()
    port = free_port()
    url = f"http://agent:hunter2pw@127.0.0.1:{port}"
    push = service(tmp_path, url, inventory=inventory, clock=clock)
    push.run_once()  # refused
    with Receiver(port=port) as receiver:
        receiver.answer(503, Answer(400, f'{{"error": "bad header Bearer {TOKEN.reveal()}"}}'))
        clock.advance(30)
        push.run_once()  # 503 on replay
        clock.advance(60)
        push.run_once()  # 400 on replay
        inventory.version = 1
        clock.advance(900)
        push.run_once()  # delivered
        push.close()
    assert receiver.delivered()[0].headers["authorization"] == f"Bearer {TOKEN.reveal()}"
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert TOKEN.reveal() not in logged
    assert "hunter2pw" not in logged
    assert f"127.0.0.1:{port}/api/v1/inventory" in caplog.text
    assert "rejected" in caplog.text and "***" in caplog.text


# -- TLS ---------------------------------------------------------------------------------------

def test_tls_verified_against_ca_file(tmp_path: Path, caplog) -> None:
    """Real HTTPS receiver with a certificate from a private CA generated here. With ca_file
    the push is delivered; without it verification fails and the record is spooled."""
    tls = make_tls(tmp_path)
    ca_file = tls.ca
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert, tls.key)
    with Receiver(tls=context) as receiver:
        untrusted = service(tmp_path / "a", receiver.url)
        untrusted.run_once()
        untrusted.close()
        assert receiver.requests == []
        assert len(untrusted.spool) == 1
        assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
        trusted = service(tmp_path / "b", receiver.url, ca_file=ca_file)
        trusted.run_once()
        trusted.close()
    assert len(receiver.delivered()) == 1


# -- the thread --------------------------------------------------------------------------------

def test_start_and_close_promptly(tmp_path: Path, receiver: Receiver) -> None:
    """Real receiver, real clock, real daemon thread: pushes at start, close() returns fast
    although the next inventory is a long interval away."""
    push = PushService(settings(tmp_path, receiver.url), TOKEN, Inventory())
    push.start()
    wait_for(lambda: receiver.delivered(), timeout=20, what="the first push")
    started = time.monotonic()
    push.close()
    assert time.monotonic() - started < 2.0
    assert push._thread is not None and not push._thread.is_alive()


# -- crash safety end to end -------------------------------------------------------------------

WRITER = [sys.executable, "-m", "tests.agent.spool_writer"]
PAD = 192 * 1024


def _document_ids(receiver: Receiver) -> list[Any]:
    ids = []
    for request in receiver.delivered():
        document = request.json["document"]  # a torn record would not parse
        if document.get("id") == "final":
            ids.append("final")
            continue
        assert document["pad"] == "x" * PAD
        assert request.key == record_key(document["id"]) == request.json["idempotency_key"]
        ids.append(document["id"])
    return ids


def _final_inventory() -> dict[str, Any]:
    return {"id": "final"}


def _write_until_killed(spool_dir: Path, n: int) -> list[int]:
    """Run the writer child until it has printed n more ids, SIGKILL it at a random moment
    soon after, and return every id it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([*WRITER, str(spool_dir), str(PAD), "2000"], cwd=REPO, env=env,
                             stdout=subprocess.PIPE)
    assert child.stdout is not None
    printed: list[int] = []
    try:
        while len(printed) < n:
            line = child.stdout.readline()
            assert line, f"the writer exited early with {child.wait()}"
            printed.append(int(line))
        # The writer runs on; kill it at a random point of its loop rather than in step with
        # its output (the result must not depend on where).
        time.sleep(random.uniform(0, 0.005))
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        printed += [int(line) for line in child.stdout.read().splitlines()]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    return printed


def test_kill_during_spool_write_then_replay(tmp_path: Path) -> None:
    """Collector down -> N pushes spooled -> kill -9 during a write -> restart -> collector up
    -> every complete record delivered once, in order.

    Real child process (tests/agent/spool_writer.py) appending 192 KiB push records to one
    spool in a tight loop, SIGKILLed after it has printed N ids. Whether a kill tears a record
    depends on where in the loop it lands (about one kill in four here), so the writer is
    restarted on the same spool and killed again - an agent in a crash loop - until the last
    segment ends in a torn record (at most 40 kills). Then a fresh PushService in this process
    opens the spool while the collector is still down, and a real receiver comes up. The
    deterministic test below covers the torn tail on every run."""
    spool_dir = tmp_path / "spool"
    kills: list[list[int]] = []
    torn = False
    while not torn and len(kills) < 40:
        kills.append(_write_until_killed(spool_dir, n=25 if not kills else 10))
        last = sorted(spool_dir.glob("*.seg"))[-1].read_bytes()
        torn = scan_segment(last).end < len(last)

    clock = FakeClock()
    port = free_port()
    push = service(tmp_path, f"http://127.0.0.1:{port}", inventory=_final_inventory,
                   clock=clock, spool_max_bytes=1 << 30)
    push.run_once()  # collector still down: the new inventory queues behind the spool
    with Receiver(port=port) as receiver:
        clock.advance(3600)
        push.run_once()
        push.close()
    assert len({r.key for r in receiver.delivered()}) == len(receiver.delivered())
    ids = _document_ids(receiver)  # parses every body: nothing torn was delivered
    assert ids[-1] == "final"
    delivered = ids[:-1]
    # In order, each once, nothing skipped ...
    assert delivered == list(range(len(delivered)))
    # ... every printed id among them; the only others are records whose append completed
    # just before a kill, before their id was printed (at most one per kill).
    printed = [i for ids_ in kills for i in ids_]
    assert set(printed) <= set(delivered)
    assert set(delivered) - set(printed) <= {ids_[-1] + 1 for ids_ in kills}
    print(f"\nkill -9 test: {len(kills)} kill(s), {len(printed)} ids printed, "
          f"{len(delivered)} delivered, last kill tore a record: {torn}")


def test_torn_tail_then_replay_is_deterministic(tmp_path: Path) -> None:
    """Simulates the torn write byte-exactly: the real writer child runs to completion (10
    records), then the last segment is truncated 1000 bytes into its last record - what a
    kill -9 in the middle of write() leaves. A fresh PushService delivers records 0..8 in
    order to a real receiver, and nothing torn."""
    spool_dir = tmp_path / "spool"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([*WRITER, str(spool_dir), str(PAD), "10"], cwd=REPO, env=env,
                         capture_output=True, check=True, timeout=60).stdout
    assert out.split() == [str(i).encode() for i in range(10)]
    last = sorted(spool_dir.glob("*.seg"))[-1]
    key = record_key(9)
    tenth = encode_record(9, encode_spool_record(key, request_body(key, {"id": 9,
                                                                          "pad": "x" * PAD})))
    size = last.stat().st_size
    assert size >= len(tenth)
    os.truncate(last, size - len(tenth) + 1000)
    with Receiver() as receiver:
        push = service(tmp_path, receiver.url, inventory=_final_inventory,
                       spool_max_bytes=1 << 30)
        push.run_once()
        push.close()
    assert _document_ids(receiver) == [*range(9), "final"]
