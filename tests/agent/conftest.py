"""Agent fixtures: the real `regie agent run` process on a free loopback port."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Service
from tests.services import free_port, http_ok, running


@contextlib.contextmanager
def agent_process(tmp_path: Path, config: str = "", *, scheme: str = "http",
                  extra_args: tuple[str, ...] = ()) -> Iterator[Service]:
    """Run `regie agent run` as its own process (the CLI end to end), yield its base URL."""
    port = free_port()
    conf = tmp_path / "agent.toml"
    conf.write_text(config)
    argv = [sys.executable, "-m", "regie", "agent", "run", "--config", str(conf),
            "--listen", f"127.0.0.1:{port}", *extra_args]
    url = f"{scheme}://127.0.0.1:{port}"

    def ready() -> bool:
        if scheme == "https":
            import socket
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False
        return http_ok(f"{url}/healthz")

    with running(argv, log=tmp_path / "agent.log", ready=ready, what="regie agent"):
        yield Service(url=url, port=port)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Service]:
    with agent_process(tmp_path) as service:
        yield service
