"""The demo's local agent: its own process, reaped when it exits, restarted a bounded number
of times.

Without a watcher a dead agent stays a zombie (<defunct>) under the demo, nothing says so, and
the evaluator quietly opens "agent down" tickets. A thread waits on the process, logs the exit
status, and starts it again after a growing pause (1 s, 2 s, 4 s ... at most 30 s), up to
`max_restarts` times; then it logs that it gives up and the collector runs on alone.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Sequence

log = logging.getLogger("regie.demo")

MAX_RESTARTS = 5
MAX_PAUSE_SECONDS = 30.0


class AgentSupervisor:
    def __init__(self, argv: Sequence[str], *, max_restarts: int = MAX_RESTARTS) -> None:
        self.argv = list(argv)
        self.max_restarts = max_restarts
        self.restarts = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._process

    def start(self) -> subprocess.Popen[bytes]:
        process = self._spawn()
        self._thread = threading.Thread(target=self._watch, name="demo-agent", daemon=True)
        self._thread.start()
        return process

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self._lock:
            self._process = subprocess.Popen(self.argv)
            log.info("agent started (pid %d)", self._process.pid)
            return self._process

    def _watch(self) -> None:
        while True:
            process = self._process
            assert process is not None
            status = process.wait()  # reaps it: no zombie
            if self._stopping.is_set():
                return
            log.warning("the agent (pid %d) exited with status %d", process.pid, status)
            if self.restarts >= self.max_restarts:
                log.error("the agent exited %d times; not restarting it again (the collector "
                          "runs on; restart the demo to start a new agent)", self.restarts + 1)
                return
            pause = min(MAX_PAUSE_SECONDS, 2.0 ** self.restarts)
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.restarts += 1
                self._process = subprocess.Popen(self.argv)
                log.info("agent restarted (pid %d; restart %d of at most %d)",
                         self._process.pid, self.restarts, self.max_restarts)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching, then terminate the agent and wait for it (kill after `timeout`)."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout=timeout)
