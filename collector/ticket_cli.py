"""`regie ticket ...`: the ticket queue from a terminal, through the collector's API.

The collector's URL comes from `--url`, else $REGIE_URL, else http://127.0.0.1:8847; the token
from `--token-file`, else $REGIE_TOKEN_FILE, else $REGIE_TOKEN, else ./regie-demo/admin.token
(written by `make run`).
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

DEFAULT_URL = "http://127.0.0.1:8847"
DEMO_TOKEN = Path("regie-demo/admin.token")

EPILOG = """\
examples:
  regie ticket list                               open and acknowledged tickets, newest first
  regie ticket list --priority P1,P2 --host db-01
  regie ticket list --status resolved --json
  regie ticket show 42
  regie ticket ack 42 --note "looking at it"
  regie ticket resolve 42 --note "disk extended"
  regie ticket report --summary "Payroll export fails" --host pay-01 --impact high

environment: REGIE_URL, REGIE_TOKEN_FILE or REGIE_TOKEN
"""


class ApiError(Exception):
    pass


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Work the Regie ticket queue.",
                                     epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help=f"collector URL (default $REGIE_URL or {DEFAULT_URL})")
    parser.add_argument("--token-file", type=Path, help="file holding an API token")
    parser.add_argument("--json", action="store_true", help="print the API's JSON")
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
    report = sub.add_parser("report", help="report a problem (a user ticket)")
    report.add_argument("--summary", required=True)
    report.add_argument("--description", default="")
    report.add_argument("--host")
    report.add_argument("--service")
    report.add_argument("--component")
    report.add_argument("--impact", choices=["business-critical", "high", "medium", "low"],
                        default="medium")
    report.add_argument("--urgency", choices=["high", "medium", "low"], default="medium")
    return parser


def _token(args: argparse.Namespace) -> str:
    path = args.token_file or (Path(os.environ["REGIE_TOKEN_FILE"])
                               if os.environ.get("REGIE_TOKEN_FILE") else None)
    if path is None and os.environ.get("REGIE_TOKEN"):
        return os.environ["REGIE_TOKEN"].strip()
    path = path or DEMO_TOKEN
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ApiError(f"cannot read the token file {str(path)!r}: {exc.strerror}; "
                       f"pass --token-file or set REGIE_TOKEN") from None


def _call(args: argparse.Namespace, method: str, path: str,
          body: dict[str, Any] | None = None) -> Any:
    base = (args.url or os.environ.get("REGIE_URL") or DEFAULT_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ApiError(f"the collector URL must be http:// or https://, not {base!r}")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        base + path, data=data, method=method,
        headers={"Authorization": f"Bearer {_token(args)}",
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (operator URL)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", exc.reason)
        except (ValueError, AttributeError):
            reason = exc.reason
        raise ApiError(f"{method} {path}: {exc.code} {reason}") from None
    except urllib.error.URLError as exc:
        raise ApiError(f"cannot reach the collector at {base}: {exc.reason}") from None


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
            "origin", "reporter", "impact", "urgency", "occurrences", "created_at",
            "acknowledged_at", "resolved_at", "priority_override_reason")
    lines = [f"{k:>24}: {ticket[k]}" for k in keys if ticket.get(k) not in (None, "")]
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
    if args.command in ("ack", "resolve", "close"):
        body = {"note": args.note} if args.note else {}
        return _call(args, "POST", f"/api/v1/tickets/{args.id}/{args.command}", body)
    if args.command == "note":
        return _call(args, "POST", f"/api/v1/tickets/{args.id}/note", {"text": args.text})
    body = {k: getattr(args, k) for k in ("summary", "description", "host", "service",
                                          "component", "impact", "urgency") if getattr(args, k)}
    return _call(args, "POST", "/api/v1/tickets", body)
