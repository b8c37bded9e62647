"""`regie collector ...`: run the service, migrate its database, manage API tokens."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path

from collector.config import DEFAULT_LISTEN, CollectorSettings, load_settings
from regie import installation
from regie.configfile import ConfigError, parse_listen

EPILOG = f"""\
examples:
  regie collector migrate                         create or upgrade the installation's database
  regie collector run                             serve the API, evaluate rules, escalate
  regie collector token create --role viewer --name grafana
  regie collector token create --role responder --name alice-laptop --person alice
  regie collector token list
  regie collector token revoke grafana

The installation file: {installation.RULE} (docs/configuration.md, "Finding the
installation"); without one, built-in defaults and ./regie.db. Only 'migrate' creates a
database; the other commands refuse a missing one.

Roles: admin (everything), responder (read, report, acknowledge/resolve, create and run
changes), change_manager (read, create and run changes, approve, reject and review them),
viewer (read), ingest (Alertmanager webhook, Events API, report), agent (inventory push).
Configuration keys are documented in docs/configuration.md.
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="The Regie collector: one ticket queue for monitoring and users.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", type=Path, metavar="FILE",
                       help=f"the installation file (default: ${installation.ENV}, "
                            f"./regie.toml, {installation.SYSTEM_FILE})")
        p.add_argument("--db", metavar="URL",
                       help="database URL, overriding the file's database.url "
                            "(sqlite:///PATH, postgresql://...)")
        p.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"], help="default: info")
        return p

    run = common(sub.add_parser("run", help="serve the API and run the embedded evaluator"))
    run.add_argument("--listen", metavar="HOST:PORT",
                     help=f"address to serve on (default {DEFAULT_LISTEN})")
    common(sub.add_parser("migrate", help="create or upgrade the database schema"))
    token = sub.add_parser("token", help="create, list or revoke API tokens")
    token_sub = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = common(token_sub.add_parser("create", help="create a token; it is printed once"))
    create.add_argument("--role", required=True,
                        choices=["admin", "responder", "agent", "viewer", "ingest",
                                 "change_manager"])
    create.add_argument("--name", required=True, type=_token_name,
                        help="who or what holds it (the actor in ticket timelines unless "
                             "--person is given): 1 to 64 letters, digits, '.', '_', '@' or '-'")
    create.add_argument("--person", type=_person,
                        help="the person holding it, as the on-call schedule names them: "
                             "what the token does is recorded as theirs")
    common(token_sub.add_parser("list", help="list tokens (never their values)"))
    revoke = common(token_sub.add_parser("revoke", help="revoke a token by name"))
    revoke.add_argument("name")
    return parser


def main(argv: list[str], prog: str = "regie collector") -> int:
    args = _parser(prog).parse_args(argv)
    from collector.log_format import configure

    configure(args.log_level)
    from collector.store.engine import SchemaError

    try:
        config = installation.find_config(args.config, os.environ, Path.cwd())
        settings = load_settings(config, db=args.db, listen=getattr(args, "listen", None))
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "token":
            _require_database(settings)
            return asyncio.run(_token(args, settings))
        return run_settings(settings)
    except MissingDatabase as exc:
        print(f"{prog}: {installation.missing_database_message(exc.path, config, args.db)}",
              file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"{prog}: {exc.with_command(installation.migrate_command(config, args.db))}",
              file=sys.stderr)
        return 2
    except ValueError as exc:  # a database URL the store cannot use
        print(f"{prog}: database.url: {exc}", file=sys.stderr)
        return 2
    except ListenError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2


def _token_name(name: str) -> str:
    from collector.auth import token_name

    try:
        return token_name(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class ListenError(Exception):
    """The API address cannot be bound (taken, not local, not permitted)."""


class MissingDatabase(Exception):
    """The SQLite file does not exist: only `migrate` creates one (opening it would too)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def _require_database(settings: CollectorSettings) -> None:
    missing = installation.missing_database(settings.database.url)
    if missing is not None:
        raise MissingDatabase(missing)


def _migrate(settings: CollectorSettings) -> int:
    from collector.store.engine import migrate

    revision = migrate(settings.database.url)
    print(f"{_shown(settings.database.url)}: schema at revision {revision}")
    return 0


def _shown(url: str) -> str:
    """A database URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


async def _token(args: argparse.Namespace, settings: CollectorSettings) -> int:
    from collector.auth import new_token, token_hash
    from collector.store.engine import check_schema, create_engine, database_url
    from collector.store.tokens import TokenExists, TokenStore

    engine = create_engine(database_url(settings.database.url))
    try:
        await check_schema(engine)
        tokens = TokenStore(engine)
        now = datetime.now(UTC)
        if args.action == "create":
            token = new_token()
            try:
                await tokens.create(args.name, args.role, token_hash(token), now,
                                    person=args.person)
            except TokenExists:
                print(f"regie collector token: the name {args.name!r} is taken (names stay "
                      f"reserved after revocation, for the audit trail); choose another",
                      file=sys.stderr)
                return 2
            print(token)
            held = f", held by {args.person}" if args.person else ""
            print(f"(token {args.name!r}, role {args.role}{held}: shown once, store it now)",
                  file=sys.stderr)
            return 0
        if args.action == "list":
            rows = await tokens.list()
            print(f"{'NAME':24} {'ROLE':10} {'PERSON':12} {'CREATED':20} {'LAST USED':20} "
                  f"REVOKED")
            for r in rows:
                # ascii(): a name stored before names were restricted may hold a newline.
                name = r.name if r.name.isprintable() and r.name.strip() else ascii(r.name)
                print(f"{name:24} {r.role:10} {r.person or '-':12} {_when(r.created_at):20} "
                      f"{_when(r.last_used_at):20} {_when(r.revoked_at)}")
            return 0
        if await tokens.revoke(args.name, now):
            print(f"revoked {args.name!r}")
            return 0
        print(f"regie collector token: no active token named {args.name!r}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


def _person(text: str) -> str:
    """A person's name as the schedule spells it (collector/auth.py `person_name`)."""
    from collector.auth import person_name

    try:
        return person_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _settle_heap() -> None:
    """Keep the cyclic garbage collector out of the request path's tail latency.

    The start-up heap (SQLAlchemy, aiohttp, the settings) is frozen out of collections, and the
    youngest generation collects every 50,000 allocations instead of 700: an ingest batch
    allocates tens of thousands of short-lived objects, and the full collections that followed
    walked the whole heap. bench/ingest.py at 2,000 alerts/s on SQLite: p99 86 -> 30-40 ms;
    PostgreSQL with two collectors 74 -> 60 ms. Reference counting still frees almost
    everything at once; only cycles wait longer.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def run_settings(settings: CollectorSettings) -> int:
    """Serve until SIGINT/SIGTERM with validated settings (also used by `regie demo`)."""
    from collector.app import make_app
    from collector.http_server import serve
    from collector.rules_file import load_rule_set
    from collector.service import (
        evaluator_context,
        load_oncall,
        oncall_context,
        stores_context,
    )

    rules = load_rule_set(settings.evaluator.rules_file)
    oncall = load_oncall(settings)
    _require_database(settings)  # after the settings' own files: those are checked first
    from collector.intake import utcnow
    from collector.vendor_case_reminders import reminders_context

    app = make_app(settings, stores_ctx=stores_context(settings),
                   extra_ctx=[oncall_context(settings, oncall),
                              reminders_context(settings, clock=utcnow),
                              evaluator_context(settings, rules)])
    host, port = parse_listen(settings.server.listen)
    context = None
    if settings.server.tls_cert_file and settings.server.tls_key_file:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(settings.server.tls_cert_file, settings.server.tls_key_file)
        except ssl.SSLError as exc:
            raise ConfigError(settings.source, "server.tls_cert_file",
                              f"certificate and key do not load: {exc.reason or exc}") from None
    logging.getLogger("regie.collector").info(
        "serving %s://%s (database %s)", "https" if context else "http", settings.server.listen,
        _shown(settings.database.url))
    _settle_heap()
    try:
        serve(app, host=host, port=port, ssl_context=context,
              max_connections=settings.server.max_connections,
              header_timeout=settings.server.header_timeout)
    except OSError as exc:
        # Binding happens inside run_app; these are the ways an address cannot be had.
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        raise ListenError(f"cannot listen on {settings.server.listen}: "
                          f"{exc.strerror or exc}") from None
    logging.getLogger("regie.collector").info("stopped")
    return 0
