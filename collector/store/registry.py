"""The registry in the database: end-of-support data, matched software, assets, hardware
model lifecycle and contracts.

A sync replaces the end-of-support data whole in one transaction (readers see the old data
or the new, never a mix); a fleet re-match replaces every host's matched software the same
way. An inventory push replaces its host's matched software in the transaction that stores
the push (collector/store/inventory.py calls `replace_host_software` with its connection).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from collector.store.engine import write_transaction
from collector.store.models import (
    AssetRow,
    ContractRow,
    EosProductRow,
    HardwareModelRow,
    HostSoftwareRow,
    RegistrySyncRow,
)
from registry.fleet import Found
from registry.imports import Asset, ContractRecord, HardwareModel
from registry.lifecycle import Contract, Hardware, Software

PRODUCTS = EosProductRow.__table__
SYNCS = RegistrySyncRow.__table__
SOFTWARE = HostSoftwareRow.__table__
ASSETS = AssetRow.__table__
MODELS = HardwareModelRow.__table__
CONTRACTS = ContractRow.__table__

# Rows per INSERT when writing a whole fleet (bounded statement size).
CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class SyncInfo:
    id: int
    source: str
    synced_at: datetime
    products: int
    skipped: int


class RegistryStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    # -- end-of-support data ----------------------------------------------------------------

    async def replace_catalog(self, documents: Sequence[Mapping[str, Any]], *, source: str,
                              skipped: int, now: datetime) -> SyncInfo:
        """Swap in validated product documents (API v1 `result` objects), all or nothing."""
        rows = [{"name": d["name"], "label": str(d.get("label") or d["name"])[:255],
                 "category": str(d.get("category") or "")[:32], "document": dict(d),
                 "synced_at": now} for d in documents]
        async with write_transaction(self._engine) as connection:
            await connection.execute(delete(PRODUCTS))
            for start in range(0, len(rows), CHUNK):
                await connection.execute(insert(PRODUCTS), rows[start:start + CHUNK])
            sync_id = (await connection.execute(
                insert(SYNCS).values(source=source, synced_at=now, products=len(rows),
                                     skipped=skipped).returning(SYNCS.c.id))).scalar_one()
        return SyncInfo(sync_id, source, now, len(rows), skipped)

    async def latest_sync(self) -> SyncInfo | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(
                select(SYNCS).order_by(SYNCS.c.id.desc()).limit(1))).first()
        return None if row is None else SyncInfo(row.id, row.source, row.synced_at,
                                                 row.products, row.skipped)

    async def catalog_documents(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as connection:
            return list((await connection.execute(
                select(PRODUCTS.c.document).order_by(PRODUCTS.c.name))).scalars())

    # -- matched software -------------------------------------------------------------------

    async def replace_host_software(self, connection: AsyncConnection, host: str,
                                    rows: Sequence[Mapping[str, Any]]) -> None:
        """Inside the caller's transaction: `host`'s matched software becomes `rows`."""
        await connection.execute(delete(SOFTWARE).where(SOFTWARE.c.host == host))
        if rows:
            await connection.execute(insert(SOFTWARE), [dict(r, host=host) for r in rows])

    async def replace_all_software(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Every host's matched software becomes `rows` (a fleet re-match), atomically."""
        written = 0
        async with write_transaction(self._engine) as connection:
            await connection.execute(delete(SOFTWARE))
            batch: list[Mapping[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= CHUNK:
                    await connection.execute(insert(SOFTWARE), batch)
                    written += len(batch)
                    batch = []
            if batch:
                await connection.execute(insert(SOFTWARE), batch)
                written += len(batch)
        return written

    async def software(self, *, host: str | None = None,
                       product: str | None = None) -> list[Software]:
        query = select(SOFTWARE)
        if host is not None:
            query = query.where(SOFTWARE.c.host == host)
        if product is not None:
            query = query.where(SOFTWARE.c.product == product)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query.order_by(SOFTWARE.c.id))).all()
        return [Software(host=r.host, product=r.product, cycle=r.cycle, category=r.category,
                         eol_date=r.eol_date, eol_flag=r.eol_flag, eoes_date=r.eoes_date,
                         observed=r.observed, rule=r.rule, covered_by=r.covered_by,
                         covered_eol_date=r.covered_eol_date,
                         covered_eol_flag=r.covered_eol_flag,
                         covered_eoes_date=r.covered_eoes_date, rule_note=r.rule_note)
                for r in rows]

    async def software_counts(self) -> dict[str, int]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(
                select(SOFTWARE.c.category, func.count()).group_by(SOFTWARE.c.category))).all()
        return dict(rows)

    # -- assets, hardware models, contracts -------------------------------------------------

    async def upsert_assets(self, records: Sequence[Asset], *, source: str, now: datetime,
                            connection: AsyncConnection | None = None) -> int:
        rows = [{"name": r.name, "vendor": r.vendor, "model": r.model, "serial": r.serial,
                 "source": source, "updated_at": now} for r in records]
        return await self._upsert(ASSETS, rows, ["name"], connection=connection)

    async def upsert_hardware(self, records: Sequence[HardwareModel], *, now: datetime) -> int:
        rows = [{"vendor": r.vendor, "model": r.model, "end_of_sale": r.end_of_sale,
                 "end_of_support": r.end_of_support, "note": r.note, "imported_at": now}
                for r in records]
        return await self._upsert(MODELS, rows, ["vendor", "model"])

    async def upsert_contracts(self, records: Sequence[ContractRecord], *,
                               now: datetime) -> int:
        rows = [{"asset": r.asset, "vendor": r.vendor, "number": r.number, "kind": r.kind,
                 "end_date": r.end_date, "renewal": r.renewal, "owner": r.owner,
                 "imported_at": now} for r in records]
        return await self._upsert(CONTRACTS, rows, ["asset", "vendor", "number"])

    async def _upsert(self, table, rows: list[dict[str, Any]], keys: list[str], *,
                      connection: AsyncConnection | None = None) -> int:
        if not rows:
            return 0
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={c: statement.excluded[c] for c in rows[0] if c not in keys})
        if connection is not None:
            for start in range(0, len(rows), CHUNK):
                await connection.execute(statement, rows[start:start + CHUNK])
            return len(rows)
        async with write_transaction(self._engine) as own:
            for start in range(0, len(rows), CHUNK):
                await own.execute(statement, rows[start:start + CHUNK])
        return len(rows)

    async def hardware(self) -> list[Hardware]:
        """Every asset with its model's lifecycle dates (vendor and model matched ignoring
        case and surrounding spaces)."""
        async with self._engine.connect() as connection:
            assets = (await connection.execute(select(ASSETS))).all()
            models = (await connection.execute(select(MODELS))).all()
        by_model = {(m.vendor.strip().lower(), m.model.strip().lower()): m for m in models}
        out = []
        for a in assets:
            model = by_model.get(((a.vendor or "").strip().lower(),
                                  (a.model or "").strip().lower()))
            out.append(Hardware(asset=a.name, vendor=a.vendor, model=a.model,
                                end_of_sale=model.end_of_sale if model else None,
                                end_of_support=model.end_of_support if model else None))
        return out

    async def contracts(self) -> list[Contract]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(CONTRACTS).order_by(CONTRACTS.c.end_date))
                    ).all()
        return [Contract(asset=r.asset, vendor=r.vendor, number=r.number, kind=r.kind,
                         end_date=r.end_date, renewal=r.renewal, owner=r.owner) for r in rows]


def software_row(found: Found, now: datetime) -> dict[str, Any]:
    """A `host_software` row (without its host) from a matched product cycle, with the
    support rule that applies to it and the covering release's dates."""
    covered = found.coverage
    release = covered.release
    if covered.ended is not None:  # the distribution's early end for this package
        eol, eoes = covered.ended, None
    elif release is not None and covered.rule == "distro":
        eol, eoes = release.eol, release.eoes
    else:
        eol = eoes = None
    return {
        "product": found.product[:255], "cycle": found.cycle[:64] if found.cycle else None,
        "category": found.category[:32],
        "eol_date": _day(found.eol), "eol_flag": _flag(found.eol),
        "eoes_date": _day(found.eoes),
        "source": found.source[:100], "observed": found.observed[:1000], "matched_at": now,
        "rule": covered.rule.value, "covered_by": release.label[:64] if release else None,
        "covered_eol_date": _day(eol), "covered_eol_flag": _flag(eol),
        "covered_eoes_date": _day(eoes), "rule_note": covered.note[:1000],
    }


def _day(value: date | bool | None) -> date | None:
    return value if isinstance(value, date) else None


def _flag(value: date | bool | None) -> bool | None:
    return value if isinstance(value, bool) else None
