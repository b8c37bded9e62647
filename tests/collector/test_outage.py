"""The database fails under a running collector: every request is answered 503 (unreachable,
with Retry-After) or 507 (disk full) with a JSON reason, nothing is half-written, the log holds
one traceback per failure streak and one line when it recovers, and the collector serves again
once the database is back, without a restart.

Real components only: the collector is its own process (`regie collector run`); PostgreSQL is
a private throw-away cluster (initdb as the postgres user) stopped with `pg_ctl stop -m
immediate` under load and started again; the full disk is a real 4 MiB tmpfs holding the SQLite
database (and, for PostgreSQL's own "disk full", a 96 MiB tmpfs holding a private cluster),
filled with a file and emptied again (mounting needs root, which the test suite has here;
without it the test fails saying so).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.collector.conftest import Collector, collector_process, migrated
from tests.collector.oncall_harness import SCHEDULE
from tests.services import free_port, wait_for

# The registry's background refresh would log its own failure when it happens to run during the
# outage (once per 30 s round); the request path is what is measured here.
CONFIG = "[registry]\nrefresh_seconds = 3600\n"


def call(collector: Collector, method: str, path: str, body: object = None,
         token: str = "admin") -> tuple[int, dict[str, str], object]:
    """(status, headers, parsed JSON body) -- the headers too, unlike Collector.call."""
    request = urllib.request.Request(
        collector.url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {collector.tokens[token]}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, dict(exc.headers), exc.read()
    return status, headers, json.loads(raw)


def queue_of(collector: Collector) -> list[dict]:
    everything = "status=open,acknowledged,resolved,closed&include_attached=true"
    status, _, body = call(collector, "GET", f"/api/v1/tickets?{everything}", token="viewer")
    assert status == 200, body
    return body["tickets"]


def tracebacks(log: str) -> int:
    """Logged tracebacks; a chained one ("The above exception was the direct cause ...") is
    one record, printed as several."""
    chained = (log.count("The above exception was the direct cause of the following exception")
               + log.count("During handling of the above exception, another exception occurred"))
    return log.count("Traceback (most recent call last)") - chained


# --------------------------------------------------------------------------------- PostgreSQL


@dataclass
class PrivateCluster:
    bindir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   f"-c fsync=off")
        _as_postgres(f"{self.bindir}/pg_ctl -D {self.data} -l {self.root}/server.log "
                     f"-o {shlex.quote(options)} -w -t 60 start")

    def stop(self, *, check: bool = True) -> None:
        _as_postgres(f"{self.bindir}/pg_ctl -D {self.data} -m immediate -w stop", check=check)


def _as_postgres(command: str, *, check: bool = True) -> None:
    # initdb refuses root; the cluster's files belong to postgres.
    result = subprocess.run(["su", "postgres", "-c", command], capture_output=True, text=True,
                            timeout=120, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stdout}\n"
                             f"{result.stderr}")


@contextlib.contextmanager
def private_postgres(root: Path | None = None) -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of this test's own (the shared server must not be stopped), in
    `root` (a directory the postgres user can reach) or a new one in /tmp."""
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bindirs:
        pytest.fail("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install "
                    "postgresql)")
    root = root or Path(tempfile.mkdtemp(prefix="regie-pg-"))  # /tmp: postgres must reach it
    shutil.chown(root, "postgres")
    cluster = PrivateCluster(bindir=bindirs[-1].parent, root=root, port=free_port())
    try:
        _as_postgres(f"{cluster.bindir}/initdb -D {cluster.data} -U postgres --auth=trust")
        cluster.start()
        yield cluster
    finally:
        cluster.stop(check=False)
        shutil.rmtree(root, ignore_errors=True)  # a mount point stays, emptied


def _create_database(url: str, name: str) -> None:
    async def main() -> None:
        import asyncpg

        connection = await asyncpg.connect(url, timeout=10)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(main())


# The loops that ask the database every half second on their own (on-call configured).
LOOPS = ("regie.collector.escalation: escalation sweep",
         "regie.collector.notify: notification delivery round")


def test_postgresql_outage_is_503_logged_once_and_recovers(tmp_path):
    (tmp_path / "oncall.yml").write_text(SCHEDULE)
    config = CONFIG + (f'\n[oncall]\nschedule_file = "{tmp_path / "oncall.yml"}"\n\n'
                       f'[[oncall.channels]]\nname = "log"\nkind = "file"\n'
                       f'path = "{tmp_path / "notifications.jsonl"}"\n')
    with private_postgres() as pg:
        _create_database(pg.url("postgres"), "regie")
        url = migrated(pg.url("regie"))
        with collector_process(tmp_path, url, config) as collector:
            log_file = tmp_path / f"collector-{collector.port}.log"
            status, _, before = call(collector, "POST", "/api/v1/tickets",
                                     {"summary": "before the outage"}, token="responder")
            assert status == 201, before

            pg.stop()
            answers = []
            for i in range(10):  # writes and reads, each failing on its own
                answers.append(call(collector, "POST", "/api/v1/tickets",
                                    {"summary": f"during the outage {i}"}, token="responder"))
                answers.append(call(collector, "POST", "/api/v1/alertmanager", {"alerts": [{
                    "status": "firing", "fingerprint": f"f{i}", "labels": {"alertname": "A"}}]},
                    token="ingest"))
                answers.append(call(collector, "GET", "/api/v1/tickets", token="viewer"))
            for status, headers, body in answers:
                assert status == 503, body
                assert headers["Retry-After"] == "5"
                assert headers["Content-Type"].startswith("application/json")
                assert body["error"].startswith("the database is unavailable"), body
            status, headers, health = _healthz(collector)
            assert (status, health["status"], health["error"]) == (
                503, "unavailable", "database unavailable"), health
            # The background loops fail round after round meanwhile.
            wait_for(lambda: all(f"ERROR {loop}:" in log_file.read_text() for loop in LOOPS),
                     timeout=30)

            pg.start()
            # The pool's connections died with the server: the first uses find that out.
            wait_for(lambda: _healthz(collector)[0] == 200, timeout=30)
            wait_for(lambda: all(f"WARNING {loop}: recovered after" in log_file.read_text()
                                 for loop in LOOPS), timeout=30)
            status, _, after = call(collector, "POST", "/api/v1/tickets",
                                    {"summary": "after the outage"}, token="responder")
            assert status == 201, after
            summaries = {t["summary"] for t in queue_of(collector)}
            assert summaries == {"before the outage", "after the outage"}  # nothing half-written
        log = log_file.read_text()
    # One traceback per failure streak: the requests' and each loop's, however many rounds.
    assert tracebacks(log) == 1 + len(LOOPS), log[-8000:]
    for streak in ("regie.collector: database unavailable", *LOOPS):
        assert log.count(f"ERROR {streak}:") == 1, log[-8000:]
        assert f"WARNING {streak}: recovered after" in log, log[-8000:]


def _healthz(collector: Collector) -> tuple[int, dict[str, str], dict]:
    request = urllib.request.Request(collector.url + "/healthz")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


# --------------------------------------------------------------------------------- full disk


@contextlib.contextmanager
def small_disk(path: Path, size: str = "4m") -> Iterator[Path]:
    """A real filesystem of `size` at `path` (tmpfs), unmounted afterwards."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True, timeout=30, check=False)
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs for the full-disk test (needs root): "
                    f"{mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30,
                       check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler"
    # Unbuffered: the write that finds the disk full raises, and closing has nothing left.
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):  # ENOSPC
        while True:
            out.write(b"\0" * 65536)
    return filler


def test_full_disk_is_507_healthz_503_and_recovers(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        db = migrated(f"sqlite:///{disk / 'regie.db'}")
        with collector_process(tmp_path, db, CONFIG) as collector:
            status, _, first = call(collector, "POST", "/api/v1/tickets",
                                    {"summary": "before the disk filled"}, token="responder")
            assert status == 201, first

            filler = fill(disk)
            # A page or two may still fit in space SQLite holds already; pages of 20,000
            # characters each do not, for long.
            answers = [call(collector, "POST", "/api/v1/tickets",
                            {"summary": f"full {i}", "description": "x" * 20_000},
                            token="responder") for i in range(12)]
            assert [a[0] for a in answers].count(507) >= 10, [a[0] for a in answers]
            for status, headers, body in answers:
                if status == 507:
                    assert body == {"error": "the database's disk is full; nothing was written"}
                    assert headers["Content-Type"].startswith("application/json")
                    assert "Retry-After" in headers
                else:
                    assert status == 201, body
            # Reads still work; readiness says writes do not.
            assert call(collector, "GET", "/api/v1/tickets?limit=1", token="viewer")[0] == 200
            status, _, health = _healthz(collector)
            assert (status, health["error"]) == (503, "database disk full"), health

            filler.unlink()
            wait_for(lambda: _healthz(collector)[0] == 200, timeout=30)
            status, _, after = call(collector, "POST", "/api/v1/tickets",
                                    {"summary": "after space was freed"}, token="responder")
            assert status == 201, after
            written = {t["summary"] for t in queue_of(collector)}
            refused = {f"full {i}" for i, a in enumerate(answers) if a[0] == 507}
            assert not written & refused  # a 507 wrote nothing
            assert {"before the disk filled", "after space was freed"} <= written
        log = (tmp_path / f"collector-{collector.port}.log").read_text()
    assert tracebacks(log) == 1, log[-6000:]
    assert log.count("ERROR regie.collector: database disk full:") == 1, log[-6000:]
    assert "WARNING regie.collector: database disk full: recovered after" in log, log[-6000:]


def _alerts(prefix: str, n: int) -> dict:
    """An Alertmanager webhook of `n` firing alerts, each with a 4,000-character annotation
    (pages SQLite cannot find room for on a full disk)."""
    return {"version": "4", "status": "firing", "receiver": "regie", "alerts": [
        {"status": "firing", "fingerprint": f"{prefix}{i:04d}",
         "labels": {"alertname": "DiskTest", "instance": f"h{i}:9100", "severity": "warning"},
         "annotations": {"summary": f"{prefix} {i}", "description": "x" * 4_000},
         "startsAt": "2026-12-07T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}
        for i in range(n)]}


def test_full_disk_refuses_alerts_with_507_and_recovers(tmp_path):
    """The alert intake's transactions on SQLite run on their own writer thread and connection
    (collector/store/sqlite_writer.py): a full disk there is the same 507, nothing of the
    refused batches is stored, readiness turns 503, and once space is freed the next batch
    commits and readiness is back. (That the writer's commits reach the engine's observers is
    tests/collector/store/test_sqlite_writer.py's.)"""
    with small_disk(tmp_path / "disk") as disk:
        db = migrated(f"sqlite:///{disk / 'regie.db'}")
        with collector_process(tmp_path, db, CONFIG) as collector:
            status, _, first = call(collector, "POST", "/api/v1/alertmanager",
                                    _alerts("before", 2), token="ingest")
            assert status == 200, first
            filler = fill(disk)
            answers = [call(collector, "POST", "/api/v1/alertmanager", _alerts(f"full{i}-", 20),
                            token="ingest") for i in range(8)]
            assert [a[0] for a in answers].count(507) >= 6, [a[0] for a in answers]
            for status, headers, body in answers:
                if status == 507:
                    assert body == {"error": "the database's disk is full; nothing was written"}
                    assert "Retry-After" in headers
                else:
                    assert status == 200, body
            assert _healthz(collector)[0] == 503
            filler.unlink()
            status, _, after = call(collector, "POST", "/api/v1/alertmanager",
                                    _alerts("after", 2), token="ingest")
            assert status == 200, after
            wait_for(lambda: _healthz(collector)[0] == 200, timeout=30)
            written = {t["summary"] for t in queue_of(collector)}
            refused = {f"full{i}- {j}" for i, a in enumerate(answers) if a[0] == 507
                       for j in range(20)}
            assert not written & refused
            assert {"before 0", "before 1", "after 0", "after 1"} <= written
        log = (tmp_path / f"collector-{collector.port}.log").read_text()
    assert log.count("ERROR regie.collector: database disk full:") == 1, log[-6000:]
    assert "WARNING regie.collector: database disk full: recovered after" in log, log[-6000:]


def test_postgresql_full_disk_is_507_and_recovers(tmp_path):
    """PostgreSQL's own disk full (SQLSTATE 53100, "could not extend file"): its cluster lives
    on a 96 MiB tmpfs that the test fills. Its WAL segments are allocated already, so the
    server keeps running and only new table pages fail, as on a real full disk."""
    mount = Path(tempfile.mkdtemp(prefix="regie-pgdisk-"))  # /tmp: postgres must reach it
    mount.chmod(0o755)
    try:
        log = _full_postgresql(tmp_path, mount)
    finally:
        shutil.rmtree(mount, ignore_errors=True)
    assert tracebacks(log) == 1, log[-6000:]
    assert log.count("ERROR regie.collector: database disk full:") == 1, log[-6000:]
    assert "WARNING regie.collector: database disk full: recovered after" in log, log[-6000:]


def _full_postgresql(tmp_path: Path, mount: Path) -> str:
    with small_disk(mount / "disk", size="96m") as disk, private_postgres(disk) as pg:
        _create_database(pg.url("postgres"), "regie")
        url = migrated(pg.url("regie"))
        with collector_process(tmp_path, url, CONFIG) as collector:
            status, _, first = call(collector, "POST", "/api/v1/tickets",
                                    {"summary": "before the disk filled"}, token="responder")
            assert status == 201, first

            filler = fill(disk)
            # Random text, so that compression cannot fit it into pages the table has.
            answers = [call(collector, "POST", "/api/v1/tickets",
                            {"summary": f"full {i}", "description": _noise(20_000)},
                            token="responder") for i in range(12)]
            assert [a[0] for a in answers].count(507) >= 10, [a[0] for a in answers]
            for status, headers, body in answers:
                if status == 507:
                    assert body == {"error": "the database's disk is full; nothing was written"}
                    assert headers["Retry-After"] == "60"
                else:
                    assert status == 201, body
            assert call(collector, "GET", "/api/v1/tickets?limit=1", token="viewer")[0] == 200

            filler.unlink()
            status, _, after = call(collector, "POST", "/api/v1/tickets",
                                    {"summary": "after space was freed",
                                     "description": _noise(20_000)}, token="responder")
            assert status == 201, after
            written = {t["summary"] for t in queue_of(collector)}
            refused = {f"full {i}" for i, a in enumerate(answers) if a[0] == 507}
            assert not written & refused
            assert {"before the disk filled", "after space was freed"} <= written
        return (tmp_path / f"collector-{collector.port}.log").read_text()


def _noise(length: int) -> str:
    return base64.b64encode(os.urandom(length)).decode()[:length]
