"""Bearer tokens and roles: who may call what.

A token is 32 random bytes (URL-safe base64) behind a `regie_` prefix, printed once at creation.
The store keeps only its SHA-256: a token has 256 bits of entropy, so a fast hash is enough (a
slow password hash protects low-entropy secrets), and a stolen database yields no usable
token. Lookups go by hash; the hash found is compared again with `hmac.compare_digest`.

Verified tokens are cached for `CACHE_SECONDS` so an ingest burst does not cost a database
read per request; a revoked token therefore stops working within that time. Each verifying
read also records the use (`on_use`), so a token's last use is known to that precision.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("regie.collector.auth")

TOKEN_PREFIX = "regie_"  # noqa: S105 (a prefix, not a secret)
CACHE_SECONDS = 10.0


class Role(enum.StrEnum):
    ADMIN = "admin"
    RESPONDER = "responder"
    AGENT = "agent"
    VIEWER = "viewer"
    INGEST = "ingest"
    # Approves, rejects and reviews changes, overrides their risk (docs/changes.md).
    CHANGE_MANAGER = "change_manager"


class Permission(enum.StrEnum):
    READ = "read"              # tickets, metrics, the API document
    REPORT = "report"          # open a ticket as a person
    RESPOND = "respond"        # acknowledge, resolve, close, note, override priority
    INGEST = "ingest"          # Alertmanager webhook, Events API
    INVENTORY = "inventory"    # an agent's inventory push
    CHANGE = "change"          # create and move changes (approving needs change_manager)


# The only place a role's rights are decided.
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RESPONDER: frozenset({Permission.READ, Permission.REPORT, Permission.RESPOND,
                               Permission.CHANGE}),
    Role.CHANGE_MANAGER: frozenset({Permission.READ, Permission.CHANGE}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.INGEST: frozenset({Permission.INGEST, Permission.REPORT}),
    Role.AGENT: frozenset({Permission.INVENTORY}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: the token's name, its role, and the person holding it if the
    token names one (then the person is the actor in timelines, else the token's name)."""

    token_id: int
    name: str
    role: Role
    person: str | None = None

    def may(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]


# A token's name is the actor in ticket timelines and a column of `token list`: one printable
# word (no spaces, newlines or control characters), as people and services name themselves.
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
NAME_RULE = ("1 to 64 characters: letters, digits, '.', '_', '@' and '-', "
             "starting with a letter or digit")


def token_name(name: str) -> str:
    """`name` when it is a valid token name; ValueError saying the rule otherwise."""
    if not TOKEN_NAME.fullmatch(name):
        raise ValueError(f"token name {name[:80]!r} is not allowed: {NAME_RULE}")
    return name


# A person's name (a token's holder, an actor, an assignee, a reporter) is shown in timelines,
# logs, notifications and pages, one per line or cell: any script and spaces, but none of the
# characters that forge a line or make one name look like another -- control characters (C0,
# DEL, C1: newline, tab, escape), the line and paragraph separators, and the invisible marks
# that reorder or hide text (bidirectional controls, zero-width space, byte-order mark) -- and
# no blank at either end ("alice " would be another person; a blank name is no name). Written
# as a pattern so that the OpenAPI document states exactly this rule.
_NOT_IN_NAMES = ("\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b\\u200e\\u200f"
                 "\\u2028-\\u202e\\u2066-\\u2069\\ufeff")
_BLANKS = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x3001)) if c.isspace())
_END = f"[^{_BLANKS}{_NOT_IN_NAMES}]"
PERSON_PATTERN = f"^{_END}([^{_NOT_IN_NAMES}]{{0,198}}{_END})?$"
_PERSON_NAME = re.compile(PERSON_PATTERN)
PERSON_RULE = ("1 to 200 characters, without control characters (newlines, tabs), line "
               "separators or invisible direction marks, and no blank at either end")


def person_name(name: str) -> str:
    """`name` when it is a valid name of a person; ValueError saying the rule otherwise."""
    if not _PERSON_NAME.fullmatch(name):
        raise ValueError(f"not a person's name: {PERSON_RULE}")
    return name


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer(header: str | None) -> str | None:
    """The token from an `Authorization: Bearer ...` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# (id, name, role, hash) or (id, name, role, hash, person)
Lookup = Callable[[str], Awaitable[tuple[Any, ...] | None]]
OnUse = Callable[[int], Awaitable[None]]


class Authenticator:
    """Token -> Principal, with a short cache. `lookup(hash)` -> (id, name, role, hash) or None."""

    def __init__(self, lookup: Lookup, *, on_use: OnUse | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = CACHE_SECONDS, max_cached: int = 10_000) -> None:
        self._lookup = lookup
        self._on_use = on_use
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._max_cached = max_cached
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def principal(self, token: str | None) -> Principal | None:
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = token_hash(token)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached and now - cached[0] < self._cache_seconds:
            return cached[1]
        found = await self._lookup(digest)
        if found is None or not hmac.compare_digest(found[3], digest):
            self._cache.pop(digest, None)
            return None
        principal = Principal(token_id=found[0], name=found[1], role=Role(found[2]),
                              person=found[4] if len(found) > 4 else None)
        if self._on_use is not None:
            try:
                await self._on_use(principal.token_id)
            except Exception as exc:  # bookkeeping: a full disk must not refuse reads too
                log.warning("could not record a use of token %r: %s", principal.name,
                            type(exc).__name__)
        if len(self._cache) >= self._max_cached:
            self._cache.clear()
        self._cache[digest] = (now, principal)
        return principal
