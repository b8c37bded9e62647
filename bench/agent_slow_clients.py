#!/usr/bin/env python3
"""A normal scrape while 1,000 slow clients hang on the exporter: the Regie agent side by side
with node_exporter, in one run on this machine.

    .venv/bin/python bench/agent_slow_clients.py [--clients 1000] [--scrapes 30]

For each exporter (started on a loopback port; the agent from this checkout with its defaults,
node_exporter with its own, `--web.max-requests=40` among them):

1. `idle`: --scrapes scrapes of /metrics one after another, nobody else connected;
2. `slow`: the same while --clients connections hold a half-sent request head (a byte more
   from each every second); then the exporter's threads and RSS, and how many of the slow
   connections it has closed by then;
3. `burst`: --clients connections send the head but for its last CRLF, then all finish at
   once; how they were answered (200 / 503 / closed) and how long the last took; then one
   normal scrape.

The scrape time is the client's wall time (median, p95, max). This is a measurement, not a
test: it prints a table and exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Project packages first: this directory's agent.py would shadow the `agent` package.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.agent.slow_clients import SlowClients, raise_open_files_limit  # noqa: E402


@dataclass
class Exporter:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def status(self, field: str) -> int:
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+)", text, re.MULTILINE).group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def started(name: str, argv: list[str], port: int, log: Path) -> Iterator[Exporter]:
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"{name} did not start; see {log}") from None
                time.sleep(0.1)
        yield Exporter(name, port, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scrape_ms(url: str, timeout: float = 60.0) -> float | None:
    start = time.perf_counter()
    try:
        urllib.request.urlopen(url, timeout=timeout).read()  # noqa: S310 (loopback http)
    except OSError:
        return None
    return (time.perf_counter() - start) * 1000


def scrapes(url: str, count: int, between=None) -> list[float | None]:
    out = []
    for _ in range(count):
        out.append(scrape_ms(url))
        if between:
            between()
    return out


def summary(values: list[float | None]) -> str:
    ok = sorted(v for v in values if v is not None)
    failed = len(values) - len(ok)
    if not ok:
        return f"all {failed} failed"
    p95 = ok[min(len(ok) - 1, round(0.95 * (len(ok) - 1)))]
    text = f"{statistics.median(ok):7.1f} {p95:7.1f} {ok[-1]:8.1f}"
    return text + (f"  ({failed} failed)" if failed else "")


def measure(exporter: Exporter, clients: int, count: int) -> dict[str, str]:
    row = {"idle": summary(scrapes(exporter.url, count))}
    with SlowClients(exporter.port, clients) as slow:
        last = [time.monotonic()]

        def trickle() -> None:
            if time.monotonic() - last[0] >= 1.0:
                slow.trickle()
                last[0] = time.monotonic()

        row["slow"] = summary(scrapes(exporter.url, count, trickle))
        row["threads"] = str(exporter.status("Threads"))
        row["rss"] = f"{exporter.status('VmRSS') / 1024:.1f}"
        row["slow_closed"] = f"{clients - slow.still_open()}/{clients}"
    time.sleep(1)
    with SlowClients(exporter.port, clients) as burst:
        start = time.perf_counter()
        burst.finish()
        answers = burst.read_answers(timeout=60)
        took = time.perf_counter() - start
    codes = [a.split(b" ")[1].decode() if a.count(b" ") >= 1 else "closed" for a in answers]
    row["burst"] = (f"200:{codes.count('200')} 503:{codes.count('503')} "
                    f"closed:{codes.count('closed')} in {took:.1f}s")
    after = scrape_ms(exporter.url)
    row["after"] = "failed" if after is None else f"{after:.1f}"
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--scrapes", type=int, default=30)
    args = parser.parse_args()
    limit = raise_open_files_limit(args.clients * 2 + 256)
    if limit < args.clients + 64:
        raise SystemExit(f"the open-files limit ({limit}) is too low for {args.clients} clients")
    node_exporter = shutil.which("prometheus-node-exporter")
    rows = {}
    with tempfile.TemporaryDirectory(prefix="regie-bench-slow-") as tmp:
        work = Path(tmp)
        (work / "agent.toml").write_text("")
        port = free_port()
        agent = [sys.executable, "-m", "regie", "agent", "run", "--config",
                 str(work / "agent.toml"), "--listen", f"127.0.0.1:{port}"]
        with started("regie agent", agent, port, work / "agent.log") as exporter:
            rows["regie agent"] = measure(exporter, args.clients, args.scrapes)
        if node_exporter:
            port = free_port()
            argv = [node_exporter, f"--web.listen-address=127.0.0.1:{port}",
                    "--no-collector.systemd"]
            with started("node_exporter", argv, port, work / "node.log") as exporter:
                rows["node_exporter"] = measure(exporter, args.clients, args.scrapes)
        else:
            print("prometheus-node-exporter is not installed: the agent alone")
    print(f"\n{args.clients} slow clients, {args.scrapes} scrapes per phase; "
          "scrape wall time in ms: median p95 max\n")
    print(f"{'':15} {'idle':>24} {'with slow clients':>26} {'threads':>8} {'RSS MB':>7} "
          f"{'slow closed':>12}")
    for name, row in rows.items():
        print(f"{name:15} {row['idle']:>24} {row['slow']:>26} {row['threads']:>8} "
              f"{row['rss']:>7} {row['slow_closed']:>12}")
    print("\nall half-requests finished at once:")
    for name, row in rows.items():
        print(f"  {name:15} {row['burst']}; next scrape {row['after']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
