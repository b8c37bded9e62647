"""One bad channel costs only its own deliveries, and a channel that can never work stops the
collector at start-up. Real `regie collector run` processes, a real webhook receiver, a real
SMTP server (aiosmtpd, STARTTLS required); nothing here is faked.

The reproduction that started this: a webhook URL whose host fails IDNA encoding
(``http://127.0.0.1..:PORT/h``) was accepted at start-up; its lookup raised `UnicodeError`
inside the delivery round, so no outcome of the round was written: every notification stayed
pending with 0 attempts and the good receivers got the same notices again at every lease.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.push_receiver import Receiver
from tests.collector.conftest import Collector, collector_process, migrated, throwaway_database
from tests.collector.oncall_harness import HOOK_SECRET, LINK_SECRET, SCHEDULE
from tests.services import free_port, wait_for


def _private(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def _oncall_config(tmp_path: Path, channels: str, *, max_attempts: int = 10) -> str:
    schedule = tmp_path / "oncall.yml"
    schedule.write_text(SCHEDULE)
    link = _private(tmp_path / "link.key", LINK_SECRET)
    _private(tmp_path / "hook.key", HOOK_SECRET)
    return f"""\
[oncall]
schedule_file = "{schedule}"
link_secret_file = "{link}"
max_attempts = {max_attempts}

{channels}"""


def _hook(name: str, url: str, tmp_path: Path) -> str:
    return f"""
[[oncall.channels]]
name = "{name}"
kind = "webhook"
url = "{url}"
secret_file = "{tmp_path / 'hook.key'}"
allow_networks = ["127.0.0.0/8"]
timeout_seconds = 5
"""


@pytest.mark.parametrize("url", ["http://127.0.0.1..:18999/h", "http://hooks..example/h",
                                 f"http://{'a' * 64}.example/h",
                                 # One character, U+2488 DIGIT ONE FULL STOP: the IDNA
                                 # mapping makes it "1.", so the name is "1..example" (it
                                 # passed the check, then failed every delivery).
                                 "http://\u2488.example/h"])
def test_a_webhook_url_that_cannot_resolve_stops_the_collector(tmp_path, url):
    """The attack's URL (and its kin) is refused at start-up: exit 2, the channel named."""
    db = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    conf = tmp_path / "collector.toml"
    conf.write_text(_oncall_config(tmp_path, _hook("good", "http://127.0.0.1:18998/h", tmp_path)
                                   + _hook("broken", url, tmp_path)))
    result = subprocess.run([sys.executable, "-m", "regie", "collector", "run", "--config",
                             str(conf), "--db", db, "--listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "oncall.channels[1].url" in result.stderr
    assert "channel 'broken'" in result.stderr
    assert "not a valid DNS name" in result.stderr
    assert url not in result.stderr      # the URL may be a credential (Slack): never echoed


def test_a_webhook_url_the_sender_cannot_read_stops_the_collector(tmp_path):
    """A backslash before the path: urllib (the start-up check) read 'example.com' as the
    host and let it pass, while yarl, which the send uses, refuses the URL, so every
    delivery to the channel raised ValueError (an unexpected error with a traceback per
    attempt). Refused at start-up now: exit 2, the channel named, the URL not echoed."""
    db = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    url = "http://127.0.0.1\\\\@example.com/h"   # one backslash once TOML has read it
    conf = tmp_path / "collector.toml"
    conf.write_text(_oncall_config(tmp_path, _hook("good", "http://127.0.0.1:18998/h", tmp_path)
                                   + _hook("broken", url, tmp_path)))
    result = subprocess.run([sys.executable, "-m", "regie", "collector", "run", "--config",
                             str(conf), "--db", db, "--listen", f"127.0.0.1:{free_port()}"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "oncall.channels[1].url" in result.stderr
    assert "channel 'broken'" in result.stderr
    assert "is not a valid URL" in result.stderr
    assert "example.com" not in result.stderr


def test_an_smtp_host_that_cannot_resolve_stops_the_collector(tmp_path):
    db = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    conf = tmp_path / "collector.toml"
    conf.write_text(_oncall_config(tmp_path, """
[[oncall.channels]]
name = "mail"
kind = "email"
host = "mail..example"
from_address = "regie@example.org"
"""))
    result = subprocess.run([sys.executable, "-m", "regie", "collector", "run", "--config",
                             str(conf), "--db", db, "--listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "oncall.channels[0].host" in result.stderr and "channel 'mail'" in result.stderr


def _notifications(collector: Collector, channel: str) -> list[dict]:
    status, body = collector.call("GET", "/api/v1/notifications?limit=500", token="viewer")
    assert status == 200, body
    return [n for n in body["notifications"] if n["channel"] == channel]


def _p1_tickets(collector: Collector, count: int) -> list[int]:
    """`count` business-critical reports on hosts db0, db1, ...: each pages (P1)."""
    tickets = []
    for n in range(count):
        status, ticket = collector.call("POST", "/api/v1/tickets", {
            "summary": f"service{n} down on db{n}", "host": f"db{n}",
            "component": f"service{n}", "impact": "business-critical",
            "urgency": "high"}, token="responder")
        assert status == 201, ticket
        tickets.append(ticket["id"])
    return tickets


def _settled(collector: Collector, channel: str, count: int, *, timeout: float,
             status: str = "delivered") -> list[dict]:
    """Wait until `channel` holds `count` notifications, all `status`; those."""
    def done() -> list[dict]:
        told = _notifications(collector, channel)
        return told if len(told) == count and all(
            n["status"] == status for n in told) else []

    return wait_for(done, timeout=timeout, interval=0.2,
                    what=f"the {count} notices on {channel} to be {status}")


def test_a_failing_channel_costs_only_its_own_deliveries(tmp_path):
    """Three P1 tickets page the primary on two channels: a webhook to a working receiver and
    e-mail whose CA file is replaced by garbage after start-up (a botched certificate
    rotation; before the fix, loading it raised out of the delivery round). The webhook
    notices are delivered exactly once each; the e-mail ones are retried, then dead-lettered
    with the reason; nothing stays pending with 0 attempts."""
    from tests.alerting.notify.peers import PASSWORD, USER, smtp_server
    from tests.tls import make_tls

    (tmp_path / "tls").mkdir()
    tls = make_tls(tmp_path / "tls")
    ca_file = tmp_path / "smtp-ca.pem"
    ca_file.write_bytes(tls.ca.read_bytes())
    password = _private(tmp_path / "smtp.password", PASSWORD)
    db = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    with Receiver() as receiver, smtp_server(tls=tls, mode="starttls") as box:
        channels = _hook("hook", f"{receiver.url}/hook", tmp_path) + f"""
[[oncall.channels]]
name = "mail"
kind = "email"
host = "127.0.0.1"
port = {box.port}
mode = "starttls"
ca_file = "{ca_file}"
username = "{USER}"
password_file = "{password}"
from_address = "Regie <regie@example.org>"
timeout_seconds = 5
"""
        config = _oncall_config(tmp_path, channels, max_attempts=2)
        with collector_process(tmp_path, db, config) as collector:
            ca_file.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n")
            tickets = _p1_tickets(collector, 3)
            _settled(collector, "hook", 3, timeout=60)
            # max_attempts = 2: one retry after the first backoff (10 s), then a dead letter.
            mails = _settled(collector, "mail", 3, timeout=90, status="dead")
            hooks = _notifications(collector, "hook")
        log = (tmp_path / f"collector-{collector.port}.log").read_text()

    assert sorted(n["ticket_id"] for n in hooks) == sorted(tickets)
    assert all(n["attempts"] == 1 for n in hooks)
    deliveries = [r.headers["x-regie-delivery"] for r in receiver.delivered()]
    assert sorted(deliveries) == sorted(f"regie-{n['id']}" for n in hooks)   # exactly once
    assert len(mails) == 3
    for mail in mails:
        assert mail["attempts"] == 2
        assert "TLS failed" in mail["last_error"] and "(after 2 attempts)" in mail["last_error"]
    assert box.messages == []
    assert PASSWORD not in log and HOOK_SECRET not in log


# A receiver's Retry-After as its bytes arrive (the HTTP receiver writes header values as
# Latin-1, so these strings are the UTF-8 bytes the collector reads).
_ODD_RETRY_AFTER = {
    # '²' (U+00B2): str.isdigit() took it, float() refused it.
    "superscript": "\u00c2\u00b2",
    # An HTTP-date with an 11-digit year: email.utils raised OverflowError.
    "year": "Mon, 01 Jan 99999999999 00:00:00 GMT",
}


def test_an_odd_retry_after_is_that_answer_retried_not_an_unexpected_error(tmp_path):
    """Receivers answering 503 with a Retry-After the collector could not read: each notice
    is retried as a 503 (the header ignored, the backoff applies), not as an unexpected
    error logged with a traceback at ERROR at every attempt."""
    from tests.agent.push_receiver import Answer

    db = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    receivers = {name: Receiver() for name in _ODD_RETRY_AFTER}
    for name, value in _ODD_RETRY_AFTER.items():
        receivers[name].answer(Answer(503, "busy", headers=(("Retry-After", value),)))
    with receivers["superscript"], receivers["year"]:
        channels = "".join(_hook(name, f"{r.url}/hook", tmp_path)
                           for name, r in receivers.items())
        with collector_process(tmp_path, db, _oncall_config(tmp_path, channels)) as collector:
            status, ticket = collector.call("POST", "/api/v1/tickets", {
                "summary": "service down on db1", "host": "db1", "component": "service",
                "impact": "business-critical", "urgency": "high"}, token="responder")
            assert status == 201, ticket

            def tried(name: str) -> list[dict]:
                told = _notifications(collector, name)
                return told if told and all(n["attempts"] == 1 for n in told) else []

            for name in _ODD_RETRY_AFTER:
                (notice,) = wait_for(lambda name=name: tried(name), timeout=60, interval=0.2,
                                     what=f"the notice to {name} to be tried once")
                assert notice["status"] == "pending", notice
                assert "HTTP 503" in notice["last_error"], notice
        log = (tmp_path / f"collector-{collector.port}.log").read_text()
    assert "unexpected" not in log and "Traceback" not in log, log


class _Silent:
    """A receiver that accepts connections and never answers (nor closes them)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.port = free_port()
        self.held: list = []
        self._server = socket.create_server(("127.0.0.1", self.port), backlog=200)
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.held.append(connection)

    def __enter__(self) -> _Silent:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()
        for connection in self.held:
            connection.close()


@pytest.mark.timeout(240)   # without the fix the good notices are recorded after 165 s
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_receiver_that_never_answers_delays_no_other_channel(tmp_path, backend):
    """Twenty P1 tickets page on two webhooks: one receiver accepts and never answers (its
    timeout 55 s), the other answers at once. Every notice to the good one is delivered and
    recorded while the silent one has not yet cost a single attempt. Before, the round's
    eight sends were all taken by the silent receiver within moments, and nothing of the
    round was recorded until its slowest send ended: the good channel's notices were sent
    after 10 s steps and recorded only after the silent one's timeouts."""
    with throwaway_database(backend, tmp_path) as url, Receiver() as good, \
            _Silent() as silent:
        db = migrated(url)
        channels = (_hook("silent", f"http://127.0.0.1:{silent.port}/h", tmp_path)
                    .replace("timeout_seconds = 5", "timeout_seconds = 55")
                    + _hook("good", f"{good.url}/hook", tmp_path))
        with collector_process(tmp_path, db, _oncall_config(tmp_path, channels)) as collector:
            _p1_tickets(collector, 20)
            _settled(collector, "good", 20, timeout=200)
            stuck = _notifications(collector, "silent")
            assert len(stuck) == 20
            assert all(n["status"] == "pending" and n["attempts"] == 0 for n in stuck), stuck
            assert 1 <= len(silent.held) <= 8     # the channel's own share of sends, no more
    assert len(good.delivered()) == 20


@pytest.mark.timeout(180)
def test_a_file_channel_whose_writes_never_return_delays_no_other_channel(tmp_path):
    """The file channel on a named pipe nobody reads (as a log shipper's pipe when the shipper
    has stopped, or a file on a hung network mount): opening it for writing never returns.
    Each attempt's write took a thread of the event loop's default executor (six threads on
    two CPUs) and kept it when the attempt timed out, so after six notices the executor was
    full: a webhook named by host name waited for a DNS lookup in that executor and timed
    out, and none of its notices was delivered (nor did anything else that runs there, the
    embedded evaluator's parsing and TLS set-up among them). Now each file has one writer
    thread of its own, and an attempt while its last write has not returned fails at once
    (retried later): the webhook's 12 notices are delivered."""
    pipe = tmp_path / "pager.pipe"
    os.mkfifo(pipe)
    db = migrated(f"sqlite:///{tmp_path / 'regie.db'}")
    with Receiver() as good:
        channels = (_hook("good", f"http://localhost:{good.port}/hook", tmp_path) + f"""
[[oncall.channels]]
name = "pipe"
kind = "file"
path = "{pipe}"
""")
        with collector_process(tmp_path, db, _oncall_config(tmp_path, channels)) as collector:
            _p1_tickets(collector, 12)
            _settled(collector, "good", 12, timeout=120)
            stuck = _notifications(collector, "pipe")
    assert len(stuck) == 12 and all(n["status"] == "pending" for n in stuck), stuck
    assert len(good.delivered()) == 12


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_receivers_answer_that_the_database_cannot_store_is_that_attempts_failure(
        tmp_path, backend):
    """A webhook answering 500 with a NUL in its body: the body becomes the attempt's
    last_error, which PostgreSQL cannot store. The notice is retried as a 500 with the
    answer's text kept readable, and nothing is logged as unexpected."""
    from tests.agent.push_receiver import Answer

    with throwaway_database(backend, tmp_path) as url, Receiver() as odd:
        db = migrated(url)
        odd.answer(Answer(500, "bad\x00gateway"))
        channels = _hook("odd", f"{odd.url}/hook", tmp_path)
        with collector_process(tmp_path, db, _oncall_config(tmp_path, channels)) as collector:
            _p1_tickets(collector, 1)

            def tried() -> list[dict]:
                told = _notifications(collector, "odd")
                return told if told and all(n["attempts"] == 1 for n in told) else []

            (notice,) = wait_for(tried, timeout=60, interval=0.2,
                                 what="the notice to be tried once")
        log = (tmp_path / f"collector-{collector.port}.log").read_text()
    assert notice["status"] == "pending", notice
    assert "HTTP 500" in notice["last_error"] and "gateway" in notice["last_error"], notice
    assert "\x00" not in notice["last_error"]
    assert "unexpected" not in log and "Traceback" not in log, log
