"""The README's first command (`make run` = `regie demo`) and the `regie ticket` client, as a
newcomer uses them: real processes, a real SQLite file, the CLI reading the demo's token."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from tests.collector.conftest import _in_process
from tests.services import free_port, http_get, http_ok, running, wait_for


def ticket_cli(cwd, *args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regie", "ticket", "--url", url, *args],
                          capture_output=True, text=True, timeout=60, check=False, cwd=cwd)


def test_demo_runs_collector_and_agent_and_the_cli_works(tmp_path):
    collector_port, agent_port = free_port(), free_port()
    url = f"http://127.0.0.1:{collector_port}"
    argv = [sys.executable, "-m", "regie", "demo", "--dir", str(tmp_path / "regie-demo"),
            "--listen", f"127.0.0.1:{collector_port}",
            "--agent-listen", f"127.0.0.1:{agent_port}", "--interval", "1"]
    with running(argv, log=tmp_path / "demo.log", ready=lambda: http_ok(f"{url}/healthz"),
                 what="regie demo"):
        # The host's health is served by the local agent.
        assert b"regie_memory_total_bytes" in http_get(f"http://127.0.0.1:{agent_port}/metrics")
        # The CLI finds the demo's token in ./regie-demo/admin.token (run from tmp_path).
        report = ticket_cli(tmp_path, "report", "--summary", "Printer on floor 3 jams",
                            "--impact", "low", url=url)
        assert report.returncode == 0, report.stderr
        assert report.stdout.startswith("#") and "P4 open: Printer on floor 3 jams" in \
            report.stdout
        listed = ticket_cli(tmp_path, "list", url=url)
        assert listed.returncode == 0, listed.stderr
        assert "Printer on floor 3 jams" in listed.stdout
        tid = report.stdout.split()[0].lstrip("#")
        # The demo puts you on call: the new ticket pages you through the file channel.
        pages = tmp_path / "regie-demo" / "notifications.jsonl"
        page = wait_for(lambda: next((json.loads(line) for line in (
            pages.read_text().splitlines() if pages.exists() else ())
            if json.loads(line)["ticket_id"] == int(tid)), None), timeout=30,
            what="the demo's page in notifications.jsonl")
        assert page["kind"] == "trigger" and page["summary"] == "Printer on floor 3 jams"
        assert page["links"]["ack"].startswith(f"{url}/api/v1/actions/")
        acked = ticket_cli(tmp_path, "ack", tid, "--note", "on it", url=url)
        assert "acknowledged" in acked.stdout, acked.stderr
        shown = ticket_cli(tmp_path, "show", tid, url=url)
        assert "on it" in shown.stdout and "acknowledged" in shown.stdout

        # The agent pushed its inventory to the collector.
        async def hosts(engine):
            from collector.store.inventory import InventoryStore

            return await InventoryStore(engine).hosts()

        db = f"sqlite:///{tmp_path / 'regie-demo' / 'regie.db'}"
        assert wait_for(lambda: asyncio.run(_in_process(db, hosts)), timeout=60,
                        what="the agent's inventory push")


def test_ticket_cli_errors_are_one_line(tmp_path):
    unreachable = f"http://127.0.0.1:{free_port()}"
    token = tmp_path / "t"
    token.write_text("regie_x\n")
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
    twice = run("resolve", tid)
    assert twice.returncode == 1
    assert "409 cannot resolve a ticket that is resolved" in twice.stderr
