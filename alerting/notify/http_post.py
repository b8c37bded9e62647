"""The one outbound HTTP POST of the webhook and slack channels, and how its answer is read.

`post` makes ONE attempt within one overall timeout: the URL is SSRF-checked and its
addresses pinned (alerting/notify/ssrf.py), TLS verified against the system store or a
``ca_file``, redirects refused (they could lead where the check never looked), and the
answer or the failure classified into a `Delivery` (alerting/notify/delivery.py). Reasons
name the target only as the caller's `shown` and never hold the URL's secrets.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from yarl import URL

from alerting.notify.delivery import (
    Delivery,
    http_retryable,
    parse_retry_after,
    scrub,
    short,
    url_secrets,
)
from alerting.notify.host_name import host_name_problem
from alerting.notify.message import one_line
from alerting.notify.send_context import SendContext
from alerting.notify.ssrf import PinnedResolver, UnsafeUrl, check_url, parse_networks
from alerting.notify.tls import ssl_context

# Only a reason is ever taken from a receiver's answer.
_MAX_ANSWER_BYTES = 2048
_MAX_ANSWER_CHARS = 120


def http_url(value: str) -> str | None:
    """Settings check for a channel URL (webhook, slack): everything a send will need of it is
    checked here, at start-up, so a URL that cannot work stops the collector instead of
    failing every delivery (the host is IDNA-encoded as the resolver will encode it)."""
    # The value itself is never repeated: for Slack the URL is the credential.
    if not re.match(r"^https?://[^/\s?#]+", value):
        return "must be an http:// or https:// URL"
    if any(c.isspace() or not c.isprintable() for c in value):
        return "must not contain spaces or control characters"
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        return "has a port that is not a number from 1 to 65535"
    if port == 0:
        return "has a port that is not a number from 1 to 65535"
    try:
        # As the send will read it (check_url, aiohttp): yarl refuses what urllib takes, e.g.
        # a backslash before the path ('http://127.0.0.1\@example.com/'), which raised
        # ValueError out of every delivery. Its message is not repeated: it may quote the URL.
        URL(value)
    except ValueError:
        return "is not a valid URL (RFC 3986; a backslash before the path, say)"
    host = parts.hostname
    return host_name_problem(host or "")


def _answer_text(raw: bytes) -> str:
    return one_line(raw.decode("utf-8", "replace"))[:_MAX_ANSWER_CHARS]


async def post(url: str, body: bytes, headers: Mapping[str, str], *,
               allow_networks: tuple[str, ...], ca_file: Path | None, ctx: SendContext,
               timeout: float, shown: str, secrets: tuple[str | None, ...]) -> Delivery:
    """One POST to an SSRF-checked, pinned address; never follows a redirect."""
    hidden = (*url_secrets(url), *secrets)
    try:
        async with asyncio.timeout(timeout):
            checked = await check_url(url, parse_networks(allow_networks), resolve=ctx.resolve)
            tls: ssl.SSLContext | bool = False
            if checked.url.scheme == "https":
                tls = await asyncio.to_thread(ssl_context, ca_file)
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
    except UnicodeError:
        # The host cannot be encoded for DNS; settings refuse such URLs, this keeps a URL
        # that slipped past them one dead letter rather than an error escaping the round.
        return Delivery.failed(f"{shown}: the host is not a valid DNS name", retry=False)
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
