"""`regie maintenance ...`: maintenance windows from a terminal, through the collector's API.

The collector and the token are found as `regie ticket` finds them (collector/ticket_cli.py):
`--url` / `--token-file`, else $REGIE_URL / $REGIE_TOKEN_FILE ($REGIE_TOKEN), else the
installation's `[cli]` table (regie/installation.py). Going through the API, a window added or
ended here holds or releases alerts in the collector at once. A window is named by its number
(`3`) or by its name. Exit status: 0 done, 2 refused (bad input, no token or installation, or
the collector's 4xx with its reason), 1 the collector could not be reached or failed (5xx).
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from collector import api_client, ticket_cli
from collector.api_client import Refused
from regie import installation

EPILOG = f"""\
examples:
  regie maintenance add --name "db kernel update" --host 'db-*' --start now --duration 1h
  regie maintenance add --name "Sunday patching" --host 'web-*' --service nginx \\
      --start 2026-12-13T02:00 --end 2026-12-13T04:00 --timezone Europe/Amsterdam \\
      --rrule "FREQ=WEEKLY;BYDAY=SU" --comment "monthly OS updates"
  regie maintenance add --name "storage array firmware" \\
      --matcher 'alertname=~"Disk.*|Filesystem.*"' --start now --duration 90m
  regie maintenance list                       windows, and what holds alerts now
  regie maintenance show "Sunday patching"     one window: scope, next occurrence
  regie maintenance end "db kernel update"     end it now: what it held and still fires pages

Inside a window, alerts on its scope (every part given must match: a host among the globs,
a service among the names, every label matcher) open or update their ticket, marked "during
maintenance", and page nobody; at the window's end those still firing page. A time without
an offset is read in --timezone (default UTC); a recurrence (RFC 5545, DAILY or coarser)
follows that zone's wall clock across DST changes. Approved changes' planned windows hold
alerts too (docs/maintenance.md).

The collector and the token: --url and --token-file, else $REGIE_URL and $REGIE_TOKEN_FILE
(or $REGIE_TOKEN), else [cli] url and token_file in the installation file
({installation.RULE}).
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Maintenance windows: alerts recorded, nobody paged.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ticket_cli._add_client_options(parser, subcommand=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add = sub.add_parser("add", help="add a window (one-off or recurring)")
    add.add_argument("--name", required=True, help="what it is for (shown on tickets)")
    add.add_argument("--start", required=True,
                     help="ISO 8601, e.g. 2026-12-13T02:00 (read in --timezone), or 'now'")
    length = add.add_mutually_exclusive_group(required=True)
    length.add_argument("--end", help="ISO 8601 (of the first occurrence when recurring)")
    length.add_argument("--duration", help="e.g. 2h, 90m, 1h30m")
    add.add_argument("--timezone", help="IANA time zone, e.g. Europe/Amsterdam (default UTC)")
    add.add_argument("--rrule", help="RFC 5545 recurrence, e.g. 'FREQ=WEEKLY;BYDAY=SU'")
    add.add_argument("--host", dest="hosts", action="append", default=[], metavar="GLOB",
                     help="a host name or glob (repeatable)")
    add.add_argument("--service", dest="services", action="append", default=[],
                     metavar="NAME", help="a service (repeatable)")
    add.add_argument("--matcher", dest="matchers", action="append", default=[],
                     metavar="MATCHER",
                     help='an Alertmanager label matcher, e.g. \'alertname=~"Disk.*"\' '
                          "(repeatable)")
    add.add_argument("--comment", help="why")
    ls = sub.add_parser("list", help="windows, and the occurrences holding alerts now")
    ls.add_argument("--all", action="store_true", help="also windows ended by hand")
    show = sub.add_parser("show", help="one window")
    show.add_argument("window", help="its number or name")
    end = sub.add_parser("end", help="end a window now")
    end.add_argument("window", help="its number or name")
    for command in (add, end):
        command.add_argument("--as", dest="actor", metavar="NAME",
                             help="the person acting (default: the person the token names, "
                                  "else the token's name)")
    for command in sub.choices.values():
        ticket_cli._add_client_options(command, subcommand=True)
    return parser


def call(args: argparse.Namespace, method: str, path: str,
         body: dict[str, Any] | None = None) -> Any:
    return api_client.request(args, method, path, body)


def _window_id(args: argparse.Namespace) -> int:
    """The window's number: given as such, or found by its name among those not ended."""
    if args.window.isascii() and args.window.isdigit():
        if len(args.window) > 18:   # the API's numbers; int() refuses over 4,300 digits
            raise Refused(f"no maintenance window numbered {args.window[:40]}... (a window's "
                          f"number has at most 18 digits)")
        return int(args.window)
    found = [w for w in call(args, "GET", "/api/v1/maintenance")["windows"]
             if w["name"] == args.window]
    if not found:
        raise Refused(f"no maintenance window named {args.window!r} (ended ones are listed "
                      f"with 'list --all' and named by number)")
    if len(found) > 1:
        raise Refused(f"{args.window!r} names several windows: "
                      f"{', '.join('#' + str(w['id']) for w in found)}; give the number")
    return found[0]["id"]


def _dispatch(args: argparse.Namespace) -> Any:
    actor = {"actor": args.actor} if getattr(args, "actor", None) else {}
    if args.command == "add":
        start = datetime.now(UTC).isoformat(timespec="seconds") if args.start == "now" \
            else args.start
        body = {"name": args.name, "start": start, "end": args.end, "duration": args.duration,
                "timezone": args.timezone, "rrule": args.rrule, "hosts": args.hosts,
                "services": args.services, "matchers": args.matchers,
                "comment": args.comment, **actor}
        return call(args, "POST", "/api/v1/maintenance",
                    {k: v for k, v in body.items() if v not in (None, [])})
    if args.command == "list":
        query = urllib.parse.urlencode({"all": "true" if args.all else "false"})
        return call(args, "GET", f"/api/v1/maintenance?{query}")
    window = _window_id(args)
    if args.command == "show":
        return call(args, "GET", f"/api/v1/maintenance/{window}")
    return call(args, "POST", f"/api/v1/maintenance/{window}/end", actor)


def _scope(window: dict[str, Any]) -> str:
    parts = []
    if window["hosts"]:
        parts.append("hosts " + ",".join(window["hosts"]))
    if window["services"]:
        parts.append("services " + ",".join(window["services"]))
    if window["matchers"]:
        parts.append(" ".join(window["matchers"]))
    return "; ".join(parts)


def _when(window: dict[str, Any]) -> str:
    minutes = window["duration_seconds"] // 60
    length = f"{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"{minutes}m"
    if window["rrule"]:
        return f"{window['rrule']} from {window['start']} ({window['timezone']}), {length} each"
    return f"{window['start']} to {window['end']}"


def _line(window: dict[str, Any]) -> str:
    state = "ended" if window["ended_at"] else ("running" if window["active"] else "planned")
    nxt = window["next"]
    following = f"; next {nxt['start']} to {nxt['end']}" if nxt and not window["active"] \
        else (f"; until {nxt['end']}" if nxt else "")
    return (f"#{window['id']} {window['name']} [{state}]: {_when(window)}{following}; "
            f"{_scope(window)}")


def _table(result: dict[str, Any]) -> str:
    lines = [_line(w) for w in result["windows"]] or ["no maintenance windows"]
    if result["active"]:
        lines += ["", "holding alerts now:"]
        lines += [f"  {a['name']} ({a['source']} {a['window']}) until {a['end']}: {a['scope']}"
                  for a in result["active"]]
    return "\n".join(lines)


def main(argv: list[str], prog: str = "regie maintenance") -> int:
    args = _parser(prog).parse_args(argv)
    status, result = api_client.run(prog, _dispatch, args)
    if status:
        return status
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.command == "list":
        print(_table(result))
    else:
        print(_line(result))
        if args.command == "show" and result["comment"]:
            print(f"  {result['comment']}")
    return 0
