"""Signed links in notifications: "acknowledge ticket 42" as a URL a person taps in a mail,
and "look at ticket 42" as a read-only page.

A token is readable and URL-safe (RFC 3986 unreserved characters only)::

    v1.<ticket id>.<purpose>.<expires, unix seconds>.<nonce>.<mac>
    v2.<ticket id>.<purpose>.<expires, unix seconds>.<nonce>.<recipient>.<mac>

where ``mac = base64url(HMAC-SHA256(secret, b"regie-action-vN\\0" + the fields before it))``,
without padding. The prefix separates these MACs from any other use of the same secret. A v2
token also names the person it was issued to (base64url of the UTF-8 name): the notification
went to a known recipient, so what the link does is recorded as that person's act. Tokens
without a recipient are v1 (and links sent before v2 keep working until they expire).

What the token grants is exactly what it names, on one ticket until it expires:

- `ack` / `resolve`: that one action (an ack token cannot resolve), once. Single use is the
  store's job: it records the nonce (the jti) when the action is taken and refuses it the
  second time; `ActionClaim.nonce` is that key.
- `view`: reading the ticket's page, as often as wanted; it never acts (`verify_action`
  refuses it, so a view link can never be replayed against the action endpoint).

Verification checks the MAC first, with `hmac.compare_digest`, and only then reads the
fields, so nothing about a forged token is trusted or reported back.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

ActionName = Literal["ack", "resolve"]
ACTIONS: tuple[str, ...] = get_args(ActionName)
Purpose = Literal["ack", "resolve", "view"]
PURPOSES: tuple[str, ...] = get_args(Purpose)

VERSION = "v1"
ACTIONS_PATH = "/api/v1/actions/"
# The read-only ticket page a notification's "ticket" link opens (collector/ui/).
TICKET_PAGE_PATH = "/ui/tickets/"
_DOMAINS = {"v1": b"regie-action-v1\x00", "v2": b"regie-action-v2\x00"}
# How long a notification's ticket link shows the ticket: a week, so the page still opens
# when the person reads the mail the next morning or after a weekend.
VIEW_EXPIRES_SECONDS = 7 * 86400
# Anything longer is not a token of ours; refused before any work is done on it.
MAX_TOKEN_CHARS = 320
# A longer name is not carried (the link then records no person): tokens stay short.
MAX_RECIPIENT_BYTES = 96
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_HEAD = (r"(?P<version>v1|v2)\.(?P<ticket>[1-9][0-9]{0,18})\.(?P<action>[a-z]+)"
         r"\.(?P<expires>[1-9][0-9]{0,11})\.(?P<nonce>[A-Za-z0-9_-]{8,64})")
_TOKEN = {
    "v1": re.compile(_HEAD + r"\.(?P<mac>[A-Za-z0-9_-]{43})"),
    "v2": re.compile(_HEAD + r"\.(?P<who>[A-Za-z0-9_-]{2,128})\.(?P<mac>[A-Za-z0-9_-]{43})"),
}


class LinkError(Exception):
    """A token that grants nothing; `reason` is safe to show (it never repeats the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ActionClaim:
    ticket_id: int
    action: Purpose
    expires_at: dt.datetime   # UTC
    nonce: str                # unique per token: the store's single-use key
    recipient: str | None = None   # the person the link was issued to (v2 tokens)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mac(secret: bytes, payload: str, version: str = "v1") -> str:
    digest = hmac.new(secret, _DOMAINS[version] + payload.encode("ascii"),
                      hashlib.sha256).digest()
    return _b64(digest)


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes | bytearray) or not secret:
        raise ValueError("the action link secret must be non-empty bytes")


def _encoded_recipient(recipient: str | None) -> str | None:
    if recipient is None:
        return None
    raw = recipient.encode("utf-8")
    if not raw or len(raw) > MAX_RECIPIENT_BYTES:
        return None
    return _b64(raw)


def sign_action(secret: bytes, ticket_id: int, action: Purpose, expires_at: dt.datetime,
                nonce: str | None = None, *, recipient: str | None = None) -> str:
    """A token for `action` on `ticket_id`, valid until `expires_at` (timezone-aware), issued
    to `recipient` (a person's name) when given."""
    _check_secret(secret)
    if action not in PURPOSES:
        raise ValueError(f"action must be one of {', '.join(PURPOSES)}, not {action!r}")
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
    who = _encoded_recipient(recipient)
    if who is None:
        payload = f"v1.{ticket_id}.{action}.{expires}.{nonce}"
        return f"{payload}.{_mac(secret, payload, 'v1')}"
    payload = f"v2.{ticket_id}.{action}.{expires}.{nonce}.{who}"
    return f"{payload}.{_mac(secret, payload, 'v2')}"


def sign_view(secret: bytes, ticket_id: int, expires_at: dt.datetime, *,
              recipient: str | None = None) -> str:
    """A read-only, multi-use token for the ticket's page."""
    return sign_action(secret, ticket_id, "view", expires_at, recipient=recipient)


def _verify(secret: bytes, token: str, now: dt.datetime) -> ActionClaim:
    _check_secret(secret)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise LinkError("malformed token")
    pattern = _TOKEN.get(token[:2])
    match = pattern.fullmatch(token) if pattern is not None else None
    if match is None:
        raise LinkError("malformed token")
    payload, _, mac = token.rpartition(".")
    if not hmac.compare_digest(_mac(secret, payload, match["version"]), mac):
        raise LinkError("bad signature")
    action = match["action"]
    if action not in PURPOSES:  # signed by us, so a future purpose: not for this version
        raise LinkError("malformed token")
    recipient = None
    if match["version"] == "v2":
        try:
            recipient = base64.urlsafe_b64decode(
                match["who"] + "=" * (-len(match["who"]) % 4)).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):  # signed by us: cannot happen
            raise LinkError("malformed token") from None
    expires_at = dt.datetime.fromtimestamp(int(match["expires"]), dt.UTC)
    if now >= expires_at:
        raise LinkError("expired")
    return ActionClaim(ticket_id=int(match["ticket"]), action=action,  # type: ignore[arg-type]
                       expires_at=expires_at, nonce=match["nonce"], recipient=recipient)


def verify_action(secret: bytes, token: str, now: dt.datetime, *,
                  expected_action: ActionName | None = None) -> ActionClaim:
    """The claim a valid action token makes, or LinkError: malformed, bad signature, expired,
    a view token (it never acts) or (with `expected_action`) for another action."""
    claim = _verify(secret, token, now)
    if claim.action not in ACTIONS:
        raise LinkError("malformed token")
    if expected_action is not None and claim.action != expected_action:
        raise LinkError(f"this link is for {claim.action!r}, not {expected_action!r}")
    return claim


def verify_view(secret: bytes, token: str, now: dt.datetime) -> ActionClaim:
    """The claim a valid view token makes, or LinkError (an action token is not a view
    token: opening the page must never need, or spend, an action link)."""
    claim = _verify(secret, token, now)
    if claim.action != "view":
        raise LinkError(f"this link is for {claim.action!r}, not 'view'")
    return claim


def action_url(base_url: str, token: str) -> str:
    """The link to put in a message: ``{base}/api/v1/actions/{token}``."""
    return f"{base_url.rstrip('/')}{ACTIONS_PATH}{token}"


def ticket_page_url(base_url: str, ticket_id: int, token: str) -> str:
    """The read-only ticket page: ``{base}/ui/tickets/{id}?key={view token}``."""
    return f"{base_url.rstrip('/')}{TICKET_PAGE_PATH}{ticket_id}?key={token}"
