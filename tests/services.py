"""Start real programs for tests: free loopback ports, readiness polling, clean shutdown.

Every service binds to 127.0.0.1 on a port picked here, so parallel runs never clash, and is
stopped with terminate() + wait() (an orphan would linger as a zombie and fool later checks).
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


# Ports handed out in this run: none is handed out twice, even before its user binds it.
_HANDED_OUT: set[int] = set()
_LOWEST = 10_000


def _ephemeral_low() -> int:
    """The lowest port the kernel gives an outgoing connection (ip_local_port_range)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port nothing is bound to, for a service the test starts next. Picked below
    the kernel's ephemeral range and never twice in a run: a port the kernel picks (bind to 0)
    is one it may also give to the next outgoing connection (a PostgreSQL client, say) or to
    the next free_port call before the first service has bound it, and that service then
    fails with 'address already in use'."""
    rng = random.Random()
    high = max(_ephemeral_low(), _LOWEST + 1_000)
    for _ in range(1_000):
        port = rng.randrange(_LOWEST, high)
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {_LOWEST}-{high}")


def require_binary(name: str) -> str:
    """The program's path. Missing means `make test` was bypassed: fail, never skip."""
    # snmpd lives in /usr/sbin, which a non-root PATH may lack.
    path = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if path is None:
        pytest.fail(f"{name} is not installed; run the suite with 'make test', which installs it")
    return path


def wait_for(probe: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.05,
             what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy (an empty result means "not yet")."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except Exception as exc:  # the service is not up yet
            last_error = exc
            result = None
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


def http_get(url: str, *, timeout: float = 5.0, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def http_ok(url: str) -> bool:
    try:
        http_get(url, timeout=1.0)
    except (urllib.error.URLError, OSError):
        return False
    return True


@contextlib.contextmanager
def running(argv: Sequence[str], *, log: Path, ready: Callable[[], object],
            env: dict[str, str] | None = None, what: str | None = None,
            timeout: float = 20.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` (output to `log`) until the block ends; `ready()` must turn truthy first."""
    name = what or Path(argv[0]).name
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        def probe() -> object:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}")
            return ready()

        try:
            wait_for(probe, timeout=timeout, what=f"{name} to be ready")
        except AssertionError:
            output = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"{name} did not become ready; its output:\n{output}") from None
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
