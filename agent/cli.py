"""`regie agent ...`: run the agent, print the inventory or one scrape, check a config."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from agent.config import DEFAULT_LISTEN, AgentSettings, load_settings
from regie import installation, log_format
from regie.configfile import ConfigError

EPILOG = f"""\
examples:
  regie agent run                                   serve /metrics (http.listen, 127.0.0.1:9847)
  regie agent inventory | jq .os                    what the agent would push
  regie agent inventory | head -3
  regie agent metrics | promtool check metrics      one scrape on stdout
  regie agent check-config --config deploy/agent.example.toml

The settings: the installation file ({installation.RULE}; its
[http], [health], [push] and [snmp] tables), else the built-in defaults. On a managed server
that is usually /etc/regie/agent.toml, named with --config (deploy/systemd/regie-agent.service).
Configuration keys are documented in docs/configuration.md.
"""


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="The Regie host agent: health metrics, inventory, SNMP poller.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", type=Path, metavar="FILE",
                       help=f"agent settings (TOML); default: ${installation.ENV}, "
                            f"./regie.toml, {installation.SYSTEM_FILE}, else built-in defaults")
        p.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"], help="default: info")
        return p

    run = with_config(sub.add_parser("run", help="serve /metrics, poll SNMP, push inventory"))
    run.add_argument("--listen", metavar="HOST:PORT",
                     help=f"address for /metrics (default {DEFAULT_LISTEN}; overrides http.listen)")
    run.add_argument("--collector", metavar="URL",
                     help="collector base URL for inventory push (overrides push.collector)")
    run.add_argument("--token-file", type=Path, metavar="PATH",
                     help="file holding the agent's bearer token (overrides push.token_file)")
    inv = with_config(sub.add_parser("inventory", help="print the host inventory as JSON"))
    inv.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    with_config(sub.add_parser("metrics", help="print one scrape (Prometheus text format)"))
    with_config(sub.add_parser("check-config", help="validate a config file and exit"))
    return parser


def _load(args: argparse.Namespace) -> AgentSettings:
    return load_settings(
        installation.find_config(args.config, os.environ, Path.cwd()),
        listen=getattr(args, "listen", None),
        collector=getattr(args, "collector", None),
        token_file=getattr(args, "token_file", None),
    )


def main(argv: list[str], prog: str = "regie agent") -> int:
    args = _parser(prog).parse_args(argv)
    log_format.configure(args.log_level)   # the collector's format too: one for every process
    try:
        settings = _load(args)
        if args.command == "run":
            from agent import daemon

            return daemon.run(settings)
        if args.command == "inventory":
            return _inventory(settings, compact=args.compact)
        if args.command == "metrics":
            return _metrics(settings)
        from agent.collectors import build_collectors

        build_collectors(settings.health)
        print(f"{settings.source}: ok")
        return 0
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # an unknown collector name in health.disable
        source = args.config or "<defaults>"
        print(f"{prog}: {source}: health.disable: {exc}", file=sys.stderr)
        return 2


def _inventory(settings: AgentSettings, *, compact: bool) -> int:
    from agent.inventory import collect_inventory

    observations = []
    if settings.snmp.targets:
        from agent.snmp.service import SnmpService

        snmp = SnmpService(settings.snmp)
        try:
            snmp.poll_once()
            observations = snmp.observations()
        finally:
            snmp.close()
    if sys.stderr.isatty():
        # Pending updates need a package-manager simulation: seconds, not milliseconds.
        print("collecting inventory (os, hardware, packages, pending updates)...",
              file=sys.stderr, flush=True)
    doc = collect_inventory(extra_observations=observations)
    json.dump(doc, sys.stdout, indent=None if compact else 2, sort_keys=False)
    sys.stdout.write("\n")
    return 0


def _metrics(settings: AgentSettings) -> int:
    from prometheus_client import generate_latest

    from agent.collectors import build_collectors
    from agent.exposition import HealthMetrics, build_registry

    extra = []
    snmp = None
    if settings.snmp.targets:
        from agent.snmp.service import SnmpService

        snmp = SnmpService(settings.snmp)
        snmp.poll_once()
        extra.append(snmp.collector())
    try:
        registry = build_registry(HealthMetrics(build_collectors(settings.health)), extra)
        sys.stdout.write(generate_latest(registry).decode())
    finally:
        if snmp:
            snmp.close()
    return 0
