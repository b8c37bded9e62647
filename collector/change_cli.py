"""`regie change ...`: changes from a terminal, through the collector's API (as `regie ticket`).

The collector and the token are found as `regie ticket` finds them (collector/ticket_cli.py):
--url and --token-file, else $REGIE_URL and $REGIE_TOKEN_FILE (or $REGIE_TOKEN), else the
installation's [cli] url and token_file. A refusal (bad input, a move the rules refuse, a
missing token) exits 2 with the reason on one line; a collector that cannot be reached or
fails, 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from collector import api_client
from collector.api_client import Refused
from collector.ticket_cli import _add_client_options
from regie import installation
from regie.inputs import year_problem, zone_named

EPILOG = f"""\
examples:
  regie change create --type normal --summary "Upgrade PostgreSQL to 16" \\
      --service billing --start "2030-06-01 22:00" --end "2030-06-02 02:00" \\
      --timezone Europe/Amsterdam
  regie change list                               newest first; --status, --type, --host
  regie change show $CHANGE                       $CHANGE: a change's number, e.g. 7
  regie change submit $CHANGE                     a standard change is approved with it
  regie change approve $CHANGE --reason "rollback tested"
  regie change start $CHANGE
  regie change complete $CHANGE --outcome successful
  regie change review $CHANGE --reason "went as planned"
  regie change calendar                           the next 4 weeks, conflicts and freezes
  regie change calendar --ical > changes.ics      the same for a calendar program
  regie change incidents                          failed changes and the incidents after them

Times without an offset are read in --timezone (default UTC). Approving, rejecting and
reviewing need a change_manager (or admin) token that is not the author's. Who may do what:
docs/changes.md. The collector and the token: as for 'regie ticket' ({installation.RULE}).
"""

OUTCOMES = ("successful", "failed", "rolled_back")


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Plan, approve, run and review changes.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_client_options(parser, subcommand=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    create = sub.add_parser("create", help="create a change (a draft; submit it next)")
    create.add_argument("--type", required=True, choices=["standard", "normal", "emergency"],
                        help="standard: pre-approved; normal: needs approval; emergency: may "
                             "start before approval, must be reviewed")
    create.add_argument("--summary", required=True)
    create.add_argument("--host", action="append", default=[], metavar="NAME|GLOB",
                        help="an affected host or a glob of known hosts (repeat)")
    create.add_argument("--service", action="append", default=[], help="(repeat)")
    create.add_argument("--start", required=True, help="planned start: 2030-06-01 22:00, or "
                                                       "with an offset")
    create.add_argument("--end", required=True, help="planned end")
    create.add_argument("--timezone", default="UTC",
                        help="IANA time zone of --start/--end and of the window shown "
                             "(default UTC)")
    create.add_argument("--team", help="the team doing it: its maintenance hours and on-call "
                                       "schedule apply (default: [changes] default_team)")
    create.add_argument("--risk-assessment", default="", help="risk and impact, in words")
    create.add_argument("--plan", default="", help="the implementation plan")
    create.add_argument("--rollback", default="", help="the rollback plan")
    create.add_argument("--doc-url", help="where the change is written up")
    create.add_argument("--ticket", action="append", default=[], type=int,
                        help="a linked ticket's number (repeat)")
    create.add_argument("--package", action="append", default=[], metavar="NAME[=VERSION]",
                        help="a package this change installs: a patch change (repeat)")
    create.add_argument("-q", "--quiet", action="store_true",
                        help="print only the new change's number")
    ls = sub.add_parser("list", help="list changes, newest first")
    ls.add_argument("--status", help="comma-separated: draft, submitted, approved, rejected, "
                                     "in_progress, completed, reviewed")
    ls.add_argument("--type", help="comma-separated: standard, normal, emergency")
    ls.add_argument("--host")
    ls.add_argument("--limit", type=int, default=50)
    show = sub.add_parser("show", help="one change with its conflicts and timeline")
    show.add_argument("id", type=int)
    for name, help_ in (("submit", "submit a draft for approval"),
                        ("approve", "approve a submitted change"),
                        ("reject", "reject a submitted change"),
                        ("start", "record that the work started"),
                        ("complete", "record that the work ended, with its outcome"),
                        ("review", "review a completed change (required after an emergency "
                                   "change)")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("id", type=int)
        if name in ("approve", "review"):
            p.add_argument("--reason")
        if name == "reject":
            p.add_argument("--reason", required=True)
        if name == "approve":
            p.add_argument("--freeze-override", metavar="REASON",
                           help="approve a normal change inside a change freeze, saying why")
        if name == "complete":
            p.add_argument("--outcome", required=True, choices=OUTCOMES)
            p.add_argument("--reason", help="what happened")
    note = sub.add_parser("note", help="add a note to a change's timeline")
    note.add_argument("id", type=int)
    note.add_argument("text")
    risk = sub.add_parser("risk", help="override a change's risk level, with a reason")
    risk.add_argument("id", type=int)
    risk.add_argument("level", choices=["low", "medium", "high"])
    risk.add_argument("--reason", required=True)
    calendar = sub.add_parser("calendar", help="changes holding time in a range, with "
                                               "conflicts and freezes")
    calendar.add_argument("--from", dest="start", help="default: now")
    calendar.add_argument("--to", dest="end", help="default: 4 weeks after --from")
    calendar.add_argument("--timezone", default="UTC",
                          help="of --from/--to without an offset, and of the times shown")
    calendar.add_argument("--ical", action="store_true",
                          help="print iCalendar (RFC 5545) for a calendar program")
    incidents = sub.add_parser("incidents", help="failed and rolled-back changes with the "
                                                 "incidents on their hosts during and after "
                                                 "their window")
    incidents.add_argument("--from", dest="start", help="default: 90 days ago")
    incidents.add_argument("--to", dest="end", help="default: now")
    incidents.add_argument("--timezone", default="UTC")
    for subcommand in sub.choices.values():
        _add_client_options(subcommand, subcommand=True)
    return parser


def _zone(name: str) -> ZoneInfo:
    zone = zone_named(name)
    if zone is None:
        raise Refused(f"--timezone: unknown time zone {name[:64]!r} (an IANA name, e.g. "
                      "Europe/Amsterdam)")
    return zone


def _instant(text: str | None, option: str, zone: ZoneInfo) -> str | None:
    """RFC 3339 in UTC for the API; a time without an offset is read in `zone`."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"{option}: not a time: {text!r} (e.g. 2030-06-01 22:00)") from None
    if problem := year_problem(value):
        raise Refused(f"{option}: {text!r}: {problem}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _package(text: str) -> dict[str, Any]:
    name, _, version = text.partition("=")
    if not name.strip():
        raise Refused(f"--package: {text!r} names no package (NAME or NAME=VERSION)")
    return {"name": name.strip(), "version": version.strip() or None}


def _query(**values: Any) -> str:
    given = {k: v for k, v in values.items() if v not in (None, "")}
    return "?" + urllib.parse.urlencode(given) if given else ""


def _dispatch(args: argparse.Namespace) -> Any:
    command = args.command
    if command == "create":
        zone = _zone(args.timezone)
        body: dict[str, Any] = {
            "type": args.type, "summary": args.summary, "hosts": args.host,
            "services": args.service, "planned_start": _instant(args.start, "--start", zone),
            "planned_end": _instant(args.end, "--end", zone), "timezone": args.timezone,
            "team": args.team, "risk_assessment": args.risk_assessment,
            "implementation_plan": args.plan, "rollback_plan": args.rollback,
            "documentation_url": args.doc_url, "tickets": args.ticket}
        if args.package:
            body["packages"] = [_package(p) for p in args.package]
        return api_client.request(args, "POST", "/api/v1/changes", body)
    if command == "list":
        return api_client.request(args, "GET", "/api/v1/changes" + _query(
            status=args.status, type=args.type, host=args.host, limit=args.limit))
    if command == "show":
        return api_client.request(args, "GET", f"/api/v1/changes/{args.id}")
    if command in ("calendar", "incidents"):
        zone = _zone(args.timezone)
        query = _query(**{"from": _instant(args.start, "--from", zone),
                          "to": _instant(args.end, "--to", zone)})
        if command == "calendar" and args.ical:
            return api_client.request(args, "GET", "/api/v1/changes/calendar.ics" + query,
                                      text=True)
        path = "calendar" if command == "calendar" else "incidents"
        return api_client.request(args, "GET", f"/api/v1/changes/{path}{query}")
    if command == "note":
        return api_client.request(args, "POST", f"/api/v1/changes/{args.id}/note",
                                  {"text": args.text})
    if command == "risk":
        return api_client.request(args, "POST", f"/api/v1/changes/{args.id}/risk",
                     {"level": args.level, "reason": args.reason})
    body = {}
    for key in ("reason", "freeze_override", "outcome"):
        if getattr(args, key, None):
            body[key] = getattr(args, key)
    return api_client.request(args, "POST", f"/api/v1/changes/{args.id}/{command}", body)


def _local(text: str | None, zone: ZoneInfo) -> str:
    if not text:
        return "-"
    return datetime.fromisoformat(text).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _table(changes: list[dict[str, Any]], zone: ZoneInfo) -> str:
    if not changes:
        return "no changes"
    lines = [f"{'ID':>5}  {'TYPE':9}  {'STATUS':11}  {'RISK':6}  {'START':16}  {'END':16}  "
             "HOSTS / SUMMARY"]
    for c in changes:
        warn = f"  [{len(c['conflicts'])} warning(s)]" if c.get("conflicts") else ""
        hosts = ",".join(c["hosts"][:3]) + ("..." if len(c["hosts"]) > 3 else "")
        lines.append(f"{c['id']:>5}  {c['type']:9}  {c['status']:11}  {c['risk_level']:6}  "
                     f"{_local(c['planned_start'], zone):16}  {_local(c['planned_end'], zone):16}"
                     f"  {hosts or '-'}: {c['summary'][:60]}{warn}")
    return "\n".join(lines)


def _show(change: dict[str, Any]) -> str:
    zone = ZoneInfo(change["timezone"])
    lines = [f"#{change['id']} {change['summary']}",
             f"  type {change['type']}, status {change['status']}, author {change['author']}",
             f"  planned {_local(change['planned_start'], zone)} to "
             f"{_local(change['planned_end'], zone)} {change['timezone']}"]
    if change.get("actual_start"):
        lines.append(f"  actual {_local(change['actual_start'], zone)} to "
                     f"{_local(change.get('actual_end'), zone)}"
                     + (f", outcome {change['outcome']}" if change.get("outcome") else ""))
    lines.append(f"  hosts: {', '.join(change['hosts']) or '-'} (given: "
                 f"{', '.join(change['host_patterns']) or '-'})")
    if change["services"]:
        lines.append(f"  services: {', '.join(change['services'])}")
    if change.get("packages"):
        lines.append("  packages: " + ", ".join(
            p["name"] + (f"={p['version']}" if p.get("version") else "")
            for p in change["packages"]))
    if change.get("approver") or change.get("decision_reason"):
        lines.append(f"  decision: {change.get('approver') or '-'}: "
                     f"{change.get('decision_reason') or '-'}")
    override = change.get("risk_override")
    lines.append(f"  risk {change['risk_level']}"
                 + (f" (overridden by {override['by']}: {override['reason']})" if override
                    else ""))
    lines += [f"    {reason}" for reason in change["risk"]["reasons"]]
    if change.get("review_due"):
        lines.append("  review due: an emergency change must be reviewed")
    for conflict in change.get("conflicts", []):
        lines.append(f"  warning: {conflict['message']}")
    if change.get("timeline"):
        lines += ["", "timeline:"]
        lines += [f"  {e['at']}  {e['kind']:16} {e['actor']:16} {e['message']}"
                  for e in change["timeline"]]
    return "\n".join(lines)


def _calendar(body: dict[str, Any], zone: ZoneInfo) -> str:
    lines = [f"changes from {_local(body['from'], zone)} to {_local(body['to'], zone)} "
             f"{zone.key}"]
    for freeze in body["freezes"]:
        lines.append(f"  freeze {_local(freeze['start'], zone)} to "
                     f"{_local(freeze['end'], zone)}: {freeze['reason']}")
    lines.append(_table(body["changes"], zone))
    for change in body["changes"]:
        lines += [f"  #{change['id']}: {c['message']}" for c in change["conflicts"]]
    return "\n".join(lines)


def _incidents(body: dict[str, Any]) -> str:
    lines = [f"{body['harmful_changes']} failed or rolled-back change(s), "
             f"{body['with_incidents']} followed by incidents (within "
             f"{body['after_hours']:g} h of their end)"]
    for change in body["changes"]:
        lines.append(f"  #{change['id']} {change['outcome']}: {change['summary']}")
        lines += [f"    ticket #{i['ticket']} {i['priority']} {i['host']}: {i['summary']}"
                  for i in change["incidents"]]
    return "\n".join(lines)


def main(argv: list[str], prog: str = "regie change") -> int:
    args = _parser(prog).parse_args(argv)
    status, result = api_client.run(prog, _dispatch, args)
    if status:
        return status
    if isinstance(result, str):   # iCalendar: its CRLF line ends kept (RFC 5545 3.1)
        sys.stdout.flush()
        sys.stdout.buffer.write(result.encode())
    elif args.json:
        print(json.dumps(result, indent=2))
    elif args.command == "create" and args.quiet:
        print(result["id"])
    elif args.command == "list":
        print(_table(result["changes"], ZoneInfo("UTC")))
    elif args.command == "calendar":
        print(_calendar(result, _zone(args.timezone)))
    elif args.command == "incidents":
        print(_incidents(result))
    elif args.command == "note":
        print(f"noted on change #{args.id}")
    else:
        print(_show(result))
    return 0
