"""The processes a benchmark starts (`regie` commands, collectors, exporters) and the CPU and
memory that processes used, read from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- starting and stopping ----------------------------------------------------------------


async def regie(*args: str, cwd: Path, timeout: float = 300) -> tuple[str, float]:
    """Run `regie ...` as an operator would: (its stdout, seconds it took)."""
    started = time.perf_counter()
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "regie", *args], cwd=cwd,
        capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"regie {' '.join(args[:2])} exited {done.returncode}: "
                           f"{done.stderr.strip()[-500:]}")
    return done.stdout, time.perf_counter() - started


def start_collector(*options: str, cwd: Path, log: Path) -> subprocess.Popen:
    """`regie collector run OPTIONS` in its own session, its stderr (the log) into `log`."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "regie", "collector", "run", *options], cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink,
            start_new_session=True)


async def wait_ready(session, url: str, proc: subprocess.Popen, *, name: str,
                     log: Path | None = None, timeout: float = 60,
                     also: Callable[[], bool] = lambda: True) -> None:
    """Until GET `url` answers 200 (and `also()` holds); RuntimeError when `proc` exits first
    (with the tail of its `log`) or after `timeout` seconds."""
    import aiohttp

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            tail = f": {log.read_text(errors='replace')[-500:].strip()}" if log else ""
            raise RuntimeError(f"{name} exited with {proc.returncode}{tail}")
        with contextlib.suppress(OSError, aiohttp.ClientError, asyncio.TimeoutError):
            async with session.get(url) as response:
                if response.status == 200 and also():
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} not ready at {url} within {timeout:.0f} s")
        await asyncio.sleep(0.1)


def stop_processes(processes: Iterable[subprocess.Popen | None]) -> None:
    """SIGTERM to all those still running, then wait for each (SIGKILL after 15 s)."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for proc in running:
        proc.terminate()
    for proc in running:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def stop_process(proc: subprocess.Popen | None) -> None:
    stop_processes([proc])


# -- what they used -----------------------------------------------------------------------


def _cpu(pid: int) -> float | None:
    """utime + stime of `pid` from /proc/PID/stat (threads that exited included); None once
    the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid`; 0 once it is gone."""
    cpu = _cpu(pid)
    return 0.0 if cpu is None else cpu


def process_cpu(pids: Iterable[int]) -> dict[int, float]:
    """CPU seconds of each of `pids` still running."""
    return {pid: cpu for pid in pids if (cpu := _cpu(pid)) is not None}


def self_cpu() -> float:
    """CPU seconds of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int) -> float:
    """VmHWM of `pid` in MB; 0 once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
