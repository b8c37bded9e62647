"""The webhook signature: HMAC-SHA256 over a timestamp and the exact body bytes.

Header, Stripe style (https://docs.stripe.com/webhooks#verify-manually)::

    X-Regie-Signature: t=1714564800,v1=5257a869e7ec...(64 hex digits)

with ``v1 = hex(HMAC-SHA256(secret, f"{t}.".encode() + body))``. Covering the timestamp
lets a receiver refuse a captured request replayed later (check |now - t| against a
tolerance, five minutes by default); `X-Regie-Delivery` then lets it drop the retries of a
delivery it already took. A receiver verifies before it parses the JSON, over the bytes as
received. `verify` below is what a Python receiver needs.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Regie-Signature"
DELIVERY_HEADER = "X-Regie-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    pass


def mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The X-Regie-Signature header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={mac(secret, timestamp, body)}"


def verify(secret: bytes, header: str | None, body: bytes, now: float, *,
           tolerance: float = DEFAULT_TOLERANCE_SECONDS) -> int:
    """The signed timestamp, or SignatureError. Several v1= values are accepted (a sender
    rotating its secret signs with both)."""
    if not header:
        raise SignatureError("no signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header")
    expected = mac(secret, timestamp, body).encode("ascii")
    # Bytes, not str: compare_digest refuses non-ASCII str, which a header may carry.
    if not any(hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in candidates):
        raise SignatureError("signature mismatch")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    return timestamp
