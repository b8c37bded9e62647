"""`regie ticket ...`: the ticket queue from a terminal, through the collector's API.

The collector's URL comes from `--url`, else $REGIE_URL, else the installation file's
`[cli] url`, else its `[server] listen`, else http://127.0.0.1:8847; the token from
`--token-file`, else $REGIE_TOKEN_FILE, else $REGIE_TOKEN, else the installation's
`[cli] token_file`. The installation is found as by every subcommand (regie/installation.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from collector.api_client import ApiError  # also ticket_cli.ApiError for the other commands
from regie import installation
from regie.configfile import SECRET_FILE_BYTES, ConfigError, read_regular_file

EPILOG = f"""\
examples:
  regie ticket list                               open and acknowledged tickets, newest first
  regie ticket list --priority P1,P2 --host db-01
  regie ticket list --status resolved --json
  regie ticket show $TICKET                       $TICKET: a ticket number, e.g. 42
  regie ticket ack $TICKET --note "looking at it"
  regie ticket resolve $TICKET --note "disk extended"
  regie ticket assign $TICKET bob                 bob works it from now on
  regie ticket priority $TICKET P2 --reason "payroll runs tonight"
  regie ticket report --summary "Payroll export fails" --host pay-01 --impact high

The collector and the token: --url and --token-file, else $REGIE_URL and $REGIE_TOKEN_FILE
(or $REGIE_TOKEN), else [cli] url and token_file in the installation file
({installation.RULE}).
"""




def _add_client_options(parser: argparse.ArgumentParser, *, subcommand: bool) -> None:
    """The options every subcommand shares, accepted before and after its name
    (`regie ticket --json list` and `regie ticket list --json`). On a subcommand they default
    to SUPPRESS, so an option given before the name is not reset by the subcommand's parser."""
    unset = {"default": argparse.SUPPRESS} if subcommand else {}
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help=f"the installation file (default: ${installation.ENV}, "
                             f"./regie.toml, {installation.SYSTEM_FILE})", **unset)
    parser.add_argument("--url", help="collector URL (default: $REGIE_URL, else the "
                                      "installation's)", **unset)
    parser.add_argument("--token-file", type=Path, metavar="FILE",
                        help="file holding an API token, mode 600 (readable by others: a "
                             "warning); default: $REGIE_TOKEN_FILE, $REGIE_TOKEN, else the "
                             "installation's [cli] token_file", **unset)
    parser.add_argument("--json", action="store_true", help="print the API's JSON",
                        **(unset or {"default": False}))


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Work the Regie ticket queue.",
                                     epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_client_options(parser, subcommand=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ls = sub.add_parser("list", help="list tickets")
    ls.add_argument("--status", default="open,acknowledged",
                    help="comma-separated: open, acknowledged, resolved, closed "
                         "(default open,acknowledged)")
    ls.add_argument("--priority", help="comma-separated, e.g. P1,P2")
    ls.add_argument("--host")
    ls.add_argument("--component")
    ls.add_argument("--source", choices=["monitoring", "user"])
    ls.add_argument("--limit", type=int, default=50)
    show = sub.add_parser("show", help="one ticket with its timeline")
    show.add_argument("id", type=int)
    for name, help_ in (("ack", "acknowledge a ticket"), ("resolve", "resolve a ticket"),
                        ("close", "close a resolved ticket")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("id", type=int)
        p.add_argument("--note", help="a note for the timeline")
    note = sub.add_parser("note", help="add a note to a ticket's timeline")
    note.add_argument("id", type=int)
    note.add_argument("text")
    assign = sub.add_parser("assign", help="give a ticket to a person")
    assign.add_argument("id", type=int)
    assign.add_argument("person", help="who works it from now on")
    priority = sub.add_parser("priority", help="change a ticket's priority, with a reason "
                                               "(its escalation starts over)")
    priority.add_argument("id", type=int)
    priority.add_argument("priority", choices=["P1", "P2", "P3", "P4"])
    priority.add_argument("--reason", required=True, help="why (recorded and sent with the "
                                                          "notification)")
    for name in ("ack", "resolve", "close", "note", "assign", "priority"):
        sub.choices[name].add_argument(
            "--as", dest="actor", metavar="NAME",
            help="the person acting, recorded on the timeline (default: the person the token "
                 "names, else the token's name); a token that names a person acts only for "
                 "them")
    report = sub.add_parser("report", help="report a problem (a user ticket)")
    report.add_argument("--summary", required=True)
    report.add_argument("--description", default="")
    report.add_argument("--host")
    report.add_argument("--service")
    report.add_argument("--component")
    report.add_argument("--impact", choices=["business-critical", "high", "medium", "low"],
                        default="medium")
    report.add_argument("--urgency", choices=["high", "medium", "low"], default="medium")
    for subcommand in sub.choices.values():  # every subcommand, whenever it was added
        _add_client_options(subcommand, subcommand=True)
    return parser


def _installation(args: argparse.Namespace) -> installation.Installation:
    try:
        return installation.locate(args.config)
    except ConfigError as exc:
        raise ApiError(str(exc)) from None


def _token(args: argparse.Namespace) -> str:
    path = args.token_file or (Path(os.environ["REGIE_TOKEN_FILE"])
                               if os.environ.get("REGIE_TOKEN_FILE") else None)
    if path is None and os.environ.get("REGIE_TOKEN"):
        return _bearer(os.environ["REGIE_TOKEN"].strip(), "$REGIE_TOKEN")
    if path is None:
        found = _installation(args)
        path = found.cli.token_file
        if path is None:
            raise ApiError(f"no API token: pass --token-file, set REGIE_TOKEN_FILE, or set "
                           f"[cli] token_file in the installation file ({found.describe()})")
    # Its first line, as the collector and the agent read their secret files: a FIFO, a
    # device or a file that is not UTF-8 is refused, not read for ever or half.
    fix = "pass --token-file or set REGIE_TOKEN"
    try:
        text = read_regular_file(path, limit=SECRET_FILE_BYTES).decode("utf-8")
    except OSError as exc:
        raise ApiError(f"cannot read the token file {str(path)!r}: {exc.strerror or exc}; "
                       f"{fix}") from None
    except UnicodeDecodeError:
        raise ApiError(f"the token file {str(path)!r} is not UTF-8 text; {fix}") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise ApiError(f"the token file {str(path)!r} is empty; {fix}")
    # The collector's own check for its secret files, but a warning here, not a refusal: the
    # token is the user's, and a client that stops working helps nobody fix its mode.
    from alerting.notify.secret_file import exposure

    problem = exposure(path)
    if problem:
        print(f"regie ticket: warning: the token file {problem}", file=sys.stderr)
    return _bearer(token, f"the token file {str(path)!r}")


def _bearer(token: str, where: str) -> str:
    """`token`, when an Authorization header can carry it (the collector's tokens are
    printable ASCII without spaces)."""
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ApiError(f"{where} holds no API token: one line of printable ASCII without "
                       f"spaces is expected")
    return token


def _call(args: argparse.Namespace, method: str, path: str,
          body: dict[str, Any] | None = None) -> Any:
    from collector import api_client

    return api_client.request(args, method, path, body, refused=ApiError)


def _table(tickets: list[dict[str, Any]]) -> str:
    if not tickets:
        return "no tickets"
    lines = [f"{'ID':>6}  {'PRI':3}  {'STATUS':12}  {'SOURCE':10}  {'HOST':16}  {'SEEN':>4}  "
             f"SUMMARY"]
    for t in tickets:
        lines.append(f"{t['id']:>6}  {t['priority']:3}  {t['status']:12}  {t['source']:10}  "
                     f"{(t['host'] or '-')[:16]:16}  {t['occurrences']:>4}  {t['summary'][:70]}")
    return "\n".join(lines)


def _show(ticket: dict[str, Any]) -> str:
    keys = ("id", "priority", "status", "summary", "host", "service", "component", "source",
            "origin", "reporter", "assignee", "impact", "urgency", "occurrences", "created_at",
            "acknowledged_at", "resolved_at", "priority_override_reason")
    lines = [f"{k:>24}: {ticket[k]}" for k in keys if ticket.get(k) not in (None, "")]
    held = ticket.get("maintenance")
    if held:
        lines.append(f"{'maintenance':>24}: {held['name']} (window {held['window']}, "
                     f"{held['start']} to {held['end']}): escalation held until then")
    if ticket.get("description"):
        lines += ["", ticket["description"]]
    lines += ["", "timeline:"]
    lines += [f"  {e['at']}  {e['kind']:18} {e['actor'] or '-':16} {e['message']}"
              for e in ticket.get("timeline", [])]
    if ticket.get("attached"):
        lines += ["", "attached alerts:"]
        lines += [f"  #{t['id']} {t['status']} {t['summary']}" for t in ticket["attached"]]
    return "\n".join(lines)


def main(argv: list[str], prog: str = "regie ticket") -> int:
    args = _parser(prog).parse_args(argv)
    try:
        result = _dispatch(args)
    except ApiError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.command == "list":
        print(_table(result["tickets"]))
    elif args.command == "show":
        print(_show(result))
    elif args.command == "note":
        print(f"noted on #{args.id}")
    else:
        print(f"#{result['id']} {result['priority']} {result['status']}: {result['summary']}")
        if result.get("already"):   # nothing changed: say who did it (the note is kept)
            kept = "; your note is on the timeline" if getattr(args, "note", None) else ""
            print(f"{result['message']}{kept}")
    return 0


def _dispatch(args: argparse.Namespace) -> Any:
    if args.command == "list":
        query = {"status": args.status, "limit": str(args.limit)}
        for key in ("priority", "host", "component", "source"):
            if getattr(args, key):
                query[key] = getattr(args, key)
        return _call(args, "GET", "/api/v1/tickets?" + urllib.parse.urlencode(query))
    if args.command == "show":
        return _call(args, "GET", f"/api/v1/tickets/{args.id}")
    actor = {"actor": args.actor} if getattr(args, "actor", None) else {}
    if args.command in ("ack", "resolve", "close"):
        body = {"note": args.note} if args.note else {}
        return _call(args, "POST", f"/api/v1/tickets/{args.id}/{args.command}",
                     {**body, **actor})
    if args.command == "note":
        return _call(args, "POST", f"/api/v1/tickets/{args.id}/note",
                     {"text": args.text, **actor})
    if args.command == "assign":
        return _call(args, "POST", f"/api/v1/tickets/{args.id}/assign",
                     {"assignee": args.person, **actor})
    if args.command == "priority":
        return _call(args, "POST", f"/api/v1/tickets/{args.id}/priority",
                     {"priority": args.priority, "reason": args.reason, **actor})
    body = {k: getattr(args, k) for k in ("summary", "description", "host", "service",
                                          "component", "impact", "urgency") if getattr(args, k)}
    return _call(args, "POST", "/api/v1/tickets", body)
