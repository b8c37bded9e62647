"""The demo's sample hardware lifecycle, assets and contracts (collector/data/demo_*.csv).

endoflife.date has no hardware and no contracts, so a fresh demo would show empty
`regie registry hardware` and `contracts` reports. `regie demo` imports these samples at
start, through the same parser and store as `regie registry import`; importing again
updates the same rows (upserts by their keys), so restarting the demo adds nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# (kind as `regie registry import` names it, file): models before the assets that use them.
SAMPLES = (("hardware", "demo_hardware.csv"), ("assets", "demo_assets.csv"),
           ("contracts", "demo_contracts.csv"))


async def import_samples(url: str, directory: Path = DATA) -> dict[str, int]:
    """Import every sample file into the database at `url`; records per kind."""
    from collector.store.engine import create_engine, database_url
    from collector.store.registry import RegistryStore
    from registry.imports import parse_records

    parsed = {kind: parse_records(kind, (directory / name).read_text(encoding="utf-8"),
                                  source=name) for kind, name in SAMPLES}
    engine = create_engine(database_url(url))
    try:
        store = RegistryStore(engine)
        now = datetime.now(UTC)
        return {
            "hardware": await store.upsert_hardware(parsed["hardware"], now=now),
            "assets": await store.upsert_assets(parsed["assets"], source="demo", now=now),
            "contracts": await store.upsert_contracts(parsed["contracts"], now=now),
        }
    finally:
        await engine.dispose()
