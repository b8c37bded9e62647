#!/usr/bin/env python3
"""Benchmark the Regie agent side by side with node_exporter, in one run on this machine.

    python bench/agent.py [--scrapes 200] [--batch 20] [--python PATH]

Both exporters are started on loopback ports and scraped the same way, one scrape at a time:
- CPU seconds per scrape: the exporter's utime+stime (/proc/PID/stat, which includes threads
  that have exited) over a batch of scrapes, divided by the batch size; the median over batches.
  /proc counts 1/100 s ticks, so batches keep the rounding error small.
- wall time per scrape: the client's view, median and p99.
- RSS after all scrapes: VmRSS, with PSS (shared library pages divided among their users).
- process inventory: the agent's /proc walk (agent.collectors.processes) per process, with
  psutil.process_iter() over the same processes as the naive alternative.

The agent runs from a virtual environment built the way an operator installs it
(`pip install 'regie[agent]'`, not editable), so development-only import hooks are not
measured, and with the environment its systemd unit sets (deploy/systemd/regie-agent.service,
`Environment=` lines). The interpreter is the system's /usr/bin/python3 when it is 3.11 or
newer (what `python3 -m venv` gives an operator on Debian/Ubuntu), else this one; `--python`
picks another. Interpreter builds differ by about 1 MB of RSS at start: compare like with like.
This is a measurement, not a test: it prints a table and exits 0.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from processes import cpu_seconds, free_port, stop_process
from tables import percentile

ROOT = Path(__file__).resolve().parent.parent
# Project packages first: this script's own name would shadow the `agent` package.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
TARGET_RSS_MB = 25.0
TARGET_US_PER_PROCESS = 60.0


@dataclass(frozen=True)
class Result:
    name: str
    cpu_ms: float
    cpu_ms_mean: float
    wall_ms: float
    wall_p99_ms: float
    rss_mb: float
    pss_mb: float
    series: int
    bytes_per_scrape: int


def memory_mb(pid: int) -> tuple[float, float]:
    rss = pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss / 1024, pss / 1024


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the exporter exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def scrape(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
        return response.read()


def unit_environment() -> dict[str, str]:
    """The Environment= settings of the agent's systemd unit: what a deployed agent runs with."""
    unit = ROOT / "deploy" / "systemd" / "regie-agent.service"
    env = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value
    return env


def measure(name: str, argv: list[str], url: str, scrapes: int, batch: int,
            env: dict[str, str] | None = None) -> Result:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=None if env is None else os.environ | env)
    try:
        wait_ready(url, proc)
        for _ in range(5):  # warm-up: first-scrape work (caches, lazy imports) is not steady state
            scrape(url)
        walls, cpu_per_batch = [], []
        body = b""
        done = 0
        while done < scrapes:
            n = min(batch, scrapes - done)
            cpu0 = cpu_seconds(proc.pid)
            for _ in range(n):
                t0 = time.perf_counter()
                body = scrape(url)
                walls.append(time.perf_counter() - t0)
            cpu_per_batch.append((cpu_seconds(proc.pid) - cpu0) / n)
            done += n
        rss, pss = memory_mb(proc.pid)
        series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        return Result(
            name=name,
            cpu_ms=statistics.median(cpu_per_batch) * 1000,
            cpu_ms_mean=statistics.fmean(cpu_per_batch) * 1000,
            wall_ms=statistics.median(walls) * 1000,
            wall_p99_ms=percentile(walls, 0.99) * 1000,
            rss_mb=rss,
            pss_mb=pss,
            series=series,
            bytes_per_scrape=len(body),
        )
    finally:
        stop_process(proc)


def operator_venv(python: str) -> Path:
    """A venv with `regie[agent]` installed as an operator would (cached across runs)."""
    interpreter = Path(python).resolve()
    tag = hashlib.sha256(str(interpreter).encode()).hexdigest()[:8]
    venv = Path(tempfile.gettempdir()) / f"regie-bench-agent-{interpreter.name}-{tag}"
    regie = venv / "bin" / "regie"
    stamp = venv / ".source-mtime"
    newest = str(max(p.stat().st_mtime for p in (ROOT / "agent").rglob("*.py")))
    if regie.exists() and stamp.exists() and stamp.read_text() == newest:
        return venv
    print(f"building {venv} (pip install '.[agent]') ...", file=sys.stderr, flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--quiet", "--disable-pip-version-check", f"{ROOT}[agent]"],
                   check=True)
    stamp.write_text(newest)
    return venv


def default_python() -> str:
    system = Path("/usr/bin/python3")
    if system.exists():
        probe = subprocess.run(
            [str(system), "-c", "import sys; print(sys.version_info >= (3, 11))"],
            capture_output=True, text=True, check=False)
        if probe.stdout.strip() == "True":
            return str(system)
    return sys.executable


def process_inventory(rounds: int = 20) -> tuple[float, float, int]:
    """(µs per process for the agent's /proc walk, µs per process for psutil, processes)."""
    import psutil

    from agent.collectors.processes import count_processes

    procfs = Path("/proc")
    count_processes(procfs)
    walk = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        states, _threads = count_processes(procfs)
        walk.append((time.perf_counter() - t0) / max(1, sum(states.values())))
    naive = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        n = sum(1 for _ in psutil.process_iter(["status", "num_threads"]))
        naive.append((time.perf_counter() - t0) / max(1, n))
    return statistics.median(walk) * 1e6, statistics.median(naive) * 1e6, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scrapes", type=int, default=200, help="scrapes per exporter")
    parser.add_argument("--batch", type=int, default=20, help="scrapes per CPU sample")
    parser.add_argument("--python", default=default_python(),
                        help="interpreter for the agent's venv (default: /usr/bin/python3 when it "
                             "is 3.11 or newer, else this one)")
    args = parser.parse_args()

    node_bin = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if not node_bin:
        raise SystemExit("node_exporter not found (make system-deps installs it)")
    venv = operator_venv(args.python)
    node_port, agent_port = free_port(), free_port()
    node = measure(
        "node_exporter",
        [node_bin, f"--web.listen-address=127.0.0.1:{node_port}", "--no-collector.systemd"],
        f"http://127.0.0.1:{node_port}/metrics", args.scrapes, args.batch)
    unit_env = unit_environment()
    agent = measure(
        "regie agent",
        [str(venv / "bin" / "regie"), "agent", "run", "--listen", f"127.0.0.1:{agent_port}"],
        f"http://127.0.0.1:{agent_port}/metrics", args.scrapes, args.batch, env=unit_env)
    walk_us, naive_us, processes = process_inventory()

    agent_python = subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import platform; print(platform.python_version())"],
                                  capture_output=True, text=True, check=True).stdout.strip()
    node_version = subprocess.run([node_bin, "--version"], capture_output=True, text=True,
                                  check=False).stdout.split("\n")[0]
    print(f"\nAgent benchmark: {args.scrapes} sequential scrapes each, loopback, "
          f"{os.cpu_count()} CPUs; {node_version}; agent on "
          f"{Path(args.python).resolve()} ({agent_python}) with the unit's environment "
          f"{' '.join(f'{k}={v}' for k, v in unit_env.items()) or '(none)'}\n")
    rows = [
        ("CPU per scrape, median (ms)", f"{agent.cpu_ms:.2f}", f"{node.cpu_ms:.2f}",
         "<= node_exporter", agent.cpu_ms <= node.cpu_ms),
        ("CPU per scrape, mean (ms)", f"{agent.cpu_ms_mean:.2f}", f"{node.cpu_ms_mean:.2f}",
         "", None),
        ("wall per scrape, median (ms)", f"{agent.wall_ms:.2f}", f"{node.wall_ms:.2f}", "", None),
        ("wall per scrape, p99 (ms)", f"{agent.wall_p99_ms:.2f}", f"{node.wall_p99_ms:.2f}",
         "", None),
        (f"RSS after {args.scrapes} scrapes (MB)", f"{agent.rss_mb:.1f}", f"{node.rss_mb:.1f}",
         f"<= {TARGET_RSS_MB:.0f}", agent.rss_mb <= TARGET_RSS_MB),
        ("PSS (MB)", f"{agent.pss_mb:.1f}", f"{node.pss_mb:.1f}", "", None),
        ("series per scrape", str(agent.series), str(node.series), "", None),
        ("bytes per scrape", str(agent.bytes_per_scrape), str(node.bytes_per_scrape), "", None),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'regie agent':>12}  {'node_exporter':>13}  {'target':>16}")
    for label, ours, theirs, target, ok in rows:
        mark = "" if ok is None else ("  met" if ok else "  MISSED")
        print(f"{label:{width}}  {ours:>12}  {theirs:>13}  {target:>16}{mark}")
    print(f"\nprocess inventory over {processes} processes (µs per process, median of 20):")
    print(f"  agent /proc walk      {walk_us:8.1f}   target <= {TARGET_US_PER_PROCESS:.0f}"
          f"  {'met' if walk_us <= TARGET_US_PER_PROCESS else 'MISSED'}")
    print(f"  psutil.process_iter   {naive_us:8.1f}   ({naive_us / walk_us:.1f}x the walk)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
