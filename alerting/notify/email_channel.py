"""The ``email`` channel: settings, config parsing, the message, one SMTP send, description.

SMTP with STARTTLS (default), implicit TLS or, only when configured, plain; optional AUTH
with the password read from ``password_file``; a multipart/alternative text + HTML message
whose Message-ID comes from the delivery id, so retries are one message to mail systems.
Named ``email_channel`` so it never shadows the standard library's ``email`` package.
aiosmtplib (the collector extra) is imported only when a mail is sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import html
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from alerting.notify import signature
from alerting.notify.delivery import Delivery, scrub, short, smtp_retryable
from alerting.notify.host_name import host_name_problem
from alerting.notify.message import Notification, one_line
from alerting.notify.secret_file import load_secret
from alerting.notify.send_context import DEFAULT_CONTEXT, SendContext
from alerting.notify.tls import ssl_context
from regie.configfile import INTERNAL, Secret, build, check, positive, readable_file


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
    if host_name_problem(value.strip("[]")):
        # An empty or over-long label: the resolver would raise at every send.
        return f"must be a valid host name or address, not {value!r}"
    return None


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


def parse_email(data: Mapping[str, Any], *, source: str, prefix: str) -> EmailSettings:
    settings = build(EmailSettings, data, source=source, prefix=prefix)
    return load_secret(settings, value_field="password", file_field="password_file",
                       source=source, prefix=prefix)


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
    try:
        async with asyncio.timeout(timeout):
            if settings.mode != "plain":
                # Inside the try: a ca_file replaced by an unreadable one after start-up is
                # this delivery's TLS failure, not an error escaping the delivery round.
                tls_context = await asyncio.to_thread(ssl_context, settings.ca_file)
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


def describe_email(s: EmailSettings) -> str:
    to = (f"{len(s.to)} address{'es' if len(s.to) != 1 else ''}" if s.to
          else "the person's address")
    return f"email via {s.host}:{s.effective_port} ({s.mode}) to {to}"
