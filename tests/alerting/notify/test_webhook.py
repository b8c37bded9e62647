"""The webhook channel against a real aiohttp receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import hmac
import json
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from alerting.notify.channels import SendContext, WebhookSettings, send_webhook
from alerting.notify.signature import verify
from regie.configfile import Secret
from tests.alerting.notify.peers import (
    CTX,
    LOOPBACK,
    NOW,
    notification,
    receiver,
    server_tls,
)
from tests.services import free_port
from tests.tls import make_tls

SECRET = "webhook-shared-secret-0123456789"
QUERY_TOKEN = "q-token-5ecr3t"


def settings(url: str, **overrides) -> WebhookSettings:
    values = dict(url=Secret(url), secret=Secret(SECRET), allow_networks=LOOPBACK,
                  timeout_seconds=5.0)
    values.update(overrides)
    return WebhookSettings(**values)


def hook_url(base: str) -> str:
    return f"{base}/hooks/regie?token={QUERY_TOKEN}"


async def verifying(request: web.Request, body: bytes) -> web.StreamResponse:
    """What a receiver does: HMAC over t + "." + the exact bytes, then the timestamp."""
    header = request.headers.get("X-Regie-Signature", "")
    fields = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(SECRET.encode(), f"{fields['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("v1", "")):
        return web.Response(status=401, text="bad signature")
    if abs(int(fields["t"]) - NOW.timestamp()) > 300:
        return web.Response(status=401, text="stale")
    return web.Response(status=202, text="accepted")


def test_a_signed_delivery_reaches_a_verifying_receiver():
    n = notification()

    async def scenario():
        async with receiver(verifying) as r:
            delivery = await send_webhook(settings(hook_url(r.url)), n, delivery_id="d-1",
                                          ctx=CTX)
            return r, delivery

    r, delivery = asyncio.run(scenario())
    assert delivery.ok and delivery.status == 202 and not delivery.retry
    (request,) = r.requests
    assert (request.method, request.path) == ("POST", "/hooks/regie")
    assert request.query_string == f"token={QUERY_TOKEN}"
    assert request.headers["X-Regie-Delivery"] == "d-1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Host"] == f"127.0.0.1:{r.port}"
    assert request.headers["X-Regie-Signature"].startswith(f"t={int(NOW.timestamp())},v1=")
    assert json.loads(request.body) == {**n.to_json(), "delivery_id": "d-1"}
    # The helper receivers can use agrees.
    assert verify(SECRET.encode(), request.headers["X-Regie-Signature"], request.body,
                  NOW.timestamp()) == int(NOW.timestamp())


def test_the_receiver_rejects_a_tampered_body_and_a_replay_later():
    async def scenario():
        async with receiver(verifying) as r:
            await send_webhook(settings(hook_url(r.url)), notification(), delivery_id="d-2",
                               ctx=CTX)
            (sent,) = r.requests
            headers = {k: sent.headers[k] for k in ("X-Regie-Signature", "Content-Type")}
            tampered = sent.body.replace(b'"priority":"P1"', b'"priority":"P4"')
            assert tampered != sent.body
            async with aiohttp.ClientSession() as session:
                statuses = []
                for body in (sent.body, tampered):
                    async with session.post(f"{r.url}/hooks/regie", data=body,
                                            headers=headers) as answer:
                        statuses.append((answer.status, await answer.text()))
            later = SendContext(clock=lambda: NOW.replace(hour=NOW.hour + 1))
            await send_webhook(settings(hook_url(r.url)), notification(), delivery_id="d-3",
                               ctx=later)
            # A delivery signed an hour from "now" is refused by a receiver living at NOW:
            # the timestamp is covered by the MAC, so an old capture cannot be re-dated.
            return statuses, r.requests[-1]

    statuses, late = asyncio.run(scenario())
    assert statuses == [(202, "accepted"), (401, "bad signature")]
    assert late.headers["X-Regie-Delivery"] == "d-3"


def _reply(status: int, headers: dict[str, str] | None = None, text: str = ""):
    async def handler(request: web.Request, body: bytes) -> web.StreamResponse:
        return web.Response(status=status, headers=headers or {}, text=text)
    return handler


def send_to(handler, **overrides):
    async def scenario():
        async with receiver(handler) as r:
            delivery = await send_webhook(settings(hook_url(r.url), **overrides),
                                          notification(), delivery_id="d", ctx=CTX)
            return delivery, r.requests
    return asyncio.run(scenario())


def test_429_with_delta_seconds_retry_after():
    delivery, _ = send_to(_reply(429, {"Retry-After": "7"}, "slow down"))
    assert (delivery.ok, delivery.retry, delivery.retry_after, delivery.status) == (
        False, True, 7.0, 429)
    assert "HTTP 429 Too Many Requests: slow down" in delivery.reason


def test_503_with_an_http_date_retry_after():
    when = email.utils.format_datetime(NOW.replace(minute=NOW.minute + 2), usegmt=True)
    delivery, _ = send_to(_reply(503, {"Retry-After": when}))
    assert (delivery.ok, delivery.retry, delivery.status) == (False, True, 503)
    assert delivery.retry_after == pytest.approx(120.0)


@pytest.mark.parametrize(("status", "retry"), [
    (400, False), (401, False), (403, False), (404, False), (410, False), (422, False),
    (408, True), (425, True), (500, True), (502, True), (504, True),
])
def test_status_classification_end_to_end(status, retry):
    delivery, requests = send_to(_reply(status, text="nope"))
    assert not delivery.ok and delivery.retry is retry and delivery.status == status
    assert delivery.retry_after is None
    assert len(requests) == 1


def test_a_400_is_a_dead_letter_whose_reason_holds_no_secret():
    async def echo(request: web.Request, body: bytes) -> web.StreamResponse:
        return web.Response(status=400, text=f"bad request {request.query_string}")

    async def scenario():
        async with receiver(echo) as r:
            url = f"http://user:pa55word@127.0.0.1:{r.port}/h?token={QUERY_TOKEN}"
            s = settings(url)
            return s, await send_webhook(s, notification(), delivery_id="d", ctx=CTX)

    s, delivery = asyncio.run(scenario())
    assert not delivery.ok and not delivery.retry and delivery.status == 400
    assert "bad request ***" in delivery.reason
    for secret in (QUERY_TOKEN, "pa55word", SECRET):
        assert secret not in delivery.reason
        assert secret not in repr(s)
        assert secret not in repr(delivery)
    assert "webhook http://127.0.0.1:" in delivery.reason


def test_connection_refused_is_retried():
    port = free_port()   # nothing listens there
    delivery = asyncio.run(send_webhook(settings(f"http://127.0.0.1:{port}/h?token=x"),
                                        notification(), delivery_id="d", ctx=CTX))
    assert (delivery.ok, delivery.retry) == (False, True)
    assert "cannot connect" in delivery.reason and "token" not in delivery.reason


def test_a_slow_receiver_times_out_and_is_retried():
    async def scenario():
        async def slow(request: web.Request, body: bytes) -> web.StreamResponse:
            await r.release.wait()   # answers only when the test is over
            return web.Response()

        async with receiver(slow) as r:
            return await send_webhook(settings(hook_url(r.url)), notification(),
                                      delivery_id="d", ctx=CTX, timeout=0.3)

    delivery = asyncio.run(scenario())
    assert (delivery.ok, delivery.retry) == (False, True)
    assert "no answer" in delivery.reason and "0.3s" in delivery.reason


@pytest.mark.parametrize("location", ["http://10.0.0.5/hook", "http://127.0.0.1:1/other",
                                      "/elsewhere"])
def test_redirects_are_not_followed(location):
    delivery, requests = send_to(_reply(302, {"Location": location}))
    assert (delivery.ok, delivery.retry, delivery.status) == (False, False, 302)
    assert delivery.reason.startswith("redirect refused")
    assert len(requests) == 1    # only the first request was made, nothing followed


def test_307_redirect_is_not_followed_either():
    delivery, requests = send_to(_reply(307, {"Location": "http://169.254.169.254/"}))
    assert not delivery.ok and not delivery.retry and len(requests) == 1


def test_loopback_is_refused_without_the_allow_list():
    delivery, requests = send_to(verifying, allow_networks=())
    assert (delivery.ok, delivery.retry) == (False, False)
    assert "address 127.0.0.1 is loopback; allow it with allow_networks" in delivery.reason
    assert requests == []


def test_localhost_is_refused_without_the_allow_list():
    async def scenario():
        async with receiver(verifying) as r:
            s = settings(f"http://localhost:{r.port}/h", allow_networks=())
            return await send_webhook(s, notification(), delivery_id="d", ctx=CTX), r.requests

    delivery, requests = asyncio.run(scenario())
    assert not delivery.ok and not delivery.retry and requests == []
    assert "localhost: address" in delivery.reason and "loopback" in delivery.reason


class RebindingDns:
    """First answer: the receiver on loopback (allowed); every later one: a private address.
    A client that resolved again at connect time would go to 10.0.0.5."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return ["127.0.0.1"] if self.calls == 1 else ["10.0.0.5"]


def test_the_connection_goes_to_the_checked_address_with_the_hostname_kept():
    dns = RebindingDns()

    async def scenario():
        async with receiver(verifying) as r:
            s = settings(f"http://hooks.example.test:{r.port}/h", allow_networks=("127.0.0.1/32",))
            ctx = SendContext(clock=lambda: NOW, resolve=dns)
            return await send_webhook(s, notification(), delivery_id="d", ctx=ctx), r

    delivery, r = asyncio.run(scenario())
    assert delivery.ok, delivery.reason
    assert dns.calls == 1
    assert r.requests[0].headers["Host"] == f"hooks.example.test:{r.port}"


def test_dns_failure_is_retried():
    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    ctx = SendContext(clock=lambda: NOW, resolve=no_such_host)
    delivery = asyncio.run(send_webhook(settings("https://nowhere.example.test/h"),
                                        notification(), delivery_id="d", ctx=ctx))
    assert (delivery.ok, delivery.retry) == (False, True)
    assert "Name or service not known" in delivery.reason


def test_https_verifies_the_hostname_and_sends_it_as_sni(tmp_path: Path):
    tls = make_tls(tmp_path)
    sni: list[str | None] = []

    async def answer(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def scenario():
        async with receiver(verifying, ssl_context=server_tls(tls, sni)) as r:
            ctx = SendContext(clock=lambda: NOW, resolve=answer)
            good = await send_webhook(settings(f"https://localhost:{r.port}/h", ca_file=tls.ca),
                                      notification(), delivery_id="d", ctx=ctx)
            # The same address under a name the certificate does not carry: refused by TLS,
            # which proves verification used the name, not the pinned IP.
            wrong = await send_webhook(settings(f"https://hooks.example.test:{r.port}/h",
                                                ca_file=tls.ca),
                                       notification(), delivery_id="d", ctx=ctx)
            untrusted = await send_webhook(settings(f"https://localhost:{r.port}/h"),
                                           notification(), delivery_id="d", ctx=ctx)
            return good, wrong, untrusted, r

    good, wrong, untrusted, r = asyncio.run(scenario())
    assert good.ok, good.reason
    assert sni[0] == "localhost"
    assert "hooks.example.test" in sni
    (request,) = r.requests   # the two refused handshakes never got as far as a request
    assert request.headers["Host"] == f"localhost:{r.port}"
    for failed in (wrong, untrusted):
        assert (failed.ok, failed.retry) == (False, True)
        assert "TLS" in failed.reason
