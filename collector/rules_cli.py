"""`regie rules ...`: check a threshold-rules file, export it as a Prometheus rule file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from regie import installation
from regie.configfile import ConfigError

EPILOG = """\
examples:
  regie rules check                                   the installation's rules
  regie rules check --rules collector/data/default_rules.yml   a rules file of your own
  regie rules export --out regie-rules.yml && promtool check rules regie-rules.yml
  regie rules export --out -                          print it instead
  regie rules export --format alertmanager --out -    the inhibit_rules for alertmanager.yml
  regie rules export --format recording --out recording.yml && promtool check rules recording.yml

One rules file serves both alerting paths: the collector's embedded evaluator reads it
(evaluator.rules_file), and Prometheus loads what 'export' writes (rule_files:). Start a file of
your own by copying the bundled defaults: 'regie rules check' prints their path, and their
comments (with alerting/rules.py) describe the syntax. Without --rules, the installation's
evaluator.rules_file is used (the installation: --config FILE, $REGIE_CONFIG, ./regie.toml,
/etc/regie/regie.toml), else the bundled defaults. The file's inhibit_rules hold a lesser
alert back while a graver one of the same problem fires: the collector applies them itself, and
'--format alertmanager' writes them as the inhibit_rules section of alertmanager.yml.
'--format recording' writes the recording rules the Grafana dashboards read (docs/dashboards.md):
a second rule file for Prometheus, the same for every installation.
A rule without a runbook link of its own links its page among the collector's bundled
runbooks: <oncall.public_url>/runbooks/<rule> when the installation sets oncall.public_url,
else the path /runbooks/<rule> alone (relative: set public_url for links people can open).

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
                       help="threshold rules (YAML); default: the installation's "
                            "evaluator.rules_file, else the bundled default rules")
        p.add_argument("--config", type=Path, metavar="FILE",
                       help=f"the installation file (default: ${installation.ENV}, "
                            f"./regie.toml, {installation.SYSTEM_FILE})")
        return p

    with_rules(sub.add_parser("check", help="validate a rules file and exit",
                              description="Validate a rules file; print 'FILE: N rules ok'."))
    export = with_rules(sub.add_parser(
        "export", help="write the rules as a Prometheus rule file",
        description="Write the rules as a Prometheus rule file ('promtool check rules' clean)."))
    export.add_argument("--out", required=True, metavar="FILE",
                        help="where to write it; '-' for stdout")
    export.add_argument("--format", choices=("prometheus", "alertmanager", "recording"),
                        default="prometheus",
                        help="prometheus: the alerting rules (default); alertmanager: the "
                             "inhibit_rules section for alertmanager.yml; recording: the "
                             "dashboards' recording rules")
    return parser


def main(argv: list[str], prog: str = "regie rules") -> int:
    args = _parser(prog).parse_args(argv)
    from collector.rules_file import (
        alertmanager_inhibit_text,
        default_rules_source,
        load_rule_set,
        prometheus_rules_text,
    )
    from collector.runbooks import linked
    from regie.inputs import write_atomically

    try:
        found = installation.locate(args.config)
        if args.rules is None:
            args.rules = found.path_setting("evaluator", "rules_file")
        source = str(args.rules) if args.rules else default_rules_source()
        rule_set = load_rule_set(args.rules)
        collector_url = _public_url(found)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    # Rules without a runbook link of their own link their bundled page on the collector:
    # absolute with the installation's oncall.public_url, else the path /runbooks/<rule>.
    rules = linked(rule_set.rules, collector_url)
    if args.command == "check":
        inhibit = len(rule_set.inhibit_rules)
        print(f"{source}: {len(rules)} rule{'' if len(rules) == 1 else 's'}, {inhibit} inhibit "
              f"rule{'' if inhibit == 1 else 's'} ok")
        return 0
    generated_from = str(args.rules) if args.rules else "the bundled default rules"
    if args.format == "alertmanager":
        text = alertmanager_inhibit_text(rule_set, generated_from=generated_from)
        what = "the inhibit rules"
    elif args.format == "recording":
        from dashboards import recording_rules

        text = recording_rules.text()
        what = f"{len(recording_rules.RULES)} recording rules"
    else:
        text = prometheus_rules_text(rules, generated_from=generated_from)
        what = f"{len(rules)} rules"
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    try:
        write_atomically(text, Path(args.out))
    except OSError as exc:
        print(f"{prog}: {args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {what} to {args.out}", file=sys.stderr)
    return 0


def _public_url(found: installation.Installation) -> str:
    """The installation's oncall.public_url ("" when unset): where people reach the collector."""
    oncall = found.tables.get("oncall") or {}
    value = oncall.get("public_url") if isinstance(oncall, dict) else None
    if value is None:
        return ""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(found.source, "oncall.public_url",
                          "must start with http:// or https://")
    return value
