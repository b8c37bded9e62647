"""`regie registry ...`: end-of-support data, matching, reports, hardware and contract imports.

The commands work on the installation's database (regie/installation.py: --config FILE,
$REGIE_CONFIG, ./regie.toml, /etc/regie/regie.toml; `--db` overrides it), as `regie collector
token` does, and never create one; `match` needs no database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from regie import installation
from regie.inputs import day_argument

EPILOG = """\
examples:
  regie registry sync --from "$EOL_MIRROR"                        a mirror directory
  echo '{"source": "os-release", "raw": {"ID": "debian"}}' | regie registry match
  regie registry eos --within 8m                                  what ends within 8 months
  regie registry eos --within 1y --by product --json
  regie registry hardware --within 12m                            assets past/near EOSL
  regie registry contracts --within 90d                           renewals due

'sync --from https://endoflife.date/api/v1' reads the live API; a mirror is a directory in its
shape (products/<name>.json). 'import hardware|assets|contracts FILE' reads vendor EOS/EOSL
dates, the asset list or contracts from CSV or YAML. The commands use the installation's
database (--config FILE, $REGIE_CONFIG, ./regie.toml, /etc/regie/regie.toml; --db overrides
it) and never create one.

Horizons: 90d, 6w, 8m, 1y. docs/registry.md explains matching, data and reports.
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    from registry import match_cli

    parser = argparse.ArgumentParser(
        prog=prog, description="The registry: end of support, hardware lifecycle, contracts.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def database(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", type=Path, metavar="FILE",
                       help="the installation file, for its database (default: $REGIE_CONFIG, "
                            "./regie.toml, /etc/regie/regie.toml)")
        p.add_argument("--db", metavar="URL",
                       help="database URL, overriding the installation's")
        return p

    sync = database(sub.add_parser(
        "sync", help="refresh end-of-support data from the API or a mirror, then re-match"))
    sync.add_argument("--from", dest="origin", required=True, metavar="URL|DIR",
                      help="an API v1 base URL (https://endoflife.date/api/v1) or a directory "
                           "in its shape (products/<name>.json)")
    match = sub.add_parser(
        "match", help="match observations (stdin, JSON) to product, cycle and end of life",
        description="Without --data: the data of the last sync in the installation's database "
                    "(--db, or the installation's when it exists), else the bundled dataset.")
    match_cli.add_arguments(match)
    database(match)
    for name, help_, default in (
            ("eos", "software and hardware past or reaching end of support", "8m"),
            ("hardware", "assets whose model is past or near end of support (EOSL)", "12m"),
            ("contracts", "warranty and support contracts ending soon", "90d")):
        report = database(sub.add_parser(name, help=help_))
        report.add_argument("--within", default=default, metavar="HORIZON",
                            help=f"how far ahead to list: 90d, 6w, 8m, 1y (default "
                                 f"{default}); an item's status is its own, whatever this is")
        report.add_argument("--json", action="store_true", help="JSON instead of a table")
        report.add_argument("--today", type=day_argument, metavar="YYYY-MM-DD",
                            help="report as of this day (default: today), e.g. to plan ahead")
        if name == "eos":
            report.add_argument("--by", choices=["item", "host", "product"], default="item",
                                help="one line per item (default), or grouped")
            report.add_argument("--host", help="only this host")
            report.add_argument("--product", help="only this product")
        if name == "contracts":
            report.add_argument("--include-renewed", action="store_true",
                                help="also list contracts already renewed")
    imp = database(sub.add_parser(
        "import", help="import hardware model lifecycle, assets or contracts (CSV or YAML)"))
    imp.add_argument("kind", choices=["hardware", "assets", "contracts"])
    imp.add_argument("file", type=Path, help="CSV with a header row, or YAML (.yml/.yaml)")
    return parser


def main(argv: list[str], prog: str = "regie registry") -> int:
    args = _parser(prog).parse_args(argv)
    from regie.configfile import ConfigError

    try:
        if args.command == "match":
            from registry import match_cli

            return match_cli.run(args, catalog_loader=lambda: _stored_catalog(args))
        from collector.config import load_settings

        config = installation.find_config(args.config, os.environ, Path.cwd())
        settings = load_settings(config, db=args.db)
        missing = installation.missing_database(settings.database.url)
        if missing is not None:  # never create a database as a side effect
            raise SchemaProblem(installation.missing_database_message(missing, config, args.db))
        if args.command == "import":
            return _import(args, settings.database.url)
        if args.command == "sync":
            return _sync(args, settings.database.url)
        return asyncio.run(_report(args, settings.database.url,
                                   settings.registry.near_horizon))
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except SchemaProblem as exc:
        print(f"{prog}: {_explained(exc, args)}", file=sys.stderr)
        return 2


class SchemaProblem(Exception):
    pass


def _explained(problem: SchemaProblem, args: argparse.Namespace) -> str:
    """A schema behind the code names `regie collector migrate` the way this command found its
    installation (--db, else --config FILE), as the collector's commands do."""
    from collector.store.engine import SchemaError
    from regie.configfile import ConfigError

    cause = problem.__cause__
    if not isinstance(cause, SchemaError):
        return str(problem)
    try:
        config = installation.find_config(args.config, os.environ, Path.cwd())
    except ConfigError:
        config = None
    return cause.with_command(installation.migrate_command(config, args.db))


def _stored_catalog(args: argparse.Namespace):
    """The last sync's data, or None (then the bundled dataset answers)."""
    from collector.config import load_settings
    from collector.store.registry import RegistryStore
    from registry.end_of_support import catalog_from_dump

    config = installation.find_config(args.config, os.environ, Path.cwd())
    if config is None and args.db is None:
        return None  # no installation: the bundled data, never a stray ./regie.db
    url = load_settings(config, db=args.db).database.url
    missing = installation.missing_database(url)
    if missing is not None:
        if args.db is not None:  # asked for by name: say it is not there
            raise SchemaProblem(installation.missing_database_message(missing, config, args.db))
        return None  # an installation not migrated yet has no synced data either

    async def read():
        engine = await _engine(url)
        try:
            store = RegistryStore(engine)
            if await store.latest_sync() is None:
                return None
            return catalog_from_dump(await store.catalog_documents(), "the store")
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def _engine(url: str):
    from collector.store.engine import open_checked

    return await open_checked(url, SchemaProblem)   # main() names the migrate command


# -- sync -------------------------------------------------------------------------------------


def _sync(args: argparse.Namespace, url: str) -> int:
    from regie.progress import Progress
    from registry.end_of_support import dump_catalog
    from registry.sync import SyncError, check, fetch, shown

    bar: list[Progress] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(Progress("fetch", total, unit="products"))
        bar[0].advance(done - bar[0].done)

    try:
        fetched = fetch(args.origin, progress=progress)
    except SyncError as exc:
        print(f"regie registry sync: {exc}; nothing changed", file=sys.stderr)
        return 1
    finally:
        for b in bar:
            b.close()
    for what, reason in fetched.skipped[:10]:
        print(f"skipped {what}: {reason}", file=sys.stderr)
    if len(fetched.skipped) > 10:
        print(f"... and {len(fetched.skipped) - 10} more skipped", file=sys.stderr)
    refused = check(fetched)
    if refused:
        print(f"regie registry sync: {refused}; the stored data is unchanged", file=sys.stderr)
        return 1
    documents = dump_catalog(fetched.catalog)
    return asyncio.run(_apply(url, documents, shown(args.origin), fetched))


async def _apply(url: str, documents: list[dict[str, Any]], origin: str, fetched) -> int:
    from collector.store.inventory import InventoryStore
    from collector.store.registry import RegistryStore, software_row
    from regie.progress import Progress
    from registry import fleet
    from registry.matching import Matcher

    engine = await _engine(url)
    try:
        store = RegistryStore(engine)
        now = datetime.now(UTC)
        info = await store.replace_catalog(documents, source=origin,
                                           skipped=len(fetched.skipped), now=now)
        print(f"stored {info.products} products from {origin} "
              f"({info.skipped} skipped); sync {info.id}")
        # The whole fleet against the new data: each host's latest inventory.
        inventory = InventoryStore(engine)
        hosts = await inventory.hosts()
        # Each decoded document is ~10,000 containers; the cyclic collector walking them
        # again and again cost a quarter of a sync (bench/registry.py: 5.6 -> 4.1 s for 500
        # hosts). Reference counting frees them; cycles wait for the end of the command.
        import gc

        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        matcher = Matcher(fetched.catalog)
        rows: list[dict[str, Any]] = []
        with Progress("re-match", len(hosts), unit="hosts") as bar:
            for host in hosts:
                document = await inventory.latest(host) or {}
                rows += [dict(software_row(found, now), host=host)
                         for found in fleet.software(matcher, fetched.catalog, document)]
                bar.advance()
        written = await store.replace_all_software(rows)
        print(f"re-matched {len(hosts)} hosts: {written} product cycles found")
        return 0
    finally:
        await engine.dispose()


# -- reports ----------------------------------------------------------------------------------


async def _report(args: argparse.Namespace, url: str, near_horizon: str) -> int:
    from collector.store.registry import RegistryStore
    from registry.lifecycle import (
        contract_items,
        eos_items,
        hardware_items,
        horizon_end,
        near_end,
        software_items,
    )

    today = args.today or date.today()
    try:
        until = horizon_end(today, args.within)
    except ValueError as exc:
        print(f"regie registry {args.command}: --within: {exc}", file=sys.stderr)
        return 2
    # An item's status is its own on `today` ([registry] near_horizon is "near"); --within
    # only chooses which items are listed.
    near = near_end(today, near_horizon)
    engine = await _engine(url)
    try:
        store = RegistryStore(engine)
        if args.command == "eos":
            software = await store.software(host=args.host, product=args.product)
            if args.host is None and args.product is None:
                items = eos_items(software, await store.hardware(), today, until, near=near)
            else:
                items = software_items(software, today, until, near=near)
        elif args.command == "hardware":
            items = hardware_items(await store.hardware(), today, until, near=near)
        else:
            items = contract_items(await store.contracts(), today, until, near=near,
                                   include_renewed=args.include_renewed)
    finally:
        await engine.dispose()
    by = getattr(args, "by", "item")
    if args.json:
        from collector.handlers.registry import item_json

        print(json.dumps({"today": today.isoformat(), "until": until.isoformat(),
                          "within": args.within, "items": [item_json(i) for i in items]},
                         indent=2))
        return 0
    # Host names are what an agent's inventory push sent: each line shown as one line of text.
    from collector.api_client import for_terminal

    print(_summary(args.command, items, args.within))
    if not items:
        return 0
    if by == "item":
        from registry.report_tables import table

        print("\n".join(for_terminal(line) for line in table(args.command, items)))
        return 0
    from registry.lifecycle import first_date, grouped

    for key, members in grouped(items, by).items():
        first = first_date(members)
        others = sorted({(m.what if by == "host" else m.host) for m in members})
        print(for_terminal(f"{key}: {len(members)} item(s), first "
                           f"{first.isoformat() if first else 'unknown'} -- {', '.join(others)}"))
    return 0


def _summary(command: str, items: list, within: str) -> str:
    from registry.lifecycle import Status

    hosts_past = {i.host for i in items if i.status is Status.PAST}
    hosts_near = {i.host for i in items if i.status is not Status.PAST} - hosts_past
    if command == "contracts":
        return (f"{len(items)} contract(s) end within {within} or have ended "
                f"({sum(i.status is Status.PAST for i in items)} ended)")
    near, past = len(hosts_near), len(hosts_past)
    return (f"{near} system{'s reach' if near != 1 else ' reaches'} end of support within "
            f"{within}; {past} {'are' if past != 1 else 'is'} past it")


# -- imports ----------------------------------------------------------------------------------


# The largest file `import` reads: far more rows than any asset list or contract register.
IMPORT_BYTES = 256 * 1024 * 1024


def _import(args: argparse.Namespace, url: str) -> int:
    from regie.configfile import read_regular_file
    from registry.imports import ImportProblem, parse_records

    try:
        # A regular file only: a FIFO or a device named by mistake would be read for ever.
        text = read_regular_file(args.file, limit=IMPORT_BYTES).decode("utf-8")
    except OSError as exc:
        print(f"regie registry import: cannot read {args.file}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"regie registry import: cannot read {args.file}: not UTF-8 text ({exc.reason})",
              file=sys.stderr)
        return 2
    try:
        records = parse_records(args.kind, text, source=str(args.file))
    except ImportProblem as exc:
        print(f"regie registry import: {exc}; nothing imported", file=sys.stderr)
        return 2
    return asyncio.run(_store_imports(url, args.kind, records))


async def _store_imports(url: str, kind: str, records: list) -> int:
    from collector.store.registry import RegistryStore

    engine = await _engine(url)
    try:
        store = RegistryStore(engine)
        now = datetime.now(UTC)
        if kind == "hardware":
            count = await store.upsert_hardware(records, now=now)
        elif kind == "assets":
            count = await store.upsert_assets(records, source="import", now=now)
        else:
            count = await store.upsert_contracts(records, now=now)
    finally:
        await engine.dispose()
    print(f"imported {count} {kind} record(s)")
    return 0
