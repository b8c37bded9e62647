"""The API clients (`regie ticket`, `change`, `maintenance`, `vendor-case`) say in one line
what is wrong with a collector URL, or with what answered at it, never with a traceback: the
real commands in a subprocess, against real sockets that misbehave.

Found by running every command with --url replaced by odd ones: a host that is not a name
(`http://127.0.0.1..:1/`: UnicodeError), `http://[::1` (ValueError), a space (InvalidURL) or a
name outside ASCII (UnicodeEncodeError) failed inside the HTTP client; a collector that closes
the connection without answering (as one restarting does), an answer cut short, or an address
where something else answers 200 with text (JSONDecodeError) raised after the request."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

COMMANDS = [("ticket", "list"), ("change", "list"), ("maintenance", "list"),
            ("vendor-case", "list")]


def regie(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    token = cwd / "token"
    token.write_text("rg_not-a-real-token\n")
    token.chmod(0o600)
    result = subprocess.run([sys.executable, "-m", "regie", *args, "--token-file", str(token)],
                            capture_output=True, text=True, timeout=60, cwd=cwd,
                            env={**os.environ, "REGIE_CONFIG": "", "REGIE_URL": ""})
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1..:1/", "is not a valid URL"),
    ("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
    ("http://127.0.0.1:99999", "is not a valid URL (Port out of range"),
    ("http://a b", "must not hold spaces or control characters"),
    ("http://\u2603.example", "must be ASCII"),
    ("http://:8847", "names no host"),
])
def test_a_collector_url_that_no_request_can_be_sent_to(url, reason, tmp_path):
    for command in COMMANDS:
        result = regie(*command, "--url", url, cwd=tmp_path)
        # regie ticket keeps exit status 1 for every failure; the newer commands say 2.
        assert result.returncode == (1 if command[0] == "ticket" else 2), (command, result)
        assert f"the collector URL {reason}" in result.stderr, (command, result)


def test_the_installation_url_is_checked_naming_the_file_and_key(tmp_path):
    config = tmp_path / "regie.toml"
    config.write_text('[cli]\nurl = "http://[::1"\n')
    result = regie("maintenance", "list", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2 and f"{config}: cli.url: is not a valid URL (Invalid IPv6 " \
        "URL)" in result.stderr, result


def _serve(answer: bytes | None) -> Iterator[str]:
    """A socket that reads a request and sends `answer` (None: nothing) before closing."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def loop() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                if answer is not None:
                    conn.sendall(answer)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.mark.parametrize(("answer", "said"), [
    (None, "no answer from the collector at http://127.0.0.1:"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"tick", "no answer from the collector"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n<html></html>\n", "is not the collector's"),
    (b"SSH-2.0-OpenSSH_9.2\r\n", "no answer from the collector"),
], ids=["closed", "cut-short", "not-json", "not-http"])
def test_an_answer_that_is_not_the_collectors(answer, said, tmp_path):
    for url in _serve(answer):
        for command in COMMANDS:
            result = regie(*command, "--url", url, cwd=tmp_path)
            assert result.returncode == 1 and said in result.stderr, (command, result)
