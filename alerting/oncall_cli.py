"""`regie oncall ...`: who is on call, check a schedules file for gaps, export it as iCalendar.

The I/O edge around the pure `alerting.schedule`: reads the file, the clock and the
environment, prints. The schedules file is ``--schedule FILE``, else the installation's
``[oncall] schedule_file`` (regie/installation.py finds the installation the way every
subcommand does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sized
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# PyYAML (regie[collector]) reads the schedules file. Imported here, not only when the file is
# read, so that without it `regie oncall` fails at import and `regie` names the extra to install.
import yaml  # noqa: F401

from alerting.ical import to_ical
from alerting.schedule import ROLES, Gap, Schedules, Shift
from alerting.schedule_file import load_schedules
from regie import installation
from regie.configfile import ConfigError
from regie.inputs import write_atomically, year_problem

DEFAULT_DAYS = 28

EPILOG = f"""\
examples:
  regie oncall who                                  everyone on call now, every team and role
  regie oncall who --role primary --team ops --schedule deploy/oncall.example.yml
  regie oncall who --at 2024-12-24T20:00+01:00      at another time (no offset: UTC)
  regie oncall who --json                           for scripts, with contact details
  regie oncall check                                the file is valid and nobody is missing
  regie oncall check --days 90 --schedule deploy/oncall.example.yml
  regie oncall export --out oncall.ics              iCalendar, for a calendar subscription

The schedules file: --schedule FILE, else [oncall] schedule_file in the installation file
({installation.RULE}).
Its format is described in docs/oncall.md; deploy/oncall.example.yml is a commented example.
Times given on the command line without an offset are UTC ('2024-03-31T09:00' is 09:00Z);
times printed are in each team's own time zone.

exit status: 0 ok; 1 nobody on call (who), gaps found (check) or the output could not be
written (export); 2 a problem in the schedules file or the arguments.
"""


def _moment(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2024-03-31T09:00+02:00, got {text!r}") from None
    if problem := year_problem(value):
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _days(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 3660:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to 3660, got {text!r}")
    return int(text)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="On-call schedules: who is on call, gaps in the rotations, calendar export.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--schedule", type=Path, metavar="FILE",
                       help="schedules file (YAML); default: the installation's "
                            "[oncall] schedule_file")
        p.add_argument("--config", type=Path, metavar="FILE",
                       help=f"the installation file (default: ${installation.ENV}, "
                            f"./regie.toml, {installation.SYSTEM_FILE})")
        return p

    def ranged(p: argparse.ArgumentParser, what: str) -> argparse.ArgumentParser:
        p.add_argument("--days", type=_days, default=DEFAULT_DAYS, metavar="N",
                       help=f"{what} over the next N days (default: {DEFAULT_DAYS})")
        p.add_argument("--from", dest="start", type=_moment, metavar="TIME",
                       help="start the range at TIME (ISO 8601, UTC without an offset) "
                            "instead of now")
        return p

    def selection(p: argparse.ArgumentParser, role_help: str) -> argparse.ArgumentParser:
        p.add_argument("--role", choices=ROLES, help=role_help)
        p.add_argument("--team", metavar="NAME", help="only this team (default: every team)")
        return p

    who = selection(common(sub.add_parser(
        "who", help="who is on call now (or --at a time)",
        description="Print who holds each role now (or at --at): one line per team and role, "
                    "'nobody' where a role the team needs is uncovered. Exit 1 when any line "
                    "says nobody, or nothing matched.")), "only this role (default: every role)")
    who.add_argument("--at", type=_moment, metavar="TIME",
                     help="ISO 8601 time, e.g. 2024-03-31T09:00+02:00; without an offset it is "
                          "UTC (default: now)")
    who.add_argument("--json", action="store_true",
                     help="print JSON (times in UTC) with the people's contact details")

    ranged(common(sub.add_parser(
        "check", help="validate the file and report gaps in the coming days",
        description="Validate the schedules file, then list every time in the next N days when "
                    "a team's primary role (or a role it has a layer for) has nobody on call. "
                    "Exit 0 ok, 1 gaps, 2 invalid file.")), "look for gaps")

    export = selection(ranged(common(sub.add_parser(
        "export", help="write the shifts as an iCalendar (.ics) file",
        description="Write every shift overlapping the next N days as an RFC 5545 calendar, "
                    "one event per shift, for a calendar subscription.")), "export shifts"),
        "only this role (default: every role)")
    export.add_argument("--ical", action="store_true",
                        help="iCalendar output (RFC 5545): the default, and the only format "
                             "so far")
    export.add_argument("--out", default="-", metavar="FILE",
                        help="where to write the calendar; '-' for stdout (default)")
    return parser


def main(argv: list[str], prog: str = "regie oncall",
         environ: Mapping[str, str] | None = None) -> int:
    args = _parser(prog).parse_args(argv)
    env = os.environ if environ is None else environ
    now = datetime.now(UTC)
    try:
        schedules = load_schedules(args.schedule or _installed_schedule(args.config, env))
        return COMMANDS[args.command](schedules, args, now)
    except ConfigError as exc:  # ScheduleError too
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2


def _installed_schedule(flag: Path | None, env: Mapping[str, str]) -> Path:
    found = installation.locate(flag, environ=env)
    path = found.path_setting("oncall", "schedule_file")
    if path is None:
        where = (f"{found.path} sets no [oncall] schedule_file" if found.path else
                 f"no installation file was found ({installation.RULE})")
        raise ConfigError("--schedule", "-", f"no schedules file given, and {where}")
    return path


def _who(schedules: Schedules, args: argparse.Namespace, now: datetime) -> int:
    at = args.at or now
    roles = (args.role,) if args.role else ROLES
    teams = (schedules.team(args.team),) if args.team else schedules.teams
    on_call = [s for role in roles for s in schedules.who(at, role, args.team)]
    nobody = [g for g in schedules.gaps(at, at + timedelta(microseconds=1))
              if g.role in roles and any(g.team == t.name for t in teams)]
    order = {t.name: i for i, t in enumerate(schedules.teams)}
    rows: list[Shift | Gap] = sorted([*on_call, *nobody],
                                     key=lambda r: (order[r.team], ROLES.index(r.role)))
    if args.json:
        print(json.dumps({"at": at.astimezone(UTC).isoformat(),
                          "on_call": [_shift_json(schedules, s) for s in on_call],
                          "nobody": [{"team": g.team, "role": g.role} for g in nobody]},
                         indent=2))
    else:
        _print_rows(schedules, rows)
    return 0 if on_call and not nobody else 1


def _check(schedules: Schedules, args: argparse.Namespace, now: datetime) -> int:
    start = args.start or now
    end = start + timedelta(days=args.days)
    gaps = schedules.gaps(start, end)
    for gap in gaps:
        zone = schedules.team(gap.team).timezone
        print(f"{schedules.source}: team {gap.team}: nobody is {gap.role} from "
              f"{_local(gap.start, zone)} to {_local(gap.end, zone)}")
    layers = sum(len(t.layers) for t in schedules.teams)
    if gaps:
        print(f"{schedules.source}: {len(gaps)} gap{_s(gaps)} in the {args.days} days from "
              f"{start.astimezone(UTC):%Y-%m-%d %H:%M}Z", file=sys.stderr)
        return 1
    print(f"{schedules.source}: {len(schedules.teams)} team{_s(schedules.teams)}, {layers} "
          f"layer{_s(range(layers))} ok; nobody missing in the next {args.days} days")
    return 0


def _export(schedules: Schedules, args: argparse.Namespace, now: datetime) -> int:
    start = args.start or now
    shifts = schedules.shifts(start, start + timedelta(days=args.days), args.team, args.role)
    text = to_ical(shifts, now)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    try:
        # newline="" keeps the CRLF line ends RFC 5545 requires.
        write_atomically(text, Path(args.out), newline="")
    except OSError as exc:
        print(f"{args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(shifts)} shift{_s(shifts)} to {args.out}", file=sys.stderr)
    return 0


COMMANDS = {"who": _who, "check": _check, "export": _export}


def _print_rows(schedules: Schedules, rows: list[Shift | Gap]) -> None:
    table = [("TEAM", "ROLE", "WHO", "FROM", "UNTIL", "WHY")]
    for row in rows:
        if isinstance(row, Gap):
            table.append((row.team, row.role, "nobody", "", "", "gap"))
            continue
        zone = schedules.team(row.team).timezone
        table.append((row.team, row.role, row.person, _local(row.start, zone),
                      _local(row.end, zone), row.reason))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _shift_json(schedules: Schedules, shift: Shift) -> dict[str, object]:
    person = schedules.people.get(shift.person)
    contact = {f: getattr(person, f) for f in ("email", "phone", "slack")} if person else {}
    return {"team": shift.team, "role": shift.role, "person": shift.person,
            "start": shift.start.isoformat(), "end": shift.end.isoformat(),
            "reason": shift.reason, "contact": {k: v for k, v in contact.items() if v}}


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _s(items: Sized) -> str:
    return "" if len(items) == 1 else "s"
