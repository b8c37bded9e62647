"""The ``slack`` channel: a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat).

One POST of ``{"text": ..., "blocks": [...]}`` with the ack/resolve links, through
alerting/notify/http_post.py. The incoming-webhook URL is itself the credential: it is given
inline or in ``url_file``, and reasons and descriptions show only its origin.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from alerting.notify.delivery import Delivery, origin
from alerting.notify.http_post import http_url, post
from alerting.notify.message import Notification
from alerting.notify.secret_file import read_private_secret_file
from alerting.notify.send_context import DEFAULT_CONTEXT, SendContext
from alerting.notify.ssrf import networks_check
from regie.configfile import (
    ConfigError,
    Secret,
    build,
    check,
    positive,
    readable_file,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SlackSettings:
    # The incoming-webhook URL is itself the credential: give it inline or, better, in a file.
    url: Secret | None = field(default=None, metadata=check(http_url))
    url_file: Path | None = None
    timeout_seconds: float = field(default=10.0, metadata=check(positive))
    allow_networks: tuple[str, ...] = field(default=(), metadata=check(networks_check))
    ca_file: Path | None = field(default=None, metadata=check(readable_file))

    def __post_init__(self) -> None:
        if (self.url is None) == (self.url_file is None):
            raise ValueError("set exactly one of url and url_file")


def parse_slack(data: Mapping[str, Any], *, source: str, prefix: str) -> SlackSettings:
    settings = build(SlackSettings, data, source=source, prefix=prefix)
    if settings.url_file is None:
        return settings
    key = f"{prefix}.url_file" if prefix else "url_file"
    url = read_private_secret_file(settings.url_file, source=source, key=key)
    if http_url(url):
        raise ConfigError(source, key, "the file must hold an http:// or https:// URL")
    return replace(settings, url=url, url_file=None)


def _mrkdwn(text: str) -> str:
    # The three characters Slack wants escaped in text:
    # https://api.slack.com/reference/surfaces/formatting#escaping
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    return f"<{_mrkdwn(url)}|{_mrkdwn(label)}>"


_SLACK_TEXT_CHARS = 3000   # a section's text limit
_SLACK_BUTTON_URL_CHARS = 3000


def slack_payload(notification: Notification) -> dict[str, Any]:
    """``{"text": ..., "blocks": [...]}``: the text (with links) serves clients and
    Slack-compatible servers that ignore blocks; the blocks add fields and buttons."""
    links = notification.links()
    link_text = " | ".join(_link(url, label) for label, url in links)
    title = f"*{_mrkdwn(notification.subject())}*"
    text = f"{title}\n{_mrkdwn(notification.headline())}"
    if link_text:
        text += f"\n{link_text}"
    blocks: list[dict[str, Any]] = [
        {"type": "section",
         "text": {"type": "mrkdwn", "text": f"{title}\n{_mrkdwn(notification.headline())}"
                  [:_SLACK_TEXT_CHARS]}},
        {"type": "section",
         "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{_mrkdwn(value)}"[:2000]}
                    for label, value in notification.facts()][:10]},
    ]
    buttons = []
    for label, url in links:
        if len(url) > _SLACK_BUTTON_URL_CHARS:
            continue
        button: dict[str, Any] = {"type": "button",
                                  "text": {"type": "plain_text", "text": label},
                                  "url": url}
        if label == "Acknowledge":
            button["style"] = "primary"
        buttons.append(button)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": text[:_SLACK_TEXT_CHARS], "blocks": blocks}


def _slack_secrets(url: str) -> tuple[str, ...]:
    path = urllib.parse.urlsplit(url).path
    return (path,) if len(path) > 1 else ()


async def send_slack(settings: SlackSettings, notification: Notification, *,
                     delivery_id: str, ctx: SendContext = DEFAULT_CONTEXT,
                     timeout: float | None = None) -> Delivery:
    if settings.url is None:
        raise ValueError("slack settings without a url (url_file was not loaded)")
    body = json.dumps(slack_payload(notification), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8",
               "User-Agent": ctx.user_agent}
    url = settings.url.reveal()
    # Only the origin is shown: the path of an incoming-webhook URL is its credential.
    return await post(url, body, headers, allow_networks=settings.allow_networks,
                      ca_file=settings.ca_file, ctx=ctx,
                      timeout=timeout or settings.timeout_seconds,
                      shown=f"slack {origin(url)}", secrets=_slack_secrets(url))


def describe_slack(s: SlackSettings) -> str:
    return f"slack {origin(s.url)}" if s.url else "slack"
