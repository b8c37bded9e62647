"""Pushing the inventory to the collector, with a disk spool for while it is away.

Every `inventory_interval_seconds` the inventory is collected; when its digest differs from the
last one handed over, it becomes a record::

    POST {collector}/api/v1/inventory
    Authorization: Bearer <token>
    Idempotency-Key: <uuid4>
    Content-Type: application/json

    {"idempotency_key": "<the same uuid4>", "document": {...}}

The document carries where Prometheus scrapes this agent (`scrape_section`: its advertised
address, http or https, and the labels of `push.labels`), so the collector can hand the fleet
to Prometheus as targets (`regie deploy prometheus-targets`, GET /api/v1/prometheus/targets).
It is part of the digest: a changed address or label is pushed at the next interval.

A 2xx answer means delivered. No answer (refused, timed out, TLS failure), a 5xx, 408 or 429
means "later": the record goes to the spool with its key unchanged, so a re-delivery is one the
collector recognises. Any other 4xx means the collector will never take this record: it is
logged with the status and the collector's reason, counted as rejected and not kept (the
document is offered again at the next interval, in case the cause was fixed).

While the spool holds anything, new records join its tail so the collector receives them in
order, and the spool is replayed oldest first every `retry_interval_seconds`, stopping at the
first failure; consecutive failures back off exponentially up to ten intervals.

Standard library HTTP only (urllib): the agent never imports aiohttp or requests.
"""

from __future__ import annotations

import contextlib
import enum
import http.client
import json
import logging
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.config import AgentSettings, PushSettings
from agent.inventory import document_digest
from agent.spool import Spool, SpoolError
from regie import __version__
from regie.configfile import Secret, parse_listen
from regie.scrape_target import address_problem, advertised_address

log = logging.getLogger(__name__)

INVENTORY_PATH = "/api/v1/inventory"
USER_AGENT = f"regie-agent/{__version__}"
# Cap on the reply read from the collector (only its reason is ever used).
_MAX_REPLY_BYTES = 64 * 1024
_MAX_REASON_CHARS = 300
# Consecutive replay failures back off as retry_interval * 2**n, at most this many intervals.
BACKOFF_CAP_INTERVALS = 10


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"


# Statuses that say "not now" rather than "never" (RFC 9110 15.5.9, RFC 6585 4).
_RETRY_STATUSES = frozenset({408, 429})


def classify(status: int | None) -> Outcome:
    """What an answer means for a record; None is no answer at all."""
    if status is None or status in _RETRY_STATUSES or 500 <= status <= 599:
        return Outcome.RETRY
    if 200 <= status <= 299:
        return Outcome.DELIVERED
    return Outcome.REJECTED


def backoff_seconds(interval: float, failures: int) -> float:
    """Wait after `failures` consecutive failed attempts (1 → one interval)."""
    exponent = max(failures - 1, 0)
    return min(interval * 2 ** min(exponent, 16), interval * BACKOFF_CAP_INTERVALS)


def scrape_section(settings: AgentSettings, *, fqdn: str | None = None,
                   hostname: str | None = None) -> dict[str, Any] | None:
    """`document.scrape`: where Prometheus reaches this agent's /metrics. `http.advertise_address`
    when set; else the listen address, or, listening on a wildcard, this host's FQDN (its host
    name when it has no domain) with the port. None (logged) when that name is not one the
    collector would accept: the inventory is then pushed without it."""
    address = settings.http.advertise_address
    if address is None:
        host, port = parse_listen(settings.http.listen)
        address = advertised_address(host, port, fqdn=fqdn, hostname=hostname)
    problem = address_problem(address)
    if problem:
        log.warning("this agent's address %s; set http.advertise_address: the inventory is "
                    "pushed without it, so the collector lists no Prometheus target for it",
                    problem)
        return None
    return {"address": address,
            "scheme": "https" if settings.http.tls_cert_file else "http",
            "labels": dict(settings.push.labels)}


def request_body(key: str, document: dict[str, Any]) -> bytes:
    return json.dumps({"idempotency_key": key, "document": document},
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_spool_record(key: str, body: bytes) -> bytes:
    """A spool payload: the idempotency key, a newline, the exact request body."""
    return key.encode("ascii") + b"\n" + body


def decode_spool_record(payload: bytes) -> tuple[str, bytes]:
    key, sep, body = payload.partition(b"\n")
    if not sep or not key:
        raise ValueError("not a push record")
    return key.decode("ascii"), body


def redact_url(url: str) -> str:
    """The URL as it may appear in logs: no user:password@, no query, no fragment."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def inventory_url(collector: str) -> str:
    """The endpoint, with any credentials in the configured URL removed (the bearer token is
    the only credential sent)."""
    parts = urllib.parse.urlsplit(collector)
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + INVENTORY_PATH,
                                    "", ""))


@dataclass(frozen=True, slots=True)
class Answer:
    """What one POST came to."""

    outcome: Outcome
    status: int | None
    reason: str
    retry_after: float | None = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib turns a redirected POST into a GET without the body; a 2xx from wherever that
    # lands would pass for a delivery. A redirect is answered as what it is (a 3xx: rejected).
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON_CHARS else text[:_MAX_REASON_CHARS] + "…"


def _retry_after(value: str | None) -> float | None:
    # ASCII digits only (RFC 9110 10.2.3): str.isdigit() also takes '²', which float() refuses
    # (the cycle failed with a traceback and the record was neither spooled nor backed off).
    if value and re.fullmatch(r"[0-9]+", value.strip(" \t")):
        return float(value.strip(" \t"))
    return None  # the HTTP-date form is rare from an API; the backoff applies instead


def _no_answer_within(timeout: float) -> str:
    return f"no complete answer within {timeout:g}s (push.timeout_seconds)"


class _Deadline:
    """`push.timeout_seconds` for a request as a whole. A socket timeout bounds each read
    only, so a collector (or a proxy before it) sending a byte every few seconds held the
    push thread for as long as it went on: no push, no spool replay, no failure logged. When
    the time is up the request's sockets are shut down, which ends any read or handshake
    blocked on them; the request then fails as "no answer" (retried from the spool)."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut_down(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut_down(sock)

    def opener(self, tls: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
        deadline = self

        class Connection(http.client.HTTPConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._create_connection = lambda *a, **k: deadline.watch(
                    socket.create_connection(*a, **k))

        class TlsConnection(http.client.HTTPSConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._create_connection = lambda *a, **k: deadline.watch(
                    socket.create_connection(*a, **k))

            def connect(self) -> None:
                # As HTTPSConnection.connect, with the TLS socket watched before its handshake.
                http.client.HTTPConnection.connect(self)
                self.sock = deadline.watch(self._context.wrap_socket(
                    self.sock, server_hostname=self._tunnel_host or self.host,
                    do_handshake_on_connect=False))
                self.sock.do_handshake()

        class Plain(urllib.request.HTTPHandler):
            def http_open(self, req: urllib.request.Request) -> Any:
                return self.do_open(Connection, req)

        class Tls(urllib.request.HTTPSHandler):
            def https_open(self, req: urllib.request.Request) -> Any:
                return self.do_open(TlsConnection, req, context=tls)

        handlers: list[urllib.request.BaseHandler] = [_NoRedirects(), Plain()]
        if tls is not None:
            handlers.append(Tls(context=tls))
        return urllib.request.build_opener(*handlers)


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):   # already closed: nothing left to end
        sock.shutdown(socket.SHUT_RDWR)


class PushService:
    """Owns the spool and the push loop; `start()` runs it in a daemon thread."""

    def __init__(
        self,
        settings: PushSettings,
        token: Secret | None,
        inventory: Callable[[], dict[str, Any]],
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
        digest: Callable[[dict[str, Any]], str] = document_digest,
        scrape: dict[str, Any] | None = None,
    ) -> None:
        if not settings.collector:
            raise ValueError("push.collector is not set")
        self._settings = settings
        self._token = token
        self._inventory = inventory
        self._clock = clock
        self._monotonic = monotonic
        self._new_key = new_key
        self._digest = digest
        self._scrape = scrape
        self._url = inventory_url(settings.collector)
        self._shown_url = redact_url(self._url)
        if urllib.parse.urlsplit(settings.collector).username is not None:
            log.warning("credentials in push.collector (%s) are ignored; the bearer token "
                        "from push.token_file authenticates the agent", self._shown_url)
        self._tls: ssl.SSLContext | None = None
        if self._url.startswith("https://"):
            cafile = str(settings.ca_file) if settings.ca_file else None
            try:
                self._tls = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"push.ca_file: cannot load {cafile!r}: {exc}") from None
        self._spool = Spool(settings.spool_dir, settings.spool_max_bytes, fsync=settings.fsync)
        self._stop = threading.Event()
        self._sleep = sleep if sleep is not None else self._stop.wait
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("delivered", "spooled", "rejected"), 0)
        self._unspoolable = 0
        self._last_push: float | None = None
        self._last_digest: str | None = None
        start = monotonic()
        self._next_inventory = start
        self._next_retry = start
        self._failures = 0
        self._down_since_logged = False

    # -- public API -----------------------------------------------------------------------

    @property
    def spool(self) -> Spool:
        return self._spool

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._loop, name="regie-push", daemon=True)
        self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Stop the loop and close the spool. An HTTP request in flight is given up to its own
        timeout; whatever was not acknowledged stays in the spool for the next start."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            wait = self._settings.timeout_seconds + 1.0 if timeout is None else timeout
            thread.join(wait)
            if thread.is_alive():
                log.warning("push thread still busy after %.1fs; leaving it", wait)
        self._spool.close()

    def run_once(self) -> float:
        """One cycle: collect and push when due, replay the spool when due.

        Returns the seconds until something is due again.
        """
        now = self._monotonic()
        if now >= self._next_inventory:
            self._next_inventory = now + self._settings.inventory_interval_seconds
            self._offer_inventory()
        now = self._monotonic()
        if len(self._spool) and now >= self._next_retry and not self._stop.is_set():
            self._replay()
        due = self._next_inventory
        if len(self._spool):
            due = min(due, self._next_retry)
        return max(0.0, due - self._monotonic())

    def collector(self) -> PushMetrics:
        return PushMetrics(self)

    # -- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.run_once()
            except SpoolError:
                if self._stop.is_set():
                    return  # closed under us while stopping
                log.exception("inventory push cycle failed")
                delay = self._settings.retry_interval_seconds
            except Exception:  # the loop must outlive any one bad cycle
                log.exception("inventory push cycle failed")
                delay = self._settings.retry_interval_seconds
            if self._stop.is_set():
                return
            self._sleep(delay)

    def _offer_inventory(self) -> None:
        try:
            document = self._inventory()
            if self._scrape is not None:
                document = {**document, "scrape": self._scrape}
            digest = self._digest(document)
        except Exception:
            log.exception("collecting the inventory failed; trying again in %ss",
                          self._settings.inventory_interval_seconds)
            return
        if digest == self._last_digest or self._stop.is_set():
            return
        key = self._new_key()
        body = request_body(key, document)
        if len(self._spool):
            # Older records are waiting: this one queues behind them, so order holds.
            if self._to_spool(key, body):
                self._last_digest = digest
            return
        answer = self._send(key, body)
        if answer.outcome is Outcome.DELIVERED:
            self._last_digest = digest
            self._delivered()
            log.info("inventory delivered to %s", self._shown_url)
        elif answer.outcome is Outcome.RETRY:
            if self._to_spool(key, body):
                self._last_digest = digest
            self._note_failure(answer)
        else:
            self._rejected(answer)

    def _replay(self) -> None:
        replayed = 0
        while not self._stop.is_set():
            payload = self._spool.peek()
            if payload is None:
                break
            try:
                key, body = decode_spool_record(payload)
            except ValueError:
                log.error("a spooled record is not a push record; discarded")
                self._spool.ack()
                continue
            answer = self._send(key, body)
            if answer.outcome is Outcome.RETRY:
                if replayed:  # it took records a moment ago: a hiccup, not an outage
                    self._failures = 0
                self._note_failure(answer)
                return
            self._spool.ack()
            if answer.outcome is Outcome.DELIVERED:
                self._delivered()
                replayed += 1
            else:
                self._rejected(answer)
        if replayed:
            log.info("delivered %d spooled record(s) to %s, %d left",
                     replayed, self._shown_url, len(self._spool))
        self._failures = 0
        self._down_since_logged = False

    # -- outcomes ---------------------------------------------------------------------------

    def _to_spool(self, key: str, body: bytes) -> bool:
        try:
            self._spool.append(encode_spool_record(key, body))
        except (SpoolError, OSError) as exc:
            with self._lock:
                self._unspoolable += 1
            log.error("cannot spool the inventory (%s); it is dropped", exc)
            return False
        with self._lock:
            self._counts["spooled"] += 1
        return True

    def _delivered(self) -> None:
        with self._lock:
            self._counts["delivered"] += 1
            self._last_push = self._clock()

    def _rejected(self, answer: Answer) -> None:
        with self._lock:
            self._counts["rejected"] += 1
        log.warning("collector %s rejected the inventory with status %s: %s; not retried",
                    self._shown_url, answer.status, answer.reason or "(no reason given)")

    def _note_failure(self, answer: Answer) -> None:
        self._failures += 1
        interval = self._settings.retry_interval_seconds
        delay = backoff_seconds(interval, self._failures)
        if answer.retry_after is not None:
            delay = min(max(delay, answer.retry_after), interval * BACKOFF_CAP_INTERVALS)
        self._next_retry = self._monotonic() + delay
        what = f"status {answer.status}" if answer.status is not None else "no answer"
        # The first failure of an outage is a warning; the retries after it are noise.
        level = logging.DEBUG if self._down_since_logged else logging.WARNING
        self._down_since_logged = True
        log.log(level, "collector %s unavailable (%s: %s); %d record(s) spooled, "
                "retrying in %.0fs", self._shown_url, what, answer.reason, len(self._spool),
                delay)

    # -- HTTP -------------------------------------------------------------------------------

    def _send(self, key: str, body: bytes) -> Answer:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": key,
            "User-Agent": USER_AGENT,
        }
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        # The scheme is http(s), checked when the settings were loaded (agent.config._http_url).
        request = urllib.request.Request(  # noqa: S310
            self._url, data=body, headers=headers, method="POST")
        timeout = self._settings.timeout_seconds
        with _Deadline(timeout) as deadline:
            answer = self._exchange(request, deadline.opener(self._tls), timeout)
        if deadline.expired:
            # Whatever was read ended where the shutdown cut it (a head cut short still
            # parses as 200). Sent again later with the same key: the collector knows it.
            return Answer(Outcome.RETRY, None, _no_answer_within(timeout))
        return answer

    def _exchange(self, request: urllib.request.Request,
                  opener: urllib.request.OpenerDirector, timeout: float) -> Answer:
        try:
            with opener.open(request, timeout=timeout) as reply:
                reply.read(_MAX_REPLY_BYTES)
                return Answer(classify(reply.status), reply.status, "")
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read(_MAX_REPLY_BYTES).decode("utf-8", "replace")
            except (OSError, HTTPException):
                text = ""
            finally:
                exc.close()
            reason = self._scrub(_one_line(f"{exc.reason} {text}".strip()))
            return Answer(classify(exc.code), exc.code, reason,
                          _retry_after(exc.headers.get("Retry-After") if exc.headers else None))
        except urllib.error.URLError as exc:
            return Answer(Outcome.RETRY, None, _one_line(str(exc.reason)))
        except (OSError, HTTPException) as exc:  # timeouts, resets, malformed replies
            return Answer(Outcome.RETRY, None, _one_line(f"{type(exc).__name__}: {exc}"))

    def _scrub(self, text: str) -> str:
        # A collector that echoes the request in its error must not get the token logged.
        if self._token:
            text = text.replace(self._token.reveal(), "***")
        return text

    # -- metrics ----------------------------------------------------------------------------

    def _snapshot(self) -> tuple[dict[str, int], int, float | None]:
        with self._lock:
            return dict(self._counts), self._unspoolable, self._last_push


class PushMetrics:
    """The push client's metrics, built fresh on every scrape (a custom collector)."""

    def __init__(self, service: PushService) -> None:
        self._service = service

    def collect(self) -> Iterable[Metric]:
        service = self._service
        spool = service.spool
        counts, unspoolable, last_push = service._snapshot()
        yield GaugeMetricFamily("regie_agent_spool_records",
                                "Inventory records waiting in the spool for the collector.",
                                value=len(spool))
        yield GaugeMetricFamily("regie_agent_spool_bytes",
                                "Bytes the spool's segment files take on disk.",
                                value=spool.size_bytes)
        yield GaugeMetricFamily("regie_agent_spool_max_bytes",
                                "Size the spool is bounded to (push.spool_max_bytes).",
                                value=spool.max_bytes)
        yield CounterMetricFamily(
            "regie_agent_spool_dropped_records",
            "Undelivered records dropped, oldest first, to keep the spool within its bound "
            "(or too large to spool at all).",
            value=spool.dropped + unspoolable)
        yield CounterMetricFamily(
            "regie_agent_spool_corrupt_records",
            "Corrupt spool regions skipped (failed checksum) since the agent started.",
            value=spool.corrupt)
        pushes = CounterMetricFamily(
            "regie_agent_inventory_pushes",
            "Inventory records by outcome: delivered (2xx), spooled (collector unavailable, "
            "kept for replay) or rejected (other 4xx, not retried).",
            labels=["result"])
        for result, count in counts.items():
            pushes.add_metric([result], count)
        yield pushes
        yield GaugeMetricFamily(
            "regie_agent_inventory_last_push_timestamp_seconds",
            "Unix time of the last inventory record the collector accepted (0: none yet).",
            value=last_push or 0.0)
