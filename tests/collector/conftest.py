"""The real collector, as its own process, on SQLite or a throw-away PostgreSQL database.

Everything goes through the real command line: `regie collector migrate`, `regie collector
token create`, `regie collector run`. PostgreSQL is the server on 127.0.0.1:5432 (trust auth,
database `test`); each test gets its own database, dropped afterwards. If that server does not
answer, the tests fail (make test starts it), never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.services import free_port, http_ok, running

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def regie(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "regie", *args], capture_output=True,
                            text=True, timeout=120, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"regie {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def pg_admin(*statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE) on the server's `test` database."""

    async def main() -> None:
        import asyncpg

        try:
            connection = await asyncpg.connect(PG_ADMIN, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 does not answer ({exc}); start it with "
                        f"'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main "
                        f"start', or run the suite with 'make test', which does")
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(main())


@contextlib.contextmanager
def throwaway_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database URL of `kind` ('sqlite' or 'postgresql'), empty, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'regie.db'}"
        return
    name = f"regie_test_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated(url: str) -> str:
    from collector.store.engine import migrate

    migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def collector_db(request, tmp_path) -> Iterator[str]:
    """A fresh migrated database on each backend, for tests that need one of their own."""
    with throwaway_database(request.param, tmp_path) as url:
        yield migrated(url)


@pytest.fixture
def oncall(collector_db, tmp_path):
    """A collector with on-call (tests/collector/oncall_harness.py OnCall) on each backend."""
    from tests.collector.oncall_harness import OnCall

    return OnCall(db=collector_db, tmp_path=tmp_path, tokens=create_tokens(collector_db))


@pytest.fixture
def sqlite_db(tmp_path) -> str:
    return migrated(f"sqlite:///{tmp_path / 'regie.db'}")


def create_token(db: str, role: str, name: str) -> str:
    """Through the real CLI (`regie collector token create`)."""
    return regie("collector", "token", "create", "--role", role, "--name", name,
                 "--db", db).stdout.strip()


async def _in_process(db: str, work) -> Any:
    from collector.store.engine import create_engine, database_url

    engine = create_engine(database_url(db))
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def create_tokens(db: str) -> dict[str, str]:
    """One token per role, stored the way the CLI stores them (in-process: faster)."""
    from datetime import UTC, datetime

    from collector.auth import new_token, token_hash
    from collector.store.tokens import TokenStore

    async def work(engine) -> dict[str, str]:
        store, out = TokenStore(engine), {}
        for role in ROLES:
            out[role] = new_token()
            await store.create(f"{role}-{uuid.uuid4().hex[:6]}", role, token_hash(out[role]),
                               datetime.now(UTC))
        return out

    return asyncio.run(_in_process(db, work))


def wipe(db: str) -> None:
    """Empty the ticket queue, inventory and registry (tokens stay), between tests sharing a
    collector."""
    from collector.store.models import (
        ActionUseRow,
        AssetRow,
        ChangeEventRow,
        ChangeHostRow,
        ChangeRow,
        ContractRow,
        EosProductRow,
        EscalationRow,
        HardwareModelRow,
        HostSoftwareRow,
        InventoryPushRow,
        NotificationRow,
        PackageUpdateRow,
        RegistrySyncRow,
        TicketEventRow,
        TicketRow,
        VendorCaseEventRow,
        VendorCaseLinkRow,
        VendorCaseRow,
    )

    async def work(engine) -> None:
        async with engine.begin() as connection:
            for row in (ChangeEventRow, ChangeHostRow, ChangeRow):
                await connection.execute(row.__table__.delete())
            for row in (NotificationRow, VendorCaseEventRow, VendorCaseLinkRow, VendorCaseRow,
                        EscalationRow, ActionUseRow, TicketEventRow,
                        TicketRow, InventoryPushRow, HostSoftwareRow, AssetRow, ContractRow,
                        HardwareModelRow, EosProductRow, RegistrySyncRow, PackageUpdateRow):
                table = row.__table__
                await connection.execute(table.delete())

    asyncio.run(_in_process(db, work))


@dataclass
class Collector:
    url: str
    port: int
    db: str
    tokens: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = "admin",
             raw: bytes | None = None, headers: dict[str, str] | None = None
             ) -> tuple[int, Any]:
        """(status, parsed JSON or text) for one request; never raises on 4xx/5xx."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                           else None)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode(errors="replace")


ROLES = ("admin", "responder", "viewer", "ingest", "agent", "change_manager")


def evaluator_config(tmp_path: Path, rules: str, targets: dict[int, str | None], *,
                     interval: float = 1, scrape_timeout: float | None = None) -> str:
    """The `[evaluator]` settings of a test: `rules` written to tmp_path/rules.yml, one target
    per loopback port (with its `host`, when given)."""
    path = tmp_path / "rules.yml"
    path.write_text(rules)
    lines = ["[evaluator]", f"interval_seconds = {interval}"]
    if scrape_timeout is not None:
        lines.append(f"scrape_timeout_seconds = {scrape_timeout}")
    lines.append(f'rules_file = "{path}"')
    for port, host in targets.items():
        lines += ["[[evaluator.targets]]", f'address = "127.0.0.1:{port}"']
        if host is not None:
            lines.append(f'host = "{host}"')
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def collector_process(tmp_path: Path, db: str, config: str = "",
                      tokens: dict[str, str] | None = None) -> Iterator[Collector]:
    """Run `regie collector run`; `tokens` reuses those of an earlier run on the same db."""
    port = free_port()
    conf = tmp_path / "collector.toml"
    conf.write_text(config)
    issued = tokens if tokens is not None else create_tokens(db)
    argv = [sys.executable, "-m", "regie", "collector", "run", "--config", str(conf),
            "--db", db, "--listen", f"127.0.0.1:{port}"]
    url = f"http://127.0.0.1:{port}"
    with running(argv, log=tmp_path / f"collector-{port}.log",
                 ready=lambda: http_ok(f"{url}/healthz"), what="regie collector") as proc:
        yield Collector(url=url, port=port, db=db, tokens=issued, process=proc)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def shared_collector(request, tmp_path_factory) -> Iterator[Collector]:
    """One real collector process per backend for the session, with one token per role."""
    tmp = tmp_path_factory.mktemp(f"collector-{request.param}")
    with throwaway_database(request.param, tmp) as url, \
            collector_process(tmp, migrated(url)) as service:
        yield service


@pytest.fixture
def collector(shared_collector) -> Collector:
    """The shared collector with an empty queue (its counters keep counting: use deltas)."""
    wipe(shared_collector.db)
    return shared_collector
