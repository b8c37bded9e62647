"""Notification channels, the delivery edge: one table, `CHANNELS`, from kind to channel.

Each kind has a frozen settings class, parsed from its config table by `parse_channel`
(errors are `ConfigError(source, key, reason)` with the key path), and one coroutine::

    await send(settings, notification, delivery_id=..., ctx=SendContext(), timeout=None)

which makes ONE attempt and returns a `Delivery` (alerting/notify/delivery.py): ok, or a
failure the caller retries (`retry=True`, maybe with `retry_after`) or dead-letters. Retrying,
its bound and its backoff belong to the caller; `delivery_id` stays the same across the
retries of one delivery so receivers can drop duplicates. `SendContext` (clock, DNS, stdout,
User-Agent) is in alerting/notify/send_context.py.

Kinds (keys in docs/oncall.md, "Notifications"), one module each:

- ``webhook`` (alerting/notify/webhook.py): JSON POST of `Notification.to_json()` plus
  ``delivery_id``, signed (alerting/notify/signature.py), to an SSRF-checked, address-pinned
  URL; redirects refused.
- ``slack`` (alerting/notify/slack.py): a Slack-compatible incoming webhook (Slack,
  Mattermost, Rocket.Chat): ``{"text": ..., "blocks": [...]}`` with the ack/resolve links.
  The URL is a secret.
- ``email`` (alerting/notify/email_channel.py): SMTP with STARTTLS (default), implicit TLS
  or, only when configured, plain; optional AUTH; a multipart/alternative text + HTML message.
- ``file`` (alerting/notify/file_channel.py): one JSON line per notification appended to a
  file, or ``-`` for stdout (demo).

Both HTTP kinds POST through alerting/notify/http_post.py. This module holds the table,
`Channel` and `parse_channel`, and exports what each row names (settings class and send
function); anything else of a kind is imported from its module. A new kind is one module and
one row in `CHANNELS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from alerting.notify.delivery import Delivery
from alerting.notify.email_channel import EmailSettings, describe_email, parse_email, send_email
from alerting.notify.file_channel import FileSettings, describe_file, parse_file, send_file
from alerting.notify.message import Notification
from alerting.notify.send_context import DEFAULT_CONTEXT, SendContext
from alerting.notify.slack import SlackSettings, describe_slack, parse_slack, send_slack
from alerting.notify.webhook import WebhookSettings, describe_webhook, parse_webhook, send_webhook
from regie.configfile import ConfigError

Send = Callable[..., Awaitable[Delivery]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelType:
    kind: str
    settings: type
    parse: Callable[..., Any]           # (data, *, source, prefix) -> settings
    send: Send                          # (settings, notification, *, delivery_id, ctx, timeout)
    describe: Callable[[Any], str]      # one secret-free line naming the target


CHANNELS: Mapping[str, ChannelType] = {
    "webhook": ChannelType(kind="webhook", settings=WebhookSettings, parse=parse_webhook,
                           send=send_webhook, describe=describe_webhook),
    "slack": ChannelType(kind="slack", settings=SlackSettings, parse=parse_slack,
                         send=send_slack, describe=describe_slack),
    "email": ChannelType(kind="email", settings=EmailSettings, parse=parse_email,
                         send=send_email, describe=describe_email),
    "file": ChannelType(kind="file", settings=FileSettings, parse=parse_file,
                        send=send_file, describe=describe_file),
}


@dataclass(frozen=True, slots=True)
class Channel:
    """A configured channel: its kind and its settings; `send` dispatches through CHANNELS."""

    kind: str
    settings: Any

    async def send(self, notification: Notification, *, delivery_id: str,
                   ctx: SendContext = DEFAULT_CONTEXT, timeout: float | None = None) -> Delivery:
        return await CHANNELS[self.kind].send(self.settings, notification,
                                              delivery_id=delivery_id, ctx=ctx, timeout=timeout)

    def describe(self) -> str:
        return CHANNELS[self.kind].describe(self.settings)


def parse_channel(data: Mapping[str, Any], *, source: str, key: str = "") -> Channel:
    """A channel table (``kind = "webhook"`` plus that kind's keys) -> Channel, or ConfigError
    naming `source` and the key path under `key`."""
    if not isinstance(data, Mapping):
        raise ConfigError(source, key or "-", "must be a table")
    kind_key = f"{key}.kind" if key else "kind"
    kind = data.get("kind")
    if kind is None:
        raise ConfigError(source, kind_key, f"is required: one of {', '.join(CHANNELS)}")
    if kind not in CHANNELS:
        raise ConfigError(source, kind_key,
                          f"must be one of {', '.join(map(repr, CHANNELS))}, not {kind!r}")
    rest = {k: v for k, v in data.items() if k != "kind"}
    channel_type = CHANNELS[kind]
    return Channel(kind, channel_type.parse(rest, source=source, prefix=key))


__all__ = [
    "CHANNELS",
    "DEFAULT_CONTEXT",
    "Channel",
    "ChannelType",
    "Delivery",
    "EmailSettings",
    "FileSettings",
    "Send",
    "SendContext",
    "SlackSettings",
    "WebhookSettings",
    "parse_channel",
    "send_email",
    "send_file",
    "send_slack",
    "send_webhook",
]
