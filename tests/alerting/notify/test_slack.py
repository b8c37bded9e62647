"""The Slack-compatible channel against a Slack-shaped receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from alerting.notify.channels import SlackSettings, send_slack
from alerting.notify.slack import slack_payload
from regie.configfile import Secret
from tests.alerting.notify.peers import CTX, LOOPBACK, notification, receiver

HOOK_PATH = "/services/T0001/B0002/XXXXsecretXXXX"


async def slack_like(request: web.Request, body: bytes) -> web.StreamResponse:
    """Answers like hooks.slack.com: 200 "ok", or 400 "invalid_payload", 404 "no_service"."""
    if request.path != HOOK_PATH:
        return web.Response(status=404, text="no_service")
    if request.content_type != "application/json":
        return web.Response(status=400, text="invalid_payload")
    try:
        payload = json.loads(body)
    except ValueError:
        return web.Response(status=400, text="invalid_payload")
    if not isinstance(payload.get("text"), str) or not isinstance(payload.get("blocks"), list):
        return web.Response(status=400, text="invalid_payload")
    return web.Response(text="ok")


def settings(url: str, **overrides) -> SlackSettings:
    return SlackSettings(url=Secret(url), allow_networks=LOOPBACK, **overrides)


def deliver(path: str = HOOK_PATH, handler=slack_like, n=None):
    async def scenario():
        async with receiver(handler) as r:
            s = settings(f"{r.url}{path}")
            delivery = await send_slack(s, n or notification(), delivery_id="d", ctx=CTX)
            return s, delivery, r.requests
    return asyncio.run(scenario())


def test_a_slack_receiver_gets_text_blocks_and_the_action_links():
    n = notification()
    _s, delivery, requests = deliver(n=n)
    assert delivery.ok and delivery.status == 200, delivery.reason
    payload = json.loads(requests[0].body)
    assert payload == slack_payload(n)
    assert [b["type"] for b in payload["blocks"]] == ["section", "section", "actions"]
    buttons = payload["blocks"][2]["elements"]
    assert [(b["text"]["text"], b["url"]) for b in buttons] == [
        ("Acknowledge", n.ack_url), ("Resolve", n.resolve_url),
        ("Open ticket", n.ticket_url), ("Runbook", n.runbook_url)]
    assert buttons[0]["style"] == "primary"
    # Clients and servers that ignore blocks still get the links, as mrkdwn links.
    assert f"<{n.ack_url}|Acknowledge>" in payload["text"]
    assert f"<{n.resolve_url}|Resolve>" in payload["text"]
    assert "*[P1] Disk /var 97% full (web1)*" in payload["text"]
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1]
              for f in payload["blocks"][1]["fields"]}
    assert fields["*Host*"] == "web1" and fields["*For*"] == "alice"


def test_text_is_escaped_for_mrkdwn():
    payload = slack_payload(notification(summary="<!channel> a & b > c", host="h<1>"))
    assert "&lt;!channel&gt; a &amp; b &gt; c" in payload["text"]
    assert "<!channel>" not in json.dumps(payload)


def test_without_action_links_there_are_no_buttons():
    payload = slack_payload(notification(ack_url=None, resolve_url=None, ticket_url=None,
                                         runbook_url=None))
    assert [b["type"] for b in payload["blocks"]] == ["section", "section"]


def test_a_refused_hook_is_a_dead_letter_and_the_url_path_stays_secret():
    s, delivery, _ = deliver(path="/services/T0001/B0002/revokedSECRET")
    assert (delivery.ok, delivery.retry, delivery.status) == (False, False, 404)
    assert "no_service" in delivery.reason
    assert "revokedSECRET" not in delivery.reason and "/services" not in delivery.reason
    assert delivery.reason.startswith("slack http://127.0.0.1:")
    assert "XXXXsecretXXXX" not in repr(s)


def test_slack_rate_limit_is_retried_after_its_delay():
    async def limited(request: web.Request, body: bytes) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "30"}, text="rate_limited")

    _, delivery, _ = deliver(handler=limited)
    assert (delivery.ok, delivery.retry, delivery.retry_after) == (False, True, 30.0)


def test_an_error_echoing_the_hook_path_is_scrubbed():
    async def echo(request: web.Request, body: bytes) -> web.StreamResponse:
        return web.Response(status=400, text=f"invalid_token for {request.path}")

    _, delivery, _ = deliver(handler=echo)
    assert "XXXXsecretXXXX" not in delivery.reason and "invalid_token for ***" in delivery.reason


def test_slack_is_ssrf_checked_too():
    async def scenario():
        async with receiver(slack_like) as r:
            s = SlackSettings(url=Secret(f"{r.url}{HOOK_PATH}"))
            return await send_slack(s, notification(), delivery_id="d", ctx=CTX), r.requests

    delivery, requests = asyncio.run(scenario())
    assert not delivery.ok and not delivery.retry and requests == []
    assert "loopback" in delivery.reason and "XXXXsecretXXXX" not in delivery.reason
