"""Notification channels, the delivery edge: one table, `CHANNELS`, from kind to channel.

Each kind has a frozen settings class, parsed from its config table by `parse_channel`
(errors are `ConfigError(source, key, reason)` with the key path), and one coroutine::

    await send(settings, notification, delivery_id=..., ctx=SendContext(), timeout=None)

which makes ONE attempt and returns a `Delivery` (alerting/notify/delivery.py): ok, or a
failure the caller retries (`retry=True`, maybe with `retry_after`) or dead-letters. Retrying,
its bound and its backoff belong to the caller; `delivery_id` stays the same across the
retries of one delivery so receivers can drop duplicates.

Kinds (keys in docs/oncall.md, "Notifications"):

- ``webhook``: JSON POST of `Notification.to_json()` plus ``delivery_id``, signed
  (alerting/notify/signature.py), to an SSRF-checked, address-pinned URL; redirects refused.
- ``slack``: a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat):
  ``{"text": ..., "blocks": [...]}`` with the ack/resolve links. The URL is a secret.
- ``email``: SMTP with STARTTLS (default), implicit TLS or, only when configured, plain;
  optional AUTH; a multipart/alternative text + HTML message.
- ``file``: one JSON line per notification appended to a file, or ``-`` for stdout (demo).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import errno
import html
import json
import re
import ssl
import sys
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal, TextIO

import aiohttp

from alerting.notify import signature
from alerting.notify.delivery import (
    Delivery,
    http_retryable,
    origin,
    parse_retry_after,
    redact_url,
    scrub,
    short,
    smtp_retryable,
    url_secrets,
)
from alerting.notify.message import Notification, one_line
from alerting.notify.ssrf import (
    PinnedResolver,
    Resolve,
    UnsafeUrl,
    check_url,
    networks_check,
    parse_networks,
)
from regie import __version__
from regie.configfile import (
    INTERNAL,
    ConfigError,
    Secret,
    build,
    check,
    positive,
    read_secret_file,
    readable_file,
)

USER_AGENT = f"regie-collector/{__version__}"
# Only a reason is ever taken from a receiver's answer.
_MAX_ANSWER_BYTES = 2048
_MAX_ANSWER_CHARS = 120


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendContext:
    """What a send needs from the process around it, injected (tests pass their own)."""

    clock: Callable[[], dt.datetime] = utc_now
    # DNS for the SSRF check; None asks the event loop's resolver.
    resolve: Resolve | None = None
    # Where the file channel's "-" writes; None is sys.stdout at the time of the send.
    stdout: TextIO | None = None
    user_agent: str = USER_AGENT


DEFAULT_CONTEXT = SendContext()


# -- settings -----------------------------------------------------------------------------

def _http_url(value: str) -> str | None:
    # The value itself is never repeated: for Slack the URL is the credential.
    if not re.match(r"^https?://[^/\s?#]+", value):
        return "must be an http:// or https:// URL"
    return None


def _email_address(value: str) -> str | None:
    _name, address = email.utils.parseaddr(value)
    if "@" not in address or any(c in value for c in "\r\n"):
        return f"must be an email address, not {value!r}"
    return None


def _email_addresses(values: tuple[str, ...]) -> str | None:
    for value in values:
        reason = _email_address(value)
        if reason:
            return reason
    return None


def _hostname(value: str) -> str | None:
    if not value or any(c.isspace() for c in value) or "/" in value:
        return f"must be a host name or address, not {value!r}"
    return None


def _file_target(value: str) -> str | None:
    return None if value.strip() else "must be a file path or '-' for standard output"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    url: Secret = field(metadata=check(_http_url))   # a query string may carry a token
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


@dataclass(frozen=True, slots=True, kw_only=True)
class SlackSettings:
    # The incoming-webhook URL is itself the credential: give it inline or, better, in a file.
    url: Secret | None = field(default=None, metadata=check(_http_url))
    url_file: Path | None = None
    timeout_seconds: float = field(default=10.0, metadata=check(positive))
    allow_networks: tuple[str, ...] = field(default=(), metadata=check(networks_check))
    ca_file: Path | None = field(default=None, metadata=check(readable_file))

    def __post_init__(self) -> None:
        if (self.url is None) == (self.url_file is None):
            raise ValueError("set exactly one of url and url_file")


SmtpMode = Literal["starttls", "tls", "plain"]
DEFAULT_SMTP_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "plain": 25}


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSettings:
    host: str = field(metadata=check(_hostname))
    port: int | None = None   # default by mode: 587 starttls, 465 tls, 25 plain
    # plain (no TLS at all) is never a default: it must be written down.
    mode: SmtpMode = "starttls"
    username: str | None = None
    password_file: Path | None = None
    from_address: str = field(metadata=check(_email_address))
    # Fixed recipients; empty means the caller fills in the person's address per message
    # (dataclasses.replace(settings, to=(address,))).
    to: tuple[str, ...] = field(default=(), metadata=check(_email_addresses))
    ca_file: Path | None = field(default=None, metadata=check(readable_file))
    timeout_seconds: float = field(default=30.0, metadata=check(positive))
    # EHLO name; unset is this machine's FQDN.
    helo_name: str | None = None
    password: Secret | None = field(default=None, repr=False, metadata=INTERNAL)

    def __post_init__(self) -> None:
        if self.port is not None and not 0 < self.port < 65536:
            raise ValueError(f"port must be from 1 to 65535, not {self.port}")
        has_password = self.password is not None or self.password_file is not None
        if (self.username is None) != (not has_password):
            raise ValueError("username and password_file must be set together")

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_SMTP_PORTS[self.mode]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSettings:
    path: str = field(default="-", metadata=check(_file_target))   # "-": standard output


# -- shared HTTP ----------------------------------------------------------------------------

def _ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def _answer_text(raw: bytes) -> str:
    return one_line(raw.decode("utf-8", "replace"))[:_MAX_ANSWER_CHARS]


async def _post(url: str, body: bytes, headers: Mapping[str, str], *,
                allow_networks: tuple[str, ...], ca_file: Path | None, ctx: SendContext,
                timeout: float, shown: str, secrets: tuple[str | None, ...]) -> Delivery:
    """One POST to an SSRF-checked, pinned address; never follows a redirect."""
    hidden = (*url_secrets(url), *secrets)
    try:
        async with asyncio.timeout(timeout):
            checked = await check_url(url, parse_networks(allow_networks), resolve=ctx.resolve)
            tls: ssl.SSLContext | bool = False
            if checked.url.scheme == "https":
                tls = await asyncio.to_thread(_ssl_context, ca_file)
            connector = aiohttp.TCPConnector(resolver=PinnedResolver(checked), ssl=tls,
                                             use_dns_cache=False, force_close=True, limit=1)
            async with (
                aiohttp.ClientSession(connector=connector, trust_env=False,
                                      timeout=aiohttp.ClientTimeout(total=timeout)) as session,
                session.post(checked.url, data=body, headers=dict(headers),
                             allow_redirects=False) as answer,
            ):
                status = answer.status
                text = _answer_text(await answer.content.read(_MAX_ANSWER_BYTES))
                retry_after_header = answer.headers.get("Retry-After")
                http_reason = answer.reason or ""
    except UnsafeUrl as exc:
        return Delivery.failed(f"refused {shown}: {exc.reason}", retry=False)
    except TimeoutError:
        return Delivery.failed(f"no answer from {shown} within {timeout:g}s", retry=True)
    except aiohttp.ClientSSLError as exc:
        return Delivery.failed(f"TLS with {shown} failed: {_tls_reason(exc)}", retry=True)
    except aiohttp.ClientConnectorError as exc:
        cause = exc.os_error.strerror or type(exc.os_error).__name__
        return Delivery.failed(f"cannot connect to {shown}: {cause}", retry=True)
    except (aiohttp.ClientError, OSError) as exc:
        detail = scrub(str(exc), hidden) or type(exc).__name__
        return Delivery.failed(f"{shown}: {detail}", retry=True)
    summary = scrub(f"HTTP {status} {http_reason}".strip()
                    + (f": {text}" if text and not 200 <= status <= 299 else ""), hidden)
    if 200 <= status <= 299:
        return Delivery.delivered(f"HTTP {status}", status=status)
    if 300 <= status <= 399:
        return Delivery.failed(f"redirect refused (HTTP {status} from {shown})", retry=False,
                               status=status)
    retry = http_retryable(status)
    retry_after = parse_retry_after(retry_after_header, ctx.clock()) if retry else None
    return Delivery.failed(f"{shown}: {summary}", retry=retry, status=status,
                           retry_after=retry_after)


def _tls_reason(exc: aiohttp.ClientSSLError) -> str:
    cause = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None) or exc
    return short(getattr(cause, "verify_message", None) or getattr(cause, "reason", None)
                 or str(cause))


def payload_bytes(notification: Notification, delivery_id: str) -> bytes:
    """The webhook body (and file line, without the newline): `to_json()` + delivery_id."""
    document = {**notification.to_json(), "delivery_id": delivery_id}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# -- webhook --------------------------------------------------------------------------------

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
    return await _post(settings.url.reveal(), body, headers,
                       allow_networks=settings.allow_networks, ca_file=settings.ca_file,
                       ctx=ctx, timeout=timeout or settings.timeout_seconds,
                       shown=f"webhook {redact_url(settings.url)}",
                       secrets=(settings.secret.reveal(),))


# -- slack ----------------------------------------------------------------------------------

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
    return await _post(url, body, headers, allow_networks=settings.allow_networks,
                       ca_file=settings.ca_file, ctx=ctx,
                       timeout=timeout or settings.timeout_seconds,
                       shown=f"slack {origin(url)}", secrets=_slack_secrets(url))


# -- email ----------------------------------------------------------------------------------

def _html_body(notification: Notification) -> str:
    esc = html.escape
    rows = "".join(f"<tr><th align=\"left\">{esc(label)}</th><td>{esc(value)}</td></tr>"
                   for label, value in notification.facts())
    links = " | ".join(f"<a href=\"{esc(url, quote=True)}\">{esc(label)}</a>"
                       for label, url in notification.links())
    return (f"<html><body><p><b>{esc(notification.headline())}</b>: "
            f"{esc(one_line(notification.summary))}</p><table>{rows}</table>"
            + (f"<p>{links}</p>" if links else "") + "</body></html>\n")


def email_message(settings: EmailSettings, notification: Notification, *, delivery_id: str,
                  now: dt.datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notification.subject()
    message["From"] = settings.from_address
    message["To"] = ", ".join(settings.to)
    message["Date"] = email.utils.format_datetime(now)
    domain = email.utils.parseaddr(settings.from_address)[1].rpartition("@")[2] or "regie"
    local = re.sub(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]", "-", delivery_id) or "delivery"
    # The delivery id makes retries of one delivery the same message to mail systems.
    message["Message-ID"] = f"<{local}@{domain}>"
    message[signature.DELIVERY_HEADER] = one_line(delivery_id)
    # RFC 3834: vacation responders must not answer (and page back) automated mail.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notification.text())
    message.add_alternative(_html_body(notification), subtype="html")
    return message


async def send_email(settings: EmailSettings, notification: Notification, *,
                     delivery_id: str, ctx: SendContext = DEFAULT_CONTEXT,
                     timeout: float | None = None) -> Delivery:
    import aiosmtplib  # the collector extra has it; imported where mail is sent

    if not settings.to:
        return Delivery.failed("email: no recipient address (the channel has no 'to')",
                               retry=False)
    timeout = timeout or settings.timeout_seconds
    message = email_message(settings, notification, delivery_id=delivery_id, now=ctx.clock())
    password = settings.password.reveal() if settings.password is not None else None
    shown = f"smtp {settings.host}:{settings.effective_port}"
    tls_context = None
    if settings.mode != "plain":
        tls_context = await asyncio.to_thread(_ssl_context, settings.ca_file)
    try:
        async with asyncio.timeout(timeout):
            refused, _ = await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.effective_port,
                username=settings.username,
                password=password,
                use_tls=settings.mode == "tls",
                start_tls=settings.mode == "starttls",   # True: required; False: never
                tls_context=tls_context,
                timeout=timeout,
                local_hostname=settings.helo_name,
            )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {one_line(r.message)}"
                           for r in exc.recipients)
        return Delivery.failed(scrub(f"{shown}: all recipients refused: {detail}",
                                     (password,)),
                               retry=any(smtp_retryable(c) for c in codes),
                               status=max(codes, default=None))
    except aiosmtplib.SMTPResponseException as exc:
        what = ("authentication failed" if isinstance(exc, aiosmtplib.SMTPAuthenticationError)
                else "refused")
        reason = scrub(f"{shown}: {what}: {exc.code} {one_line(exc.message)}", (password,))
        return Delivery.failed(reason, retry=smtp_retryable(exc.code), status=exc.code)
    except (TimeoutError, aiosmtplib.SMTPTimeoutError):
        return Delivery.failed(f"{shown}: no answer within {timeout:g}s", retry=True)
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected) as exc:
        return Delivery.failed(scrub(f"{shown}: {one_line(str(exc))}", (password,)),
                               retry=True)
    except aiosmtplib.SMTPException as exc:
        # No reply code: the server lacks what the settings require (STARTTLS, AUTH).
        return Delivery.failed(scrub(f"{shown}: {one_line(str(exc))}", (password,)),
                               retry=False)
    except ssl.SSLError as exc:
        return Delivery.failed(f"{shown}: TLS failed: {exc.reason or exc}", retry=True)
    except OSError as exc:
        return Delivery.failed(f"{shown}: {exc.strerror or type(exc).__name__}", retry=True)
    if refused:
        detail = "; ".join(f"{rcpt}: {answer.code}" for rcpt, answer in refused.items())
        accepted = len(settings.to) - len(refused)
        # Not retried: the accepted recipients would get the message twice.
        return Delivery.delivered(short(f"delivered to {accepted} of {len(settings.to)}; "
                                        f"refused {detail}"))
    return Delivery.delivered(f"accepted by {shown}")


# -- file -----------------------------------------------------------------------------------

def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line)


# Errors a later attempt will meet again.
_PERMANENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR,
                               errno.EISDIR, errno.EROFS})


async def send_file(settings: FileSettings, notification: Notification, *,
                    delivery_id: str, ctx: SendContext = DEFAULT_CONTEXT,
                    timeout: float | None = None) -> Delivery:
    line = payload_bytes(notification, delivery_id).decode("utf-8") + "\n"
    try:
        if settings.path == "-":
            out = ctx.stdout or sys.stdout
            out.write(line)
            out.flush()
            return Delivery.delivered("written to standard output")
        async with asyncio.timeout(timeout or 10.0):
            await asyncio.to_thread(_append, Path(settings.path), line)
    except TimeoutError:
        return Delivery.failed(f"file {settings.path}: write took too long", retry=True)
    except OSError as exc:
        return Delivery.failed(f"file {settings.path}: {exc.strerror or exc}",
                               retry=exc.errno not in _PERMANENT_ERRNOS)
    return Delivery.delivered(f"appended to {settings.path}")


# -- the table ------------------------------------------------------------------------------

def _load_secret(settings: Any, *, value_field: str, file_field: str, source: str,
                 prefix: str) -> Any:
    """Read `file_field` into the `value_field` of frozen settings."""
    path = getattr(settings, file_field)
    if path is None:
        return settings
    key = f"{prefix}.{file_field}" if prefix else file_field
    value = read_secret_file(path, source=source, key=key)
    try:
        return replace(settings, **{value_field: value})
    except ValueError as exc:
        raise ConfigError(source, key, str(exc)) from None


def _parse_webhook(data: Mapping[str, Any], *, source: str, prefix: str) -> WebhookSettings:
    settings = build(WebhookSettings, data, source=source, prefix=prefix)
    return _load_secret(settings, value_field="secret", file_field="secret_file",
                        source=source, prefix=prefix)


def _parse_slack(data: Mapping[str, Any], *, source: str, prefix: str) -> SlackSettings:
    settings = build(SlackSettings, data, source=source, prefix=prefix)
    if settings.url_file is None:
        return settings
    key = f"{prefix}.url_file" if prefix else "url_file"
    url = read_secret_file(settings.url_file, source=source, key=key)
    if _http_url(url):
        raise ConfigError(source, key, "the file must hold an http:// or https:// URL")
    return replace(settings, url=url, url_file=None)


def _parse_email(data: Mapping[str, Any], *, source: str, prefix: str) -> EmailSettings:
    settings = build(EmailSettings, data, source=source, prefix=prefix)
    return _load_secret(settings, value_field="password", file_field="password_file",
                        source=source, prefix=prefix)


def _parse_file(data: Mapping[str, Any], *, source: str, prefix: str) -> FileSettings:
    return build(FileSettings, data, source=source, prefix=prefix)


def _describe_webhook(s: WebhookSettings) -> str:
    return f"webhook {redact_url(s.url)}"


def _describe_slack(s: SlackSettings) -> str:
    return f"slack {origin(s.url)}" if s.url else "slack"


def _describe_email(s: EmailSettings) -> str:
    to = (f"{len(s.to)} address{'es' if len(s.to) != 1 else ''}" if s.to
          else "the person's address")
    return f"email via {s.host}:{s.effective_port} ({s.mode}) to {to}"


def _describe_file(s: FileSettings) -> str:
    return "file (standard output)" if s.path == "-" else f"file {s.path}"


Send = Callable[..., Awaitable[Delivery]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelType:
    kind: str
    settings: type
    parse: Callable[..., Any]           # (data, *, source, prefix) -> settings
    send: Send                          # (settings, notification, *, delivery_id, ctx, timeout)
    describe: Callable[[Any], str]      # one secret-free line naming the target


CHANNELS: Mapping[str, ChannelType] = {
    "webhook": ChannelType(kind="webhook", settings=WebhookSettings, parse=_parse_webhook,
                           send=send_webhook, describe=_describe_webhook),
    "slack": ChannelType(kind="slack", settings=SlackSettings, parse=_parse_slack,
                         send=send_slack, describe=_describe_slack),
    "email": ChannelType(kind="email", settings=EmailSettings, parse=_parse_email,
                         send=send_email, describe=_describe_email),
    "file": ChannelType(kind="file", settings=FileSettings, parse=_parse_file,
                        send=send_file, describe=_describe_file),
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
    "SendContext",
    "SlackSettings",
    "WebhookSettings",
    "email_message",
    "parse_channel",
    "payload_bytes",
    "send_email",
    "send_file",
    "send_slack",
    "send_webhook",
    "slack_payload",
]
