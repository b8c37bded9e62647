"""`regie patch ...`: pending updates and patch lag, from the installation's database.

The commands find the installation as every subcommand does (regie/installation.py: --config
FILE, $REGIE_CONFIG, ./regie.toml, /etc/regie/regie.toml; `--db` overrides its database),
read it through the functions the API uses (collector/patching.py), and never create one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from collector.api_client import for_terminal
from regie import installation

EPILOG = """\
examples:
  regie patch status                          pending updates per host, security ones apart
  regie patch status --security               hosts with pending security updates only
  regie patch status --host 'web-*' --json    those hosts, each update listed, as JSON
  regie patch lag                             patch lag and exposure, last 90 days, by month
  regie patch lag --since 6m --by change      each patch change's hosts and their lag
  regie patch lag --since 1y --by host --json

Patch lag = installed - planned start, per host of each patch change (a change with
packages); exposure = installed - first seen pending, for updates tied to no change. Both are
detected from the agents' inventory pushes, never typed in (docs/patching.md).
Emergency patches (emergency changes, or linked to a P1 ticket) are counted apart.

The commands use the installation's database (--config FILE, $REGIE_CONFIG, ./regie.toml,
/etc/regie/regie.toml; --db overrides it) and never create one. Horizons: 90d, 6w, 3m, 1y.
"""


class Problem(Exception):
    pass


def _parser(prog: str) -> argparse.ArgumentParser:
    from registry.patch_lag import BY

    parser = argparse.ArgumentParser(
        prog=prog, description="Pending updates, patch lag and exposure, from the inventory.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    status = sub.add_parser("status", help="pending updates per host (security apart), the "
                                           "oldest pending security update's age")
    status.add_argument("--host", metavar="GLOB",
                        help="only hosts matching this glob (web-*, db-0[12]); their pending "
                             "updates are listed")
    status.add_argument("--security", action="store_true",
                        help="only hosts with pending security updates, and only those")
    lag = sub.add_parser("lag", help="patch lag of patch changes and exposure of other "
                                     "updates, grouped")
    lag.add_argument("--since", default="90d", metavar="HORIZON",
                     help="how far back: changes planned and updates installed within it "
                          "(90d, 6w, 3m, 1y; default 90d)")
    lag.add_argument("--by", choices=BY, default="month",
                     help="group by the month (default), the host or the change")
    lag.add_argument("--host", metavar="GLOB", help="only hosts matching this glob")
    for command in (status, lag):
        command.add_argument("--json", action="store_true",
                             help="the API's JSON instead of a table")
        command.add_argument("--config", type=Path, metavar="FILE",
                             help="the installation file, for its database (default: "
                                  "$REGIE_CONFIG, ./regie.toml, /etc/regie/regie.toml)")
        command.add_argument("--db", metavar="URL", help="database URL, overriding the "
                                                         "installation's")
    return parser


def main(argv: list[str], prog: str = "regie patch") -> int:
    args = _parser(prog).parse_args(argv)
    from collector.config import load_settings
    from regie.configfile import ConfigError

    try:
        config = installation.find_config(args.config, os.environ, Path.cwd())
        url = load_settings(config, db=args.db).database.url
        missing = installation.missing_database(url)
        if missing is not None:  # never create a database as a side effect
            raise Problem(installation.missing_database_message(missing, config, args.db))
        now = datetime.now(UTC)
        if args.command == "lag":
            from registry.patch_lag import horizon_start

            try:
                since = horizon_start(now, args.since)
            except ValueError as exc:
                raise Problem(f"--since: {exc}") from None
            return asyncio.run(_lag(args, url, since, now))
        return asyncio.run(_status(args, url, now))
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except Problem as exc:
        print(f"{prog}: {_explained(exc, args)}", file=sys.stderr)
        return 2


def _explained(problem: Problem, args: argparse.Namespace) -> str:
    """A schema behind the code names `regie collector migrate` as this command found its
    installation (as `regie registry` does)."""
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


async def _engine(url: str):
    from collector.store.engine import open_checked

    return await open_checked(url, Problem)   # main() names the migrate command


async def _status(args: argparse.Namespace, url: str, now: datetime) -> int:
    from collector.patching import status, status_json

    listed = args.host is not None
    engine = await _engine(url)
    try:
        hosts = await status(engine, host=args.host, security=args.security,
                             with_updates=listed)
    finally:
        await engine.dispose()
    body = status_json(hosts, now, with_updates=listed)
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    body = for_terminal(body)   # host and package names as an agent sent them
    totals = body["totals"]
    print(f"{totals['hosts']} host(s) with pending updates: {totals['security']} security, "
          f"{totals['other']} other")
    if not hosts:
        return 0
    print(f"{'HOST':<32} {'SECURITY':>8} {'OTHER':>6}  OLDEST SECURITY UPDATE")
    for item in body["hosts"]:
        oldest = ("-" if item["oldest_security_first_seen"] is None else
                  f"{item['oldest_security_age_days']:.1f} days "
                  f"(since {item['oldest_security_first_seen'][:10]})")
        print(f"{item['host']:<32} {item['security']:>8} {item['other']:>6}  {oldest}")
        for update in item.get("updates", ()):
            flag = "security" if update["security"] else "other"
            print(f"    {update['package']} {update['version']} ({flag}, pending "
                  f"{update['age_days']:.1f} days)")
    return 0


def _few(names: list[str], shown: int = 10) -> str:
    """The first names, and how many more (--json lists them all)."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


async def _lag(args: argparse.Namespace, url: str, since: datetime, now: datetime) -> int:
    from collector.patching import report
    from registry.patch_lag import report_json

    engine = await _engine(url)
    try:
        found = await report(engine, since=since, now=now, by=args.by, host=args.host)
    finally:
        await engine.dispose()
    body = report_json(found)
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    body = for_terminal(body)
    by = args.by
    print(f"patch lag since {body['since'][:10]} ({args.since}), by {by}: "
          f"{len(body['changes'])} patch change(s)")
    if body["lag"]:
        print(f"{by.upper():<24} {'PATH':<10} {'CHANGES':>7} {'APPLIED':>7} {'PENDING':>7} "
              f"{'MEAN d':>7} {'MEDIAN d':>8} {'MAX d':>7}")
        for group in body["lag"]:
            print(f"{group[by]:<24} {group['path']:<10} {group['changes']:>7} "
                  f"{group['hosts_applied']:>7} {group['hosts_pending']:>7} "
                  f"{_days(group['mean_days']):>7} {_days(group['median_days']):>8} "
                  f"{_days(group['max_days']):>7}")
    if by == "change":
        for change in body["changes"]:
            pending = [h["host"] for h in change["hosts"] if h["state"] == "pending"]
            print(f"  change {change['id']} ({change['type']}, planned "
                  f"{change['planned_start'][:10]}): {change['hosts_applied']} applied, "
                  f"mean {_days(change['mean_lag_days'])} d, max "
                  f"{_days(change['max_lag_days'])} d"
                  + (f"; waiting: {_few(pending)}" if pending else ""))
    print(f"exposure of updates tied to no change (installed - first seen pending), by {by}: "
          f"{sum(g['updates'] for g in body['exposure'])} update(s)")
    if body["exposure"]:
        print(f"{by.upper():<24} {'KIND':<10} {'UPDATES':>7} {'MEAN d':>7} {'MAX d':>7}")
        for group in body["exposure"]:
            print(f"{group[by]:<24} {group['kind']:<10} {group['updates']:>7} "
                  f"{_days(group['mean_days']):>7} {_days(group['max_days']):>7}")
    return 0
