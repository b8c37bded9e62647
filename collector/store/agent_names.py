"""The names agents reported in their inventory pushes: host name and FQDN, per host."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store.models import InventoryPushRow

PUSHES = InventoryPushRow.__table__


async def agent_names(engine: AsyncEngine) -> list[tuple[str, str | None]]:
    """(host name, FQDN) of every host that pushed, as each of its pushes said (FQDN may be
    None: its lookup can fail on the agent)."""
    fqdn = PUSHES.c.document["host"]["fqdn"].as_string()
    query = select(PUSHES.c.host, fqdn).distinct().order_by(PUSHES.c.host)
    async with engine.connect() as connection:
        return [(host, name) for host, name in (await connection.execute(query)).all()]
