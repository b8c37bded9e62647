"""`regie deploy ...`: files for the monitoring stack in front of Regie, from what the collector
knows.

`prometheus-targets` writes the agents as a Prometheus file_sd file. It reads the
installation's database directly, as `regie collector token` does (run it where the collector
runs, as its user), through the same store read and rendering as the collector's
`GET /api/v1/prometheus/targets`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from regie import installation
from regie.configfile import ConfigError

EPILOG = f"""\
examples:
  regie deploy prometheus-targets --out agents.yml       file_sd for Prometheus (YAML)
  regie deploy prometheus-targets --out agents.json      the same as JSON
  regie deploy prometheus-targets --out -                print it

Each agent that announces where it is scraped (in its inventory push: http.listen or
http.advertise_address, TLS or not, push.labels) is one target, labelled host (its host name,
as tickets name it), criticality (the installation's [criticality]) and its own labels. The
file is replaced in one rename, mode 0644 (Prometheus reads it; it holds no secret); Prometheus
notices the change by itself. Run it from a timer, or let Prometheus ask the collector instead
(http_sd_configs on /api/v1/prometheus/targets with a viewer token): docs/operations.md.

The installation file: {installation.RULE}.

exit status: 0 written, 1 the file could not be written, 2 a problem with the installation
or its database.
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Files for Prometheus generated from what the collector knows.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    targets = sub.add_parser(
        "prometheus-targets", help="write the agents as a Prometheus file_sd file",
        description="Write the agents the collector knows as Prometheus file_sd targets.")
    targets.add_argument("--out", required=True, metavar="FILE",
                         help="where to write it (.yml/.yaml: YAML, else JSON); '-' for stdout")
    targets.add_argument("--config", type=Path, metavar="FILE",
                         help=f"the installation file (default: ${installation.ENV}, "
                              f"./regie.toml, {installation.SYSTEM_FILE})")
    targets.add_argument("--db", metavar="URL",
                         help="database URL, overriding the file's database.url")
    return parser


def main(argv: list[str], prog: str = "regie deploy") -> int:
    args = _parser(prog).parse_args(argv)
    from collector.config import load_settings
    from collector.store.engine import SchemaError

    try:
        config = installation.find_config(args.config, os.environ, Path.cwd())
        settings = load_settings(config, db=args.db)
        missing = installation.missing_database(settings.database.url)
        if missing is not None:
            print(f"{prog}: {installation.missing_database_message(missing, config, args.db)}",
                  file=sys.stderr)
            return 2
        text, fleet = asyncio.run(_render(settings, yaml_format=args.out.endswith(
            (".yml", ".yaml"))))
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
    for address, hosts in fleet.conflicts.items():
        print(f"{prog}: warning: {address} is announced by {', '.join(hosts)}: left out (set "
              f"http.advertise_address on those agents)", file=sys.stderr)
    for host, reason in fleet.invalid.items():
        print(f"{prog}: warning: {host}: left out: {reason}", file=sys.stderr)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    try:
        write_replacing(text, Path(args.out))
    except OSError as exc:
        print(f"{prog}: {args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    count = len(fleet.targets)
    print(f"wrote {count} target{'' if count == 1 else 's'} to {args.out}", file=sys.stderr)
    return 0


async def _render(settings, *, yaml_format: bool):
    from collector.prometheus_sd import file_sd_text, fleet
    from collector.store.engine import check_schema, create_engine, database_url
    from collector.store.hosts import scrape_endpoints

    engine = create_engine(database_url(settings.database.url))
    try:
        await check_schema(engine)
        found = fleet(await scrape_endpoints(engine), settings.criticality)
    finally:
        await engine.dispose()
    return file_sd_text(found.targets, yaml_format=yaml_format), found


def write_replacing(text: str, out: Path, *, mode: int = 0o644) -> None:
    """Replace `out` in one rename (Prometheus never reads half a file): a temporary file in
    the same directory, flushed to disk, given `mode`, then renamed over `out`."""
    directory = out.parent if str(out.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
