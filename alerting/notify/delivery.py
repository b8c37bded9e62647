"""What one attempt to deliver a notification came to, and how answers are classified.

`Delivery.retry` is the caller's whole decision: worth another attempt later (with the bound
and backoff the caller owns), or a dead letter. The rules, per transport:

HTTP (RFC 9110 15): 2xx delivered; 408, 425, 429 and 5xx, no answer at all (refused, reset,
timed out, TLS failure, DNS failure) -> retry; any other status, a 3xx included (redirects
are never followed: they could lead to an address the SSRF check never saw) -> no retry.
SMTP (RFC 5321 4.2.1): 4yz is a transient failure -> retry, 5yz is permanent -> no retry.

`reason` is one short line for an audit record and a log: it never holds a secret, a full
URL query string or a body longer than a few words.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

MAX_REASON_CHARS = 200
RETRY_STATUSES = frozenset({408, 425, 429})
# A Retry-After further out than this is taken as this (the caller's backoff bound still wins).
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0
# delta-seconds = 1*DIGIT, and DIGIT is ASCII (RFC 9110 10.2.3, RFC 5234 B.1): str.isdigit()
# also takes '²' (which float() refuses) and '١٢' (which it reads as 12).
_DELTA_SECONDS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    retry: bool                        # worth another attempt (meaningless when ok)
    reason: str                        # short, secret-free
    retry_after: float | None = None   # seconds, from the receiver's Retry-After
    status: int | None = None          # HTTP status or SMTP reply code, when there was one

    @classmethod
    def delivered(cls, reason: str = "delivered", status: int | None = None) -> Delivery:
        return cls(ok=True, retry=False, reason=reason, status=status)

    @classmethod
    def failed(cls, reason: str, *, retry: bool, status: int | None = None,
               retry_after: float | None = None) -> Delivery:
        return cls(ok=False, retry=retry, reason=short(reason), retry_after=retry_after,
                   status=status)


def http_retryable(status: int) -> bool:
    return status in RETRY_STATUSES or 500 <= status <= 599


def smtp_retryable(code: int) -> bool:
    return 400 <= code <= 499


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (RFC 9110
    10.2.3), relative to `now`; None when absent or unreadable. A date in the past is 0.
    The receiver wrote it: whatever it holds, this returns, never raises."""
    if value is None:
        return None
    value = value.strip(" \t")
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):   # a year of 11 digits
        return None
    if when.tzinfo is None:  # "-0000" means UTC in an HTTP-date
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def redact_url(url: str) -> str:
    """The URL as it may appear in reasons and logs: no user:password@, query or fragment
    (same rule as agent.push.redact_url, which the collector does not import)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def origin(url: str) -> str:
    """scheme://host[:port] only: for URLs whose path is itself a secret (Slack webhooks)."""
    parts = urllib.parse.urlsplit(redact_url(url))
    return f"{parts.scheme}://{parts.netloc}"


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of `url` that may carry a credential (to scrub from an echoed answer)."""
    parts = urllib.parse.urlsplit(url)
    return tuple(s for s in (url, parts.query, parts.password) if s)


def short(text: str) -> str:
    # What a receiver answered becomes the attempt's last_error: a NUL (PostgreSQL's text
    # refuses it: the outcome was not recorded, the notice stayed pending with no attempt
    # counted, to be claimed again when its lease ran out) or a lone surrogate (an SMTP
    # reply's odd bytes, kept by surrogateescape, which UTF-8 cannot encode) is shown as
    # U+FFFD, as other controls are.
    text = "".join(c if c.isprintable() else "\ufffd" for c in " ".join(text.split()))
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every non-empty secret replaced by ***, longest first."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
