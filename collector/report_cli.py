"""`regie report governance`: the quarterly governance review, from the installation's
database (docs/reports.md).

The command finds the installation as every subcommand does (regie/installation.py: --config
FILE, $REGIE_CONFIG, ./regie.toml, /etc/regie/regie.toml; `--db` overrides its database),
reads it through collector/reports/governance.py (the function the API uses) and never
creates a database. Exit status: 0 the report was written; 2 bad input (a quarter in the
future, --from after --to, a malformed date), a bad installation file or a database that is
missing or not migrated, each with one line on stderr; 1 the output file could not be written
(for PDF: Chromium is missing or could not print).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from regie import installation
from regie.inputs import day_argument

EPILOG = """\
examples:
  regie report governance --out review.html                    the last complete quarter
  regie report governance --quarter 2026Q3 --out q3.html
  regie report governance --quarter 2026Q3 --format json --out q3.json
  regie report governance --quarter 2026Q3 --format pdf --out q3.pdf
  regie report governance --from 2026-07-01 --to 2026-09-30 --out review.html
  regie report health --period 2026-11 --host 'web-*' --out health.html
  regie report health --period 2026-11 --format pdf --out health-2026-11.pdf

The HTML is one self-contained file (charts as inline SVG, no external assets): signals
first (computed findings, each with its number and rule), three key charts, then every chart
and the tables. JSON is the same data as GET /api/v1/reports/governance.

PDF (either report) is the same HTML printed by a headless Chromium (chromium on PATH).

The health report's systems are host names matching --host GLOB, or, with --group
LABEL=VALUE (e.g. --group role=web), the hosts whose agent's latest push carries that label
(the agent's [push] labels, as GET /api/v1/prometheus/targets shows them).

Exit status: 0 written; 2 bad input (a period in the future, --from after --to, a bad date,
a --group not LABEL=VALUE or that no host's agent pushes),
a bad installation file or a database missing or not migrated; 1 the file could not be
written (or Chromium could not print it). The command uses the installation's database
(--config FILE, $REGIE_CONFIG, ./regie.toml, /etc/regie/regie.toml; --db overrides it) and
never creates one.
"""


class Problem(Exception):
    pass


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-10-01") from None


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Reports for reviews: the quarterly governance review and the "
                    "monthly health report per system.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    governance = sub.add_parser(
        "governance", help="the quarterly governance review (signals, charts, tables)",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    governance.add_argument("--quarter", metavar="YYYYQN",
                            help="the calendar quarter, e.g. 2026Q4 (default: the last "
                                 "complete quarter)")
    governance.add_argument("--from", dest="start", type=_day, metavar="DATE",
                            help="first day of the period (with --to), e.g. 2026-10-01")
    governance.add_argument("--to", dest="end", type=_day, metavar="DATE",
                            help="last day of the period (with --from), e.g. 2026-12-31")
    governance.add_argument("--format", choices=("html", "pdf", "json"), default="html",
                            help="html (default: one self-contained file), pdf (the same, "
                                 "printed by a headless Chromium) or json")
    governance.add_argument("--out", type=Path, required=True, metavar="FILE",
                            help="where to write the report")
    governance.add_argument("--today", type=day_argument, metavar="DATE",
                            help="the day the report is made as of (default: today): a past "
                                 "review made again reads as it did then")
    health = sub.add_parser(
        "health", help="the monthly health report per system: availability, incidents, "
                       "capacity (from Prometheus), end of support, security updates",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    health.add_argument("--period", metavar="YYYY-MM",
                        help="the month, e.g. 2026-11 (default: the last complete month)")
    chosen = health.add_mutually_exclusive_group()
    chosen.add_argument("--host", default="*", metavar="GLOB",
                        help="the systems: host names matching this glob (default: all)")
    chosen.add_argument("--group", metavar="LABEL=VALUE",
                        help="the systems: hosts whose agent pushes this label ([push] "
                             "labels), e.g. role=web; exit 2 when no host pushes it")
    health.add_argument("--prometheus", metavar="URL",
                        help="a Prometheus scraping the agents, for the capacity section "
                             "(without it, or when it does not answer, the section says why)")
    health.add_argument("--format", choices=("html", "pdf", "json"), default="html",
                        help="html (default), pdf (the same, printed by a headless "
                             "Chromium) or json")
    health.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="where to write the report")
    health.add_argument("--today", type=day_argument, metavar="DATE",
                        help="the day the report is made as of (default: today)")
    for command in (governance, health):
        command.add_argument("--config", type=Path, metavar="FILE",
                             help="the installation file, for its database (default: "
                                  "$REGIE_CONFIG, ./regie.toml, /etc/regie/regie.toml)")
        command.add_argument("--db", metavar="URL",
                             help="database URL, overriding the installation's")
    return parser


def main(argv: list[str], prog: str = "regie report") -> int:
    args = _parser(prog).parse_args(argv)
    from collector.config import load_settings
    from collector.reports.period import choose
    from regie.configfile import ConfigError

    try:
        now = datetime.now(UTC)
        if args.today is not None:
            now = datetime(args.today.year, args.today.month, args.today.day, 23, 59, 59,
                           tzinfo=UTC)
        try:
            if args.command == "health":
                from collector.reports.health import month

                period = month(args.period, now.date())
                if args.group is not None:
                    from collector.reports.health import group

                    try:
                        args.group = group(args.group)
                    except ValueError as exc:
                        raise Problem(f"--group: {exc}") from None
            else:
                period = choose(quarter=args.quarter, start=args.start, end=args.end,
                                today=now.date())
        except ValueError as exc:
            raise Problem(f"--period: {exc}" if args.command == "health"
                          else str(exc)) from None
        config = installation.find_config(args.config, os.environ, Path.cwd())
        settings = load_settings(config, db=args.db)
        url = settings.database.url
        missing = installation.missing_database(url)
        if missing is not None:  # never create a database as a side effect
            raise Problem(installation.missing_database_message(missing, config, args.db))
        body = asyncio.run(_body(url, period, now, settings.registry.near_horizon, args))
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except Problem as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.format == "json":
            args.out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        else:
            if args.command == "health":
                from collector.reports.health_html import render
            else:
                from collector.reports.html import render

            if args.format == "html":
                args.out.write_text(render(body), encoding="utf-8")
            else:
                from collector.reports.pdf import print_pdf

                print_pdf(render(body), args.out)
    except OSError as exc:
        print(f"{prog}: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # PdfError: no Chromium, or it failed to print
        from collector.reports.pdf import PdfError

        if not isinstance(exc, PdfError):
            raise
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if args.command == "health":
        print(f"health report {period.label} ({len(body['systems'])} systems) written to "
              f"{args.out}")
        if not body["capacity"]["available"]:
            print(f"capacity is missing: {body['capacity']['reason']}", file=sys.stderr)
        return 0
    print(f"governance review {period.label} ({len(body['signals'])} signals) written to "
          f"{args.out}")
    return 0


async def _body(url: str, period, now: datetime, near_horizon: str,
                args: argparse.Namespace) -> dict:
    from collector.reports.governance import build, report_json
    from collector.store.engine import open_checked

    engine = await open_checked(url, Problem)
    try:
        if args.command == "health":
            from collector.reports import health

            try:
                return await health.build(engine, period, host=args.host, group=args.group,
                                          now=now, near_horizon=near_horizon,
                                          prometheus_url=args.prometheus)
            except health.NoSuchGroup as exc:
                raise Problem(f"--group: {exc}") from None
        return report_json(await build(engine, period, now=now, near_horizon=near_horizon))
    finally:
        await engine.dispose()
