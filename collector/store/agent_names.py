"""The names agents reported in their inventory pushes: host name and FQDN, per host."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store.models import InventoryPushRow

PUSHES = InventoryPushRow.__table__
# Pushes committed out of id order (concurrent transactions on PostgreSQL take ids in one
# order and commit in another) are read again: ids this far below the newest one read.
REREAD_IDS = 100


class AgentNames:
    """(host name, FQDN) of every host that pushed, as its latest push said (FQDN may be None:
    its lookup can fail on the agent), for collector/host_names.py's refresh.

    The first read takes each host's latest push (found through ix_inventory_pushes_host_id);
    later reads only the pushes stored since (and the last REREAD_IDS before them). Reading
    every push ever stored, as this did, made each refresh (once a minute, in the path of an
    ingest request) parse the history's documents: 0.24 s at 81 pushes, growing with every
    push until it hit the read's timeout and the names went stale."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._fqdn: dict[str, str | None] = {}
        self._newest: int | None = None
        self.rows_read = 0            # documents looked into, in all reads so far

    async def __call__(self) -> list[tuple[str, str | None]]:
        fqdn = PUSHES.c.document["host"]["fqdn"].as_string()
        query = select(PUSHES.c.id, PUSHES.c.host, fqdn)
        if self._newest is None:
            latest = (select(func.max(PUSHES.c.id).label("id"))
                      .group_by(PUSHES.c.host).subquery())
            query = query.join(latest, PUSHES.c.id == latest.c.id)
        else:
            query = query.where(PUSHES.c.id > self._newest - REREAD_IDS)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query.order_by(PUSHES.c.id))).all()
        self.rows_read += len(rows)
        for id_, host, name in rows:      # in id order: a host's latest push wins
            self._fqdn[host] = name
            self._newest = max(self._newest or 0, id_)
        if self._newest is None:
            self._newest = 0
        return sorted(self._fqdn.items())
