"""The `regie` command: one entry point, subcommands registered in one table.

A subcommand's module is imported only when that subcommand runs, so an agent host that
installed `regie[agent]` never imports (or needs) the collector's dependencies.
Each module exposes `main(argv: list[str], prog: str) -> int`. Every subcommand finds its
installation by one rule (regie/installation.py).
"""

from __future__ import annotations

import importlib
import os
import sys

from regie import __version__
from regie.inputs import not_text
from regie.installation import RULE

# name -> (module, one-line help). The only place a subcommand is registered.
COMMANDS: dict[str, tuple[str, str]] = {
    "agent": ("agent.cli", "run the host agent, print inventory or one scrape, check a config"),
    "collector": ("collector.cli", "run the collector, migrate its database, manage tokens"),
    "ticket": ("collector.ticket_cli", "list, show, acknowledge and resolve tickets (API client)"),
    "change": ("collector.change_cli", "plan, approve, run and review changes; the change "
                                       "calendar (API client)"),
    "rules": ("collector.rules_cli", "check threshold rules, export them for Prometheus"),
    "demo": ("collector.demo", "collector + local agent on embedded defaults (make run)"),
    "oncall": ("alerting.oncall_cli", "who is on call, check schedules for gaps, export iCalendar"),
    "registry": ("registry.cli", "end-of-support data and matching, EOS/EOSL and contract reports"),
    "dashboards": ("dashboards.cli", "Grafana dashboards and provisioning files, PNG previews"),
    "deploy": ("collector.deploy_cli", "Prometheus targets (file_sd) from the agents' pushes"),
    "maintenance": ("collector.maintenance_cli",
                    "add, list, show and end maintenance windows (API client)"),
    "vendor-case": ("collector.vendor_case_cli",
                    "open, update, note, close and list vendor support cases (API client)"),
    "patch": ("collector.patch_cli", "pending updates, patch lag and exposure from the inventory"),
    "report": ("collector.report_cli",
               "the quarterly governance review, the monthly health report (HTML, PDF, JSON)"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: regie [--version] COMMAND [ARGS...]",
        "",
        "Regie: host agents, one ticket queue, on-call escalation, end-of-support registry.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Every command finds its installation file the same way:",
              f"  {RULE} (the first one found).",
              "Run 'regie COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"regie {__version__}")
        return 0
    entry = COMMANDS.get(args[0])
    if entry is None:
        print(f"regie: unknown command {args[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    if problem := not_text(args[1:]):
        print(f"regie {args[0]}: {problem}", file=sys.stderr)
        return 2
    module_name, _ = entry
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        extra = args[0] if args[0] in {"agent", "dashboards"} else "collector"
        print(
            f"regie {args[0]}: missing dependency {exc.name!r}; "
            f"install it with: pip install 'regie[{extra}]'",
            file=sys.stderr,
        )
        return 2
    try:
        status = module.main(args[1:], prog=f"regie {args[0]}")
        sys.stdout.flush()  # inside the try: a reader that left fails this flush too
    except KeyboardInterrupt:
        # Ctrl-C on a command (a long inventory, a sync) is the user's choice, not a crash:
        # no traceback, the shell's usual status for SIGINT.
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`regie agent inventory | head -3`): the output was not wanted,
        # which is not an error. Point stdout at /dev/null so the interpreter's final flush does
        # not raise again (the recipe in the Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status
