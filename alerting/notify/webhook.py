"""The ``webhook`` channel: settings, config parsing, one signed JSON POST, description.

The body is `Notification.to_json()` plus ``delivery_id`` (`payload_bytes`, also the file
channel's line), signed with the HMAC key from ``secret_file`` (alerting/notify/signature.py)
and POSTed through alerting/notify/http_post.py: SSRF-checked, address-pinned, no redirects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerting.notify import signature
from alerting.notify.delivery import Delivery, redact_url
from alerting.notify.http_post import http_url, post
from alerting.notify.message import Notification
from alerting.notify.secret_file import load_secret
from alerting.notify.send_context import DEFAULT_CONTEXT, SendContext
from alerting.notify.ssrf import networks_check
from regie.configfile import INTERNAL, Secret, build, check, positive, readable_file


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    url: Secret = field(metadata=check(http_url))   # a query string may carry a token
    # File with the HMAC key receivers verify X-Regie-Signature with (first line).
    secret_file: Path | None = None
    timeout_seconds: float = field(default=10.0, metadata=check(positive))
    # Networks the SSRF check lets through, e.g. ["10.1.2.0/24"] for an internal receiver.
    allow_networks: tuple[str, ...] = field(default=(), metadata=check(networks_check))
    ca_file: Path | None = field(default=None, metadata=check(readable_file))
    # Read from secret_file at load time; never from the TOML itself.
    secret: Secret | None = field(default=None, repr=False, metadata=INTERNAL)

    def __post_init__(self) -> None:
        if self.secret is None and self.secret_file is None:
            raise ValueError("secret_file is required: receivers verify the signature with it")


def parse_webhook(data: Mapping[str, Any], *, source: str, prefix: str) -> WebhookSettings:
    settings = build(WebhookSettings, data, source=source, prefix=prefix)
    return load_secret(settings, value_field="secret", file_field="secret_file",
                       source=source, prefix=prefix)


def payload_bytes(notification: Notification, delivery_id: str) -> bytes:
    """The webhook body (and file line, without the newline): `to_json()` + delivery_id."""
    document = {**notification.to_json(), "delivery_id": delivery_id}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def send_webhook(settings: WebhookSettings, notification: Notification, *,
                       delivery_id: str, ctx: SendContext = DEFAULT_CONTEXT,
                       timeout: float | None = None) -> Delivery:
    if settings.secret is None:
        raise ValueError("webhook settings without a secret (secret_file was not loaded)")
    body = payload_bytes(notification, delivery_id)
    stamp = int(ctx.clock().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": ctx.user_agent,
        signature.DELIVERY_HEADER: delivery_id,
        signature.SIGNATURE_HEADER: signature.sign(settings.secret.reveal().encode(), body,
                                                   stamp),
    }
    return await post(settings.url.reveal(), body, headers,
                      allow_networks=settings.allow_networks, ca_file=settings.ca_file,
                      ctx=ctx, timeout=timeout or settings.timeout_seconds,
                      shown=f"webhook {redact_url(settings.url)}",
                      secrets=(settings.secret.reveal(),))


def describe_webhook(s: WebhookSettings) -> str:
    return f"webhook {redact_url(s.url)}"
