"""Hosts whose latest inventories are large cost a host listing next to nothing.

Real collector process (`regie collector run`) on SQLite and PostgreSQL. `GET /api/v1/hosts`
(and the console's host list) shows each host's OS from its latest push, but read that push's
whole document: a few hosts of 60,000 packages (7.8 MB each, under the 8 MiB body limit) made
each listing decode tens of megabytes of JSON in the event loop, so other requests waited
over a second, and a few listings at once took the collector's memory up by gigabytes. Only the
`os` part of each document is read now. Measured as the process's peak memory (VmHWM), not as
time.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
from pathlib import Path

import pytest

from tests.collector.conftest import collector_process

HOSTS = 16
PACKAGES = 60_000


@pytest.fixture
def collector(tmp_path, collector_db):
    with collector_process(tmp_path, collector_db) as service:
        yield service


def peak_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+)", text, re.MULTILINE).group(1))


def push(collector, n: int) -> None:
    observations = [{"source": "dpkg", "raw": {
        "package": f"package-{i}", "version": f"1.{i}-1", "architecture": "amd64",
        "status": "install ok installed"}} for i in range(PACKAGES)]
    body = {"idempotency_key": f"big-{n}", "document": {
        "schema": "regie.inventory/v1", "host": {"hostname": f"big-{n:02d}"},
        "os": {"ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12"},
        "observations": observations}}
    raw = json.dumps(body).encode()
    assert 7_000_000 < len(raw) < 8 * 1024 * 1024
    status, answer = collector.call("POST", "/api/v1/inventory", raw=raw, token="agent")
    assert status == 202, answer


def test_listing_hosts_with_large_inventories_reads_only_what_it_shows(collector):
    for n in range(HOSTS):
        push(collector, n)
    pid = collector.process.pid
    before = peak_kib(pid)

    def listing(_: int) -> list[tuple[str, str]]:
        status, answer = collector.call("GET", "/api/v1/hosts?limit=1000", token="viewer")
        assert status == 200, answer
        return [(h["name"], h["os"]) for h in answer["hosts"]]

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        listings = list(pool.map(listing, range(4)))
    assert all(found == [(f"big-{n:02d}", "Debian GNU/Linux 12") for n in range(HOSTS)]
               for found in listings), listings[0]
    # Decoded in Python, a listing's documents took about 35 MiB each (two listings at once:
    # over 1 GiB). What remains on SQLite is json_extract's parse of one document at a time
    # per reading connection, in C, freed after it (about 100 MiB at its peak); PostgreSQL
    # reads jsonb and grows by nothing.
    grown_mib = (peak_kib(pid) - before) / 1024
    assert grown_mib < 400, f"peak memory grew by {grown_mib:.0f} MiB listing hosts"
