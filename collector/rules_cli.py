"""`regie rules ...`: check a threshold-rules file, export it as a Prometheus rule file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from regie.configfile import ConfigError

EPILOG = """\
examples:
  regie rules check                                   the bundled default rules
  regie rules check --rules /etc/regie/rules.yml      a rules file of your own
  regie rules export --out /etc/prometheus/regie-rules.yml
  regie rules export --rules /etc/regie/rules.yml --out regie-rules.yml \\
      && promtool check rules regie-rules.yml
  regie rules export --out -                          print it instead

One rules file serves both alerting paths: the collector's embedded evaluator reads it
(evaluator.rules_file), and Prometheus loads what 'export' writes (rule_files:). Start a file of
your own by copying the bundled defaults: 'regie rules check' prints their path, and their
comments (with alerting/rules.py) describe the syntax.

exit status: 0 ok, 2 a problem in the rules file or the arguments, 1 the output could not be
written.
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Threshold rules: validate them, or render them for Prometheus.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def with_rules(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--rules", type=Path, metavar="FILE",
                       help="threshold rules (YAML); default: the bundled default rules")
        return p

    with_rules(sub.add_parser("check", help="validate a rules file and exit",
                              description="Validate a rules file; print 'FILE: N rules ok'."))
    export = with_rules(sub.add_parser(
        "export", help="write the rules as a Prometheus rule file",
        description="Write the rules as a Prometheus rule file ('promtool check rules' clean)."))
    export.add_argument("--out", required=True, metavar="FILE",
                        help="where to write the Prometheus rule file; '-' for stdout")
    return parser


def main(argv: list[str], prog: str = "regie rules") -> int:
    args = _parser(prog).parse_args(argv)
    from collector.rules_file import (
        default_rules_source,
        load_rules,
        prometheus_rules_text,
        write_prometheus_rules,
    )

    source = str(args.rules) if args.rules else default_rules_source()
    try:
        rules = load_rules(args.rules)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        print(f"{source}: {len(rules)} rule{'' if len(rules) == 1 else 's'} ok")
        return 0
    generated_from = str(args.rules) if args.rules else "the bundled default rules"
    if args.out == "-":
        sys.stdout.write(prometheus_rules_text(rules, generated_from=generated_from))
        return 0
    try:
        write_prometheus_rules(rules, Path(args.out), generated_from=generated_from)
    except OSError as exc:
        print(f"{prog}: {args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(rules)} rules to {args.out}", file=sys.stderr)
    return 0
