"""Signed one-click action links: "acknowledge ticket 42" as a URL a person taps in a mail.

A token is readable and URL-safe (RFC 3986 unreserved characters only)::

    v1.<ticket id>.<action>.<expires, unix seconds>.<nonce>.<mac>

where ``mac = base64url(HMAC-SHA256(secret, b"regie-action-v1\\0" + the first five fields))``,
without padding. The prefix separates these MACs from any other use of the same secret.
What the token grants is exactly what it names: one action (an ack token cannot resolve) on
one ticket until it expires. Single use is the store's job: it records the nonce (the jti)
when the action is taken and refuses it the second time; `ActionClaim.nonce` is that key.

Verification checks the MAC first, with `hmac.compare_digest`, and only then reads the
fields, so nothing about a forged token is trusted or reported back.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

ActionName = Literal["ack", "resolve"]
ACTIONS: tuple[str, ...] = get_args(ActionName)

VERSION = "v1"
ACTIONS_PATH = "/api/v1/actions/"
_DOMAIN = b"regie-action-v1\x00"
# Anything longer is not a token of ours; refused before any work is done on it.
MAX_TOKEN_CHARS = 256
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_TOKEN = re.compile(
    r"v1\.(?P<ticket>[1-9][0-9]{0,18})\.(?P<action>[a-z]+)\.(?P<expires>[1-9][0-9]{0,11})"
    r"\.(?P<nonce>[A-Za-z0-9_-]{8,64})\.(?P<mac>[A-Za-z0-9_-]{43})"
)


class LinkError(Exception):
    """A token that grants nothing; `reason` is safe to show (it never repeats the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ActionClaim:
    ticket_id: int
    action: ActionName
    expires_at: dt.datetime   # UTC
    nonce: str                # unique per token: the store's single-use key


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, _DOMAIN + payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes | bytearray) or not secret:
        raise ValueError("the action link secret must be non-empty bytes")


def sign_action(secret: bytes, ticket_id: int, action: ActionName, expires_at: dt.datetime,
                nonce: str | None = None) -> str:
    """A token for `action` on `ticket_id`, valid until `expires_at` (timezone-aware)."""
    _check_secret(secret)
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, int) or ticket_id <= 0:
        raise ValueError(f"ticket_id must be a positive integer, not {ticket_id!r}")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    nonce = new_nonce() if nonce is None else nonce
    if not _NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 8 to 64 characters of A-Z a-z 0-9 _ -")
    expires = int(expires_at.timestamp())
    if expires <= 0:
        raise ValueError("expires_at must be after 1970")
    payload = f"{VERSION}.{ticket_id}.{action}.{expires}.{nonce}"
    return f"{payload}.{_mac(secret, payload)}"


def verify_action(secret: bytes, token: str, now: dt.datetime, *,
                  expected_action: ActionName | None = None) -> ActionClaim:
    """The claim a valid token makes, or LinkError: malformed, bad signature, expired or
    (with `expected_action`) for another action."""
    _check_secret(secret)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise LinkError("malformed token")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise LinkError("malformed token")
    payload, _, mac = token.rpartition(".")
    if not hmac.compare_digest(_mac(secret, payload), mac):
        raise LinkError("bad signature")
    action = match["action"]
    if action not in ACTIONS:  # signed by us, so a future action name: not for this version
        raise LinkError("malformed token")
    expires_at = dt.datetime.fromtimestamp(int(match["expires"]), dt.UTC)
    if now >= expires_at:
        raise LinkError("expired")
    if expected_action is not None and action != expected_action:
        raise LinkError(f"this link is for {action!r}, not {expected_action!r}")
    return ActionClaim(ticket_id=int(match["ticket"]), action=action,  # type: ignore[arg-type]
                       expires_at=expires_at, nonce=match["nonce"])


def action_url(base_url: str, token: str) -> str:
    """The link to put in a message: ``{base}/api/v1/actions/{token}``."""
    return f"{base_url.rstrip('/')}{ACTIONS_PATH}{token}"
