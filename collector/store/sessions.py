"""Console sessions in the database: a session is a token's rights for a while, behind a cookie.

Only the SHA-256 of the cookie is stored (as for tokens, collector/store/tokens.py): the cookie
is 32 random bytes, so a fast hash is enough, and a copy of the database opens no session.
A session ends at its expiry, at logout, and as soon as its token is revoked (the lookup joins
the token and requires it unrevoked). Several collectors share the table, so a person logged
in through one is logged in on all of them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store.engine import write_transaction
from collector.store.models import ConsoleSessionRow, TokenRow

SESSIONS = ConsoleSessionRow.__table__
TOKENS = TokenRow.__table__


def cookie_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    id_hash: str
    token_id: int
    token_name: str
    role: str
    person: str | None
    csrf: str
    expires_at: datetime


class SessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def open(self, token_id: int, *, now: datetime,
                   expires_at: datetime) -> tuple[str, str]:
        """A new session for the token: (cookie, csrf). The cookie is returned once; the
        store keeps its hash."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with write_transaction(self._engine) as connection:
            # Expired sessions go as new ones come: the table holds the living ones only.
            await connection.execute(delete(SESSIONS).where(SESSIONS.c.expires_at <= now))
            await connection.execute(insert(SESSIONS).values(
                id_hash=cookie_hash(cookie), token_id=token_id, csrf=csrf, created_at=now,
                expires_at=expires_at))
        return cookie, csrf

    async def find(self, cookie: str, *, now: datetime) -> Session | None:
        """The living session behind `cookie` whose token is not revoked, or None."""
        if not cookie or len(cookie) > 200:
            return None
        query = (select(SESSIONS.c.id_hash, SESSIONS.c.token_id, SESSIONS.c.csrf,
                        SESSIONS.c.expires_at, TOKENS.c.name, TOKENS.c.role, TOKENS.c.person)
                 .join(TOKENS, TOKENS.c.id == SESSIONS.c.token_id)
                 .where(SESSIONS.c.id_hash == cookie_hash(cookie),
                        SESSIONS.c.expires_at > now, TOKENS.c.revoked_at.is_(None)))
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        return Session(id_hash=row.id_hash, token_id=row.token_id, token_name=row.name,
                       role=row.role, person=row.person, csrf=row.csrf,
                       expires_at=row.expires_at)

    async def close(self, id_hash: str) -> None:
        async with write_transaction(self._engine) as connection:
            await connection.execute(delete(SESSIONS).where(SESSIONS.c.id_hash == id_hash))
