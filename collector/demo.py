"""`regie demo`: the whole loop on one machine with embedded defaults (what `make run` starts).

The demo writes an installation into --dir (default ./regie-demo): `regie.toml` naming a
SQLite database, tokens, an on-call schedule and the local agent's settings, exactly as an
operator would write one (deploy/collector.example.toml). Then it runs a local agent (its own
process, pushing its inventory; restarted if it dies) and the collector, with the embedded
evaluator scraping that agent against the bundled rule set. Ctrl-C stops both. Every other
command uses the installation through `export REGIE_CONFIG=DIR/regie.toml` (or from DIR).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from regie.configfile import ConfigError, parse_listen

if TYPE_CHECKING:
    from collector.demo_agent import AgentSupervisor


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a collector and a local agent with embedded defaults.",
        epilog="The installation (regie.toml, database, tokens, schedule) is written into --dir; "
               "remove the directory to start afresh.")
    parser.add_argument("--dir", type=Path, default=Path("regie-demo"), metavar="DIR",
                        help="where the demo's installation lives: regie.toml, the SQLite "
                             "database, tokens, on-call schedule, notifications "
                             "(default ./regie-demo; reused when it exists)")
    parser.add_argument("--listen", default="127.0.0.1:8847", metavar="HOST:PORT",
                        help="collector address (default 127.0.0.1:8847)")
    parser.add_argument("--agent-listen", default="127.0.0.1:9847", metavar="HOST:PORT",
                        help="agent address (default 127.0.0.1:9847)")
    parser.add_argument("--interval", type=float, default=15.0,
                        help="evaluation interval in seconds (default 15)")
    parser.add_argument("--history", metavar="DAYS",
                        help="first play a realistic history of DAYS (e.g. 90d) through the "
                             "collector's API with a simulated clock (about 50 hosts, alerts "
                             "and user reports, acknowledgements, escalations, patch "
                             "changes and updates, vendor cases), once per "
                             "installation, and write its governance review "
                             "(DIR/governance-review.html; docs/reports.md)")
    parser.add_argument("--seed", type=int, default=13,
                        help="the history's random seed (default 13): the same seed and day "
                             "give the same history")
    return parser


async def _token(db: str, role: str, name: str, path: Path, *,
                 person: str | None = None) -> str:
    """The token stored in `path`, created (and stored) when there is none yet; `person`:
    who holds it (their name, not the token's, is then the actor on timelines)."""
    from collector.auth import new_token, token_hash
    from collector.store.engine import create_engine, database_url
    from collector.store.tokens import TokenStore

    if path.exists():
        path.chmod(0o600)   # one an older demo left readable: `regie ticket` would warn
        return path.read_text().strip()
    engine = create_engine(database_url(db))
    try:
        token = new_token()
        await TokenStore(engine).create(f"{name}-{int(time.time())}", role, token_hash(token),
                                        datetime.now(UTC), person=person)
    finally:
        await engine.dispose()
    _write_private(path, token + "\n")
    return token


def _write_private(path: Path, text: str) -> None:
    """A new file only its owner can read, from its first byte (a write, then chmod, would
    leave it readable by every user for a moment under the usual umask 022)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(text)


def _address_problem(address: str) -> str | None:
    """Why `address` cannot be served, checked before anything starts; None when it can."""
    try:
        host, port = parse_listen(address)
    except ValueError as exc:
        return str(exc)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the servers bind (SO_REUSEADDR): a port left in TIME_WAIT is not "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def main(argv: list[str], prog: str = "regie demo") -> int:
    args = _parser(prog).parse_args(argv)
    for flag, address in (("--listen", args.listen), ("--agent-listen", args.agent_listen)):
        problem = _address_problem(address)
        if problem:
            print(f"{prog}: {flag} {address}: {problem} (another regie demo running? choose "
                  f"another address with {flag})", file=sys.stderr)
            return 2
    from collector.log_format import configure

    configure("INFO")
    from collector.cli import ListenError, run_settings
    from collector.config import load_settings
    from collector.demo_agent import AgentSupervisor
    from collector.store.engine import migrate

    state = args.dir.resolve()
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:   # a file of that name, a read-only place, a name too long
        print(f"{prog}: --dir {str(args.dir)[:200]}: cannot be the demo's directory: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    config = _write_installation(state, args)
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    db = settings.database.url
    migrate(db)
    from collector.demo_registry import import_samples

    asyncio.run(import_samples(db))  # sample hardware and contracts: those reports show data
    asyncio.run(_token(db, "admin", "demo-admin", state / "admin.token", person=_you()))
    asyncio.run(_token(db, "agent", "demo-agent", state / "agent.token"))
    review = ""
    if args.history is not None:
        from collector.demo_history import ensure, parse_days

        try:
            days = parse_days(args.history)
        except ValueError as exc:
            print(f"{prog}: --history: {exc}", file=sys.stderr)
            return 2
        admin = (state / "admin.token").read_text().strip()
        print(f"playing a {days}-day history through the collector's API (once) ...",
              flush=True)
        path, summary = asyncio.run(ensure(settings, state, days=days, seed=args.seed,
                                           token=admin, port=_free_port(),
                                           today=datetime.now(UTC).date()))
        review = f"  governance      {path}\n                  ({summary})\n"
    agent = AgentSupervisor([sys.executable, "-m", "regie", "agent", "run",
                             "--config", str(config)])
    agent.start()
    try:
        _wait_for(f"http://{args.agent_listen}/healthz", agent)
        shown = os.path.relpath(state)
        print(f"""
Regie demo: the installation is {config}
  use it          export REGIE_CONFIG={config}
                  (or run the commands from {shown}/: they find ./regie.toml)
  agent metrics   http://{args.agent_listen}/metrics
  collector API   http://{args.listen}   (token in {state / "admin.token"})
  console         http://{args.listen}/ui/   log in with the token: cat {state / "admin.token"}
  tickets         regie ticket list
  report one      regie ticket report --summary "Printer on floor 3 jams" --impact low
  rules           bundled defaults, evaluated every {args.interval:g}s (regie rules export --out -)
  on call         you, all roles (regie oncall who); pages go to
                  {state / "notifications.jsonl"}  (tail -f it)
{review}Ctrl-C stops the collector and the agent.
""", flush=True)
        return run_settings(settings)
    except ListenError as exc:  # taken between the check and the bind
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    finally:
        agent.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_installation(state: Path, args: argparse.Namespace) -> Path:
    """regie.toml (rewritten each start: it records this run's addresses), the schedule and
    the link key (kept once written). Paths in the file are relative: beside it."""
    _schedule(state)
    key = state / "link.key"
    if not key.exists():
        import secrets

        _write_private(key, secrets.token_hex(32) + "\n")
    config = state / "regie.toml"
    config.write_text(f"""\
# The installation `regie demo` made (rewritten at each start). Every regie command uses it
# with `export REGIE_CONFIG={config}`, or when run from this directory.
# Keys: docs/configuration.md. Relative paths are relative to this file's directory.

[server]
listen = "{args.listen}"

[database]
url = "sqlite:///regie.db"

[evaluator]
interval_seconds = {float(args.interval)!r}
targets = [{{ address = "{args.agent_listen}" }}]

[oncall]
schedule_file = "oncall.yml"
public_url = "http://{args.listen}"
link_secret_file = "link.key"

# The operator console at http://{args.listen}/ui/ (docs/console.md).
[ui]
enabled = true

[[oncall.channels]]
name = "demo-file"
kind = "file"
path = "notifications.jsonl"

# The ticket client (`regie ticket`): the API address comes from [server].
[cli]
token_file = "admin.token"

# The local agent (`regie agent run` reads these tables of the same file).
[http]
listen = "{args.agent_listen}"

[push]
collector = "http://{args.listen}"
token_file = "agent.token"
spool_dir = "spool"
""")
    return config


def _you() -> str:
    """The demo's one person: you, by your login name (on call, and holding the admin token)."""
    import getpass

    return "".join(c for c in getpass.getuser() if c.isalnum() or c in "._-") or "me"


def _schedule(state: Path) -> None:
    """You on call for every role, all week."""
    schedule = state / "oncall.yml"
    if schedule.exists():
        return
    person = _you()
    layer = (f"{{participants: [{person}], rotation: weekly, handoff: \"09:00\", "
             f"handoff_day: monday, start: 2024-01-01}}")
    schedule.write_text(f"""\
# The demo's schedule: you, for every role. Reference: docs/oncall.md.
teams:
  - name: demo
    timezone: UTC
    business_hours: {{days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}}
    layers:
      primary: {layer}
      secondary: {layer}
      escalation_manager: {layer}
""")


def _wait_for(url: str, agent: AgentSupervisor, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process = agent.process
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the agent exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the agent did not answer at {url}")
