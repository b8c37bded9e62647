"""Single use of one-click action links: a link's nonce is recorded the first time it acts.

The database decides (a primary key on the nonce, `ON CONFLICT DO NOTHING`), so a link
clicked twice, or in two collectors at once, acts once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.notify.links import ActionClaim
from collector.store.conflict import insert_or_skip
from collector.store.engine import write_transaction
from collector.store.models import ActionUseRow

ACTION_USES = ActionUseRow.__table__


async def use_action(engine: AsyncEngine, claim: ActionClaim, *, now: datetime) -> bool:
    """True the first time this link's nonce is used, False ever after."""
    statement = (insert_or_skip(engine.dialect.name, ACTION_USES, index_elements=["nonce"])
                 .returning(ACTION_USES.c.nonce))
    async with write_transaction(engine) as connection:
        row = (await connection.execute(statement, {
            "nonce": claim.nonce, "ticket_id": claim.ticket_id, "action": claim.action,
            "used_at": now})).first()
    return row is not None
