"""The README's first command (`make run` = `regie demo`) and the `regie ticket` client, as a
newcomer uses them: real processes, a real SQLite file, every command finding the demo's
installation through the one command the banner prints."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collector.conftest import _in_process
from tests.services import free_port, http_get, http_ok, running, wait_for


def ticket_cli(cwd, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regie", "ticket", *args],
                          capture_output=True, text=True, timeout=60, check=False, cwd=cwd,
                          env=env)


def shell(command: str, *, cwd, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` as a user types it: `regie` on PATH (this interpreter's)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command], capture_output=True,
                          text=True, timeout=120, check=False, cwd=cwd, env={**env, "PATH": path})


def demo_argv(state, collector_port: int, agent_port: int) -> list[str]:
    return [sys.executable, "-m", "regie", "demo", "--dir", str(state),
            "--listen", f"127.0.0.1:{collector_port}",
            "--agent-listen", f"127.0.0.1:{agent_port}", "--interval", "1"]


def banner_config(log) -> str:
    """The installation file the banner tells the user to export."""
    text = log.read_text()
    (line,) = [x for x in text.splitlines() if "export REGIE_CONFIG=" in x]
    return line.split("export REGIE_CONFIG=", 1)[1].strip()


def test_demo_runs_collector_and_agent_and_the_cli_works(tmp_path):
    collector_port, agent_port = free_port(), free_port()
    url = f"http://127.0.0.1:{collector_port}"
    state = tmp_path / "elsewhere" / "my-demo"  # not ./regie-demo: --dir must be honoured
    log = tmp_path / "demo.log"
    with running(demo_argv(state, collector_port, agent_port), log=log,
                 ready=lambda: http_ok(f"{url}/healthz"), what="regie demo"):
        # The banner names the installation under --dir, and the one command to use it.
        config = banner_config(log)
        assert config == str(state / "regie.toml")
        assert "regie-demo" not in log.read_text()
        env = {**os.environ, "REGIE_CONFIG": config}
        work = tmp_path / "work"  # any directory: the installation is found by REGIE_CONFIG
        work.mkdir()
        # The host's health is served by the local agent.
        assert b"regie_memory_total_bytes" in http_get(f"http://127.0.0.1:{agent_port}/metrics")
        report = ticket_cli(work, "report", "--summary", "Printer on floor 3 jams",
                            "--impact", "low", env=env)
        assert report.returncode == 0, report.stderr
        # The demo's secrets are its user's alone, so the client has nothing to warn about.
        assert report.stderr == ""
        for secret in ("admin.token", "agent.token", "link.key"):
            assert (state / secret).stat().st_mode & 0o777 == 0o600, secret
        assert report.stdout.startswith("#") and "P4 open: Printer on floor 3 jams" in \
            report.stdout
        listed = ticket_cli(work, "list", env=env)
        assert listed.returncode == 0, listed.stderr
        assert "Printer on floor 3 jams" in listed.stdout
        tid = report.stdout.split()[0].lstrip("#")
        # --json where people type it: before or after the subcommand.
        for argv in (("--json", "list", "--status", "open"),
                     ("list", "--status", "open", "--json")):
            out = ticket_cli(work, *argv, env=env)
            assert out.returncode == 0, out.stderr
            assert int(tid) in [t["id"] for t in json.loads(out.stdout)["tickets"]]
        # The demo puts you on call: the new ticket pages you through the file channel.
        pages = state / "notifications.jsonl"
        page = wait_for(lambda: next((json.loads(line) for line in (
            pages.read_text().splitlines() if pages.exists() else ())
            if json.loads(line)["ticket_id"] == int(tid)), None), timeout=30,
            what="the demo's page in notifications.jsonl")
        assert page["kind"] == "trigger" and page["summary"] == "Printer on floor 3 jams"
        assert page["links"]["ack"].startswith(f"{url}/api/v1/actions/")
        acked = ticket_cli(work, "ack", tid, "--note", "on it", env=env)
        assert "acknowledged" in acked.stdout, acked.stderr
        shown = ticket_cli(work, "show", tid, env=env)
        assert "on it" in shown.stdout and "acknowledged" in shown.stdout
        # The other commands use the same installation, from its own directory too.
        who = shell("regie oncall who --role primary", cwd=state, env=dict(os.environ))
        assert who.returncode == 0 and "demo" in who.stdout, who.stderr
        tokens = shell("regie collector token list", cwd=work, env=env)
        assert "demo-admin" in tokens.stdout, tokens.stderr
        # A reader that leaves early is not an error, and no traceback is printed.
        for command in ("regie ticket --json list | head -1",
                        "regie agent inventory | head -3"):
            piped = shell(command, cwd=work, env=env)
            assert (piped.returncode, piped.stderr) == (0, ""), command
        assert not list(work.iterdir())  # nothing left behind where the commands ran

        # The agent pushed its inventory to the collector.
        async def hosts(engine):
            from collector.store.inventory import InventoryStore

            return await InventoryStore(engine).hosts()

        db = f"sqlite:///{state / 'regie.db'}"
        assert wait_for(lambda: asyncio.run(_in_process(db, hosts)), timeout=60,
                        what="the agent's inventory push")


def test_second_demo_on_taken_ports_is_one_line(tmp_path):
    """A second `regie demo` while the first holds the ports: one line, exit 2, no banner."""
    collector_port, agent_port = free_port(), free_port()
    url = f"http://127.0.0.1:{collector_port}"
    with running(demo_argv(tmp_path / "one", collector_port, agent_port),
                 log=tmp_path / "demo.log", ready=lambda: http_ok(f"{url}/healthz")):
        second = subprocess.run(demo_argv(tmp_path / "two", collector_port, free_port()),
                                capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 2
        assert second.stdout == ""
        assert second.stderr == (f"regie demo: --listen 127.0.0.1:{collector_port}: Address "
                                 f"already in use (another regie demo running? choose another "
                                 f"address with --listen)\n")
        assert not (tmp_path / "two").exists()  # nothing written before the check


def test_demo_restarts_its_agent_when_it_dies(tmp_path):
    """The agent is killed: the demo reaps it (no zombie), logs it and starts a new one."""
    collector_port, agent_port = free_port(), free_port()
    url = f"http://127.0.0.1:{collector_port}"
    log = tmp_path / "demo.log"
    with running(demo_argv(tmp_path / "d", collector_port, agent_port), log=log,
                 ready=lambda: http_ok(f"{url}/healthz")):
        (first,) = re.findall(r"agent started \(pid (\d+)\)", log.read_text())
        os.kill(int(first), signal.SIGKILL)
        restarted = wait_for(lambda: re.findall(r"agent restarted \(pid (\d+);",
                                                log.read_text()), timeout=30,
                             what="the agent's restart")
        assert f"the agent (pid {first}) exited with status -9" in log.read_text()
        assert not Path(f"/proc/{first}").exists()  # reaped, not <defunct>
        assert restarted[0] != first
        wait_for(lambda: http_ok(f"http://127.0.0.1:{agent_port}/healthz"), timeout=30,
                 what="the new agent")


@pytest.mark.timeout(300)  # a process per command: 20-70 s (default: 120 s)
def test_reading_commands_never_create_a_database(tmp_path):
    """Outside any installation, a report fails with the path and the fix and leaves no
    ./regie.db behind; `registry match` then still answers from the bundled data."""
    env = {k: v for k, v in os.environ.items() if k != "REGIE_CONFIG"}
    eos = shell("regie registry eos", cwd=tmp_path, env=env)
    assert eos.returncode == 2
    assert eos.stderr == (f"regie registry: database {tmp_path / 'regie.db'} does not exist: "
                          f"create it with `regie collector migrate`\n")
    token = shell("regie collector token list", cwd=tmp_path, env=env)
    assert token.returncode == 2 and "does not exist" in token.stderr
    assert list(tmp_path.iterdir()) == []
    observation = '{"source": "os-release", "raw": {"ID": "debian", "VERSION_ID": "12"}}'
    match = shell(f"echo '{observation}' | regie registry match", cwd=tmp_path, env=env)
    assert match.returncode == 0, match.stderr
    assert json.loads(match.stdout)["product"] == "debian"


def test_ticket_cli_errors_are_one_line(tmp_path):
    unreachable = f"http://127.0.0.1:{free_port()}"
    token = tmp_path / "t"
    token.write_text("regie_x\n")
    token.chmod(0o600)   # readable by others, it would be warned about (test_cli_token_file)
    result = subprocess.run([sys.executable, "-m", "regie", "ticket", "--url", unreachable,
                             "--token-file", str(token), "list"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"regie ticket: cannot reach the collector at {unreachable}")
    missing = subprocess.run([sys.executable, "-m", "regie", "ticket", "--url", unreachable,
                              "--token-file", str(tmp_path / "none"), "list"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert "cannot read the token file" in missing.stderr


def test_ticket_cli_against_a_collector(collector, tmp_path):
    token = tmp_path / "token"
    token.write_text(collector.tokens["responder"])
    token.chmod(0o600)
    base = [sys.executable, "-m", "regie", "ticket", "--url", collector.url, "--token-file",
            str(token)]
    run = lambda *a: subprocess.run([*base, *a], capture_output=True, text=True,  # noqa: E731
                                    timeout=60, check=False)
    assert run("list").stdout.strip() == "no tickets"
    made = run("report", "--summary", "Mail queue stuck", "--host", "mx-01", "--urgency",
               "high", "--impact", "high")
    assert "P1 open: Mail queue stuck" in made.stdout, made.stderr
    tid = made.stdout.split()[0].lstrip("#")
    assert "P1" in run("list", "--priority", "P1").stdout
    assert run("list", "--priority", "P4").stdout.strip() == "no tickets"
    resolved = run("resolve", tid, "--note", "restarted postfix")
    assert "resolved" in resolved.stdout
    twice = run("resolve", tid)  # a repeat is answered, not refused: it says who did it
    assert twice.returncode == 0, twice.stderr
    assert f"#{tid} already resolved by " in twice.stdout
    closed = run("close", tid)
    assert "closed" in closed.stdout, closed.stderr
    reopened = run("ack", tid)  # a real conflict is still refused, in one line
    assert reopened.returncode == 1
    assert reopened.stderr.startswith("regie ticket: POST ") and "409" in reopened.stderr
