"""`regie demo`: the whole loop on one machine with embedded defaults (what `make run` starts).

A SQLite database and tokens under ./regie-demo/, a local agent (its own process, pushing its
inventory), and the collector with the embedded evaluator scraping that agent against the
bundled rule set. Ctrl-C stops both. Nothing here is special to the demo except the choice of
paths: it is the same code an installation runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from collector.config import (
    CollectorSettings,
    DatabaseSettings,
    EvaluatorSettings,
    EvaluatorTargetSettings,
    OncallSettings,
    ServerSettings,
)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a collector and a local agent with embedded defaults.",
        epilog="State lives in --dir (default ./regie-demo); remove it to start afresh.")
    parser.add_argument("--dir", type=Path, default=Path("regie-demo"))
    parser.add_argument("--listen", default="127.0.0.1:8847", help="collector address")
    parser.add_argument("--agent-listen", default="127.0.0.1:9847", help="agent address")
    parser.add_argument("--interval", type=float, default=15.0,
                        help="evaluation interval in seconds (default 15)")
    return parser


async def _token(db: str, role: str, name: str, path: Path) -> str:
    """The token stored in `path`, created (and stored) when there is none yet."""
    from collector.auth import new_token, token_hash
    from collector.store.engine import create_engine, database_url
    from collector.store.tokens import TokenStore

    if path.exists():
        return path.read_text().strip()
    engine = create_engine(database_url(db))
    try:
        token = new_token()
        await TokenStore(engine).create(f"{name}-{int(time.time())}", role, token_hash(token),
                                        datetime.now(UTC))
    finally:
        await engine.dispose()
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def main(argv: list[str], prog: str = "regie demo") -> int:
    args = _parser(prog).parse_args(argv)
    from collector.store.engine import migrate

    state = args.dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{state / 'regie.db'}"
    migrate(db)
    asyncio.run(_token(db, "admin", "demo-admin", state / "admin.token"))
    asyncio.run(_token(db, "agent", "demo-agent", state / "agent.token"))
    agent_conf = state / "agent.toml"
    agent_conf.write_text(f'[push]\nspool_dir = "{state / "spool"}"\n')
    collector_url = f"http://{args.listen}"
    agent = subprocess.Popen([sys.executable, "-m", "regie", "agent", "run",
                              "--config", str(agent_conf), "--listen", args.agent_listen,
                              "--collector", collector_url,
                              "--token-file", str(state / "agent.token")])
    try:
        _wait_for(f"http://{args.agent_listen}/healthz", agent)
        oncall = _oncall(state, args.listen)
        settings = CollectorSettings(
            server=ServerSettings(listen=args.listen),
            database=DatabaseSettings(url=db),
            evaluator=EvaluatorSettings(
                interval_seconds=args.interval,
                targets=(EvaluatorTargetSettings(address=args.agent_listen),)),
            oncall=oncall,
            source="<demo>",
        )
        relative = os.path.relpath(state / "admin.token")
        print(f"""
Regie demo
  agent metrics   http://{args.agent_listen}/metrics
  collector API   {collector_url}   (token in {relative})
  tickets         regie ticket list            (reads {relative} by default)
  report one      regie ticket report --summary "Printer on floor 3 jams" --impact low
  rules           bundled defaults, evaluated every {args.interval:g}s (regie rules export --out -)
  on call         you, all roles ({os.path.relpath(state / "oncall.yml")}); pages go to
                  {os.path.relpath(state / "notifications.jsonl")}  (tail -f it)
Ctrl-C stops the collector and the agent.
""", flush=True)
        from collector.cli import run_settings

        return run_settings(settings)
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def _oncall(state: Path, listen: str) -> OncallSettings:
    """You on call for every role, all week; notifications as JSON lines in a file."""
    import getpass
    import secrets
    from dataclasses import replace

    from alerting.notify.channels import parse_channel
    from collector.config import ChannelSettings
    from regie.configfile import Secret

    schedule = state / "oncall.yml"
    if not schedule.exists():
        person = "".join(c for c in getpass.getuser() if c.isalnum() or c in "._-") or "me"
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
    key = state / "link.key"
    if not key.exists():
        key.write_text(secrets.token_hex(32) + "\n")
        key.chmod(0o600)
    channel = parse_channel({"kind": "file", "path": str(state / "notifications.jsonl")},
                            source="<demo>", key="oncall.channels[0]")
    return replace(OncallSettings(schedule_file=schedule, public_url=f"http://{listen}",
                                  link_secret_file=key),
                   channels=(ChannelSettings(name="demo-file", channel=channel),),
                   link_secret=Secret(key.read_text().strip()))


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the agent exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the agent did not answer at {url}")
