"""Single use of one-click action links: a link's nonce is recorded the first time it acts,
with who acted through it, so a second look at the link can say what was done, by whom, when.

The database decides (a primary key on the nonce, `ON CONFLICT DO NOTHING`), so a link
clicked twice, or in two collectors at once, acts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.notify.links import ActionClaim
from collector.store.conflict import insert_or_skip
from collector.store.engine import write_transaction
from collector.store.models import ActionUseRow

ACTION_USES = ActionUseRow.__table__


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionUse:
    ticket_id: int
    action: str
    used_at: datetime
    actor: str | None      # None: used before actors were recorded


async def use_action(engine: AsyncEngine, claim: ActionClaim, *, now: datetime,
                     actor: str | None = None) -> bool:
    """True the first time this link's nonce is used, False ever after."""
    statement = (insert_or_skip(engine.dialect.name, ACTION_USES, index_elements=["nonce"])
                 .returning(ACTION_USES.c.nonce))
    async with write_transaction(engine) as connection:
        row = (await connection.execute(statement, {
            "nonce": claim.nonce, "ticket_id": claim.ticket_id, "action": claim.action,
            "used_at": now, "actor": actor})).first()
    return row is not None


async def find_use(engine: AsyncEngine, claim: ActionClaim) -> ActionUse | None:
    """How this link was used, or None when it was not (yet)."""
    query = (select(ACTION_USES.c.ticket_id, ACTION_USES.c.action, ACTION_USES.c.used_at,
                    ACTION_USES.c.actor)
             .where(ACTION_USES.c.nonce == claim.nonce))
    async with engine.connect() as connection:
        row = (await connection.execute(query)).first()
    return None if row is None else ActionUse(**row._mapping)


async def release_use(engine: AsyncEngine, claim: ActionClaim) -> None:
    """Forget a use whose action was refused (the ticket had moved on): nothing was done
    through the link, so its page must not say something was."""
    async with write_transaction(engine) as connection:
        await connection.execute(ACTION_USES.delete().where(ACTION_USES.c.nonce == claim.nonce))
