"""API tokens in the database: only their hashes, found by hash, revoked by name.

Hashing and roles are the caller's (collector/auth.py); this module stores what it is given,
once its name passes the rule (`collector.auth.token_name`).
A name stays taken after its token is revoked, so a timeline's actor always names one token.
A token may name the person who holds it: what it does is then recorded as that person's act.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.auth import token_name
from collector.store.conflict import insert_or_skip
from collector.store.engine import write_transaction
from collector.store.models import TokenRow

TOKENS = TokenRow.__table__
_RECORD = (TOKENS.c.id, TOKENS.c.name, TOKENS.c.role, TOKENS.c.created_at,
           TOKENS.c.last_used_at, TOKENS.c.revoked_at, TOKENS.c.person)


class TokenExists(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a token named {name!r} exists")
        self.name = name


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    id: int
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    person: str | None = None


class TokenStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, name: str, role: str, token_hash: str, now: datetime, *,
                     person: str | None = None) -> TokenRecord:
        """Store a new token; `TokenExists` when the name is taken (revoked tokens included),
        ValueError when the name breaks the rule (`collector.auth.token_name`)."""
        token_name(name)
        statement = insert_or_skip(self._engine.dialect.name, TOKENS, index_elements=["name"])
        async with write_transaction(self._engine) as connection:
            row = (await connection.execute(
                statement.values(name=name, role=role, token_hash=token_hash, created_at=now,
                                 person=person)
                .returning(*_RECORD))).first()
        if row is None:
            raise TokenExists(name)
        return _record(row)

    async def find_active(self, token_hash: str) -> TokenRecord | None:
        """The unrevoked token with this hash, if any."""
        query = select(*_RECORD).where(TOKENS.c.token_hash == token_hash,
                                       TOKENS.c.revoked_at.is_(None))
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _record(row)

    async def lookup(self, token_hash: str) -> tuple[int, str, str, str, str | None] | None:
        """(id, name, role, hash, person) of the unrevoked token with this hash: the shape
        `collector.auth.Authenticator` asks for (it compares the hash once more)."""
        query = (select(TOKENS.c.id, TOKENS.c.name, TOKENS.c.role, TOKENS.c.token_hash,
                        TOKENS.c.person)
                 .where(TOKENS.c.token_hash == token_hash, TOKENS.c.revoked_at.is_(None)))
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else (row.id, row.name, row.role, row.token_hash,
                                         row.person)

    async def list(self) -> list[TokenRecord]:
        """Every token, revoked ones too, by name."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(*_RECORD).order_by(TOKENS.c.name))).all()
        return [_record(row) for row in rows]

    async def revoke(self, name: str, now: datetime) -> bool:
        """True when an active token of that name was revoked now."""
        async with write_transaction(self._engine) as connection:
            result = await connection.execute(
                update(TOKENS).where(TOKENS.c.name == name, TOKENS.c.revoked_at.is_(None))
                .values(revoked_at=now))
        return result.rowcount == 1

    async def touch(self, token_id: int, now: datetime) -> None:
        """Record a use of the token (only ever moves last_used_at forward)."""
        async with write_transaction(self._engine) as connection:
            await connection.execute(
                update(TOKENS).where(TOKENS.c.id == token_id,
                                     (TOKENS.c.last_used_at.is_(None))
                                     | (TOKENS.c.last_used_at < now))
                .values(last_used_at=now))


def _record(row: Row[Any]) -> TokenRecord:
    return TokenRecord(**row._mapping)
