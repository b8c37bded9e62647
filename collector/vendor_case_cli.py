"""`regie vendor-case ...`: vendor support cases from a terminal, through the collector's API.

The collector and the token are found as `regie ticket` finds them (collector/ticket_cli.py):
`--url` / `--token-file`, else $REGIE_URL / $REGIE_TOKEN_FILE ($REGIE_TOKEN), else the
installation's `[cli]` table (regie/installation.py). A case is named by its number here
(`7`) or by the vendor's case number (`SR-1001`). Exit status: 0 done, 2 refused (bad input,
or the collector's 4xx with its reason), 1 the collector could not be reached.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime
from typing import Any

from collector import api_client, ticket_cli
from collector.api_client import Refused
from regie import installation

STATUSES = ("open", "waiting_on_vendor", "waiting_on_us", "resolved", "closed")
SEVERITIES = ("critical", "high", "medium", "low")

EPILOG = f"""\
examples:
  regie vendor-case open --vendor Dell --case-number SR-1001 \\
      --summary "RAID controller resets under load" --ticket $TICKET \\
      --severity high --follow-up-days 3          owner: you, unless --owner NAME
  regie vendor-case list                                 cases still waiting on someone
  regie vendor-case update SR-1001 --status waiting_on_vendor --note "sent the TSR log"
  regie vendor-case update SR-1001 --vendor-answered --note "try firmware 25.5"
  regie vendor-case note SR-1001 "phoned the vendor: escalated to second line"
  regie vendor-case show SR-1001                         the case and its timeline
  regie vendor-case close SR-1001 --note "replacement controller fitted"

$TICKET is a ticket number. A case is named by its number (7) or by the vendor's case
number (SR-1001). Every update and note starts the follow-up interval again; a case left
alone past its follow-up date reminds its owner through the on-call channels, once per
interval (docs/vendor-cases.md).

The collector and the token: --url and --token-file, else $REGIE_URL and $REGIE_TOKEN_FILE
(or $REGIE_TOKEN), else [cli] url and token_file in the installation file
({installation.RULE}).
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Follow vendor support cases: open, update, note, close, list.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ticket_cli._add_client_options(parser, subcommand=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    opened = sub.add_parser("open", help="open a case (a vendor's case number, once)")
    opened.add_argument("--vendor", required=True)
    opened.add_argument("--case-number", required=True, help="the vendor's own case number")
    opened.add_argument("--summary", required=True)
    opened.add_argument("--severity", choices=SEVERITIES, default="medium")
    opened.add_argument("--owner", help="who follows it up, as the on-call schedule names "
                                        "them (default: you)")
    opened.add_argument("--product", help="the end-of-support product it is about, e.g. "
                                           "postgresql (flagged when past its end)")
    opened.add_argument("--contract", help="the registry contract number it falls under")
    update = sub.add_parser("update", help="change status, severity, owner, follow-up; "
                                           "record the vendor's answer")
    update.add_argument("case", help="case number (7) or the vendor's case number")
    update.add_argument("--status", choices=STATUSES)
    update.add_argument("--severity", choices=SEVERITIES)
    update.add_argument("--owner")
    update.add_argument("--summary")
    update.add_argument("--contract")
    update.add_argument("--vendor-answered", action="store_true",
                        help="the vendor answered: recorded as its last update")
    for command in (opened, update):
        command.add_argument("--ticket", dest="tickets", action="append", type=int,
                             default=[], metavar="ID", help="link a ticket (repeatable)")
        command.add_argument("--change", dest="changes", action="append", type=int,
                             default=[], metavar="ID", help="link a change (repeatable)")
        command.add_argument("--host", dest="hosts", action="append", default=[],
                             metavar="NAME", help="link a known host (repeatable)")
        command.add_argument("--follow-up-days", type=int, metavar="DAYS",
                             help="the follow-up interval (1-365; default on opening: "
                                  "[vendor_cases] follow_up_days, 7)")
        command.add_argument("--next-follow-up", metavar="WHEN",
                             help="the next follow-up, in the future: YYYY-MM-DD (00:00 UTC) "
                                  "or an RFC 3339 time (default: the interval from now)")
        command.add_argument("--note", help="a note for the timeline")
    note = sub.add_parser("note", help="add a note (a follow-up: the interval starts again)")
    note.add_argument("case")
    note.add_argument("text")
    close = sub.add_parser("close", help="close a case (final)")
    close.add_argument("case")
    close.add_argument("--note")
    for command in (opened, update, note, close):
        command.add_argument("--as", dest="actor", metavar="NAME",
                             help="the person acting, recorded on the timeline (default: the "
                                  "person the token names, else the token's name)")
    ls = sub.add_parser("list", help="list cases, newest first")
    ls.add_argument("--status", default="open,waiting_on_vendor,waiting_on_us",
                    help="comma-separated: " + ", ".join(STATUSES)
                         + " (default: those still waiting on someone)")
    ls.add_argument("--vendor")
    ls.add_argument("--owner")
    ls.add_argument("--host")
    ls.add_argument("--limit", type=int, default=50)
    show = sub.add_parser("show", help="one case with its timeline")
    show.add_argument("case")
    for command in sub.choices.values():
        ticket_cli._add_client_options(command, subcommand=True)
    return parser


def _call(args: argparse.Namespace, method: str, path: str,
          body: dict[str, Any] | None = None) -> Any:
    return api_client.request(args, method, path, body)


def _when(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"--next-follow-up: {text!r} is neither YYYY-MM-DD nor an RFC 3339 "
                      f"time") from None
    if moment.tzinfo is None:
        raise Refused(f"--next-follow-up: {text!r} needs a time zone (Z or +hh:mm)")
    return moment.isoformat()


def _case_id(args: argparse.Namespace) -> int:
    """The case's number: given as such, or found by the vendor's case number."""
    if args.case.isascii() and args.case.isdigit():
        if len(args.case) > 18:   # the API's numbers; int() refuses over 4,300 digits
            raise Refused(f"no vendor case numbered {args.case[:40]}... (a case's number has "
                          f"at most 18 digits)")
        return int(args.case)
    query = urllib.parse.urlencode({"case_number": args.case, "status": ",".join(STATUSES)})
    found = _call(args, "GET", f"/api/v1/vendor-cases?{query}")["cases"]
    if not found:
        raise Refused(f"no vendor case numbered {args.case!r}")
    if len(found) > 1:
        which = ", ".join(f"#{c['id']} ({c['vendor']})" for c in found)
        raise Refused(f"{args.case!r} names several cases: {which}; give the number")
    return found[0]["id"]


def _fields(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    body = {}
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value is not False and value != []:   # 0 is a value
            body[name] = value
    if getattr(args, "next_follow_up", None):
        body["next_follow_up"] = _when(args.next_follow_up)
    if getattr(args, "actor", None):
        body["actor"] = args.actor
    return body


LINKS = ("tickets", "changes", "hosts", "follow_up_days", "note")


def _dispatch(args: argparse.Namespace) -> Any:
    if args.command == "open":
        body = _fields(args, ("vendor", "case_number", "summary", "severity", "owner",
                              "product", "contract", *LINKS))
        return _call(args, "POST", "/api/v1/vendor-cases", body)
    if args.command == "list":
        query = {"status": args.status, "limit": str(args.limit)}
        for key in ("vendor", "owner", "host"):
            if getattr(args, key):
                query[key] = getattr(args, key)
        return _call(args, "GET", "/api/v1/vendor-cases?" + urllib.parse.urlencode(query))
    case = _case_id(args)
    path = f"/api/v1/vendor-cases/{case}"
    if args.command == "show":
        return _call(args, "GET", path)
    if args.command == "note":
        return _call(args, "POST", path + "/note", {"text": args.text, **_fields(args, ())})
    if args.command == "close":
        return _call(args, "POST", path + "/close", _fields(args, ("note",)))
    body = _fields(args, ("status", "severity", "owner", "summary", "contract", *LINKS))
    if args.vendor_answered:
        body["vendor_update"] = True
    return _call(args, "POST", path + "/update", body)


def _line(case: dict[str, Any]) -> str:
    follow = case["next_follow_up_at"] or "-"
    return (f"#{case['id']} {case['vendor']} {case['case_number']} {case['status']} "
            f"({case['severity']}), owner {case['owner']}, next follow-up {follow}")


def _table(cases: list[dict[str, Any]]) -> str:
    if not cases:
        return "no vendor cases"
    lines = [f"{'ID':>5}  {'VENDOR':12}  {'CASE':14}  {'STATUS':17}  {'SEVERITY':8}  "
             f"{'OWNER':12}  {'NEXT FOLLOW-UP':16}  SUMMARY"]
    for c in cases:
        follow = (c["next_follow_up_at"] or "-")[:16].replace("T", " ")
        lines.append(f"{c['id']:>5}  {c['vendor'][:12]:12}  {c['case_number'][:14]:14}  "
                     f"{c['status']:17}  {c['severity']:8}  {c['owner'][:12]:12}  "
                     f"{follow:16}  {c['summary'][:60]}"
                     + ("  [past EOS]" if c["past_end_of_support"] else ""))
    return "\n".join(lines)


def _show(case: dict[str, Any]) -> str:
    keys = ("id", "vendor", "case_number", "summary", "status", "severity", "owner",
            "product", "contract", "follow_up_days", "next_follow_up_at",
            "last_vendor_update_at", "last_reminded_at", "reminders", "opened_by",
            "opened_at", "resolved_at", "closed_at")
    lines = [f"{k:>22}: {case[k]}" for k in keys if case.get(k) not in (None, "")]
    for kind in ("tickets", "changes", "hosts"):
        if case[kind]:
            lines.append(f"{kind:>22}: {', '.join(map(str, case[kind]))}")
    lines += [f"warning: {w}" for w in case["warnings"]]
    lines += ["", "timeline:"]
    lines += [f"  {e['at']}  {e['kind']:16} {e['actor']:16} {e['message']}"
              for e in case.get("timeline", [])]
    return "\n".join(lines)


def main(argv: list[str], prog: str = "regie vendor-case") -> int:
    args = _parser(prog).parse_args(argv)
    status, result = api_client.run(prog, _dispatch, args)
    if status:
        return status
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.command == "list":
        print(_table(result["cases"]))
    elif args.command == "show":
        print(_show(result))
    else:
        print(_line(result))
        for warning in result["warnings"]:
            print(f"warning: {warning}")
    return 0
