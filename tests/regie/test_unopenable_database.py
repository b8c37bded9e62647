"""A database that cannot be reached or opened is one line and exit status 2 from every command
that opens one, never a traceback: a PostgreSQL host that does not resolve, a port nobody
listens on, a SQLite path that is a directory or a file that is not a database. Real commands
(subprocess), real sockets; the PostgreSQL cases need no server (that is the point)."""

from __future__ import annotations

import pytest

from tests.regie.test_cli_bad_input import regie
from tests.services import free_port

COMMANDS = [
    ("collector", "migrate"),
    ("collector", "token", "list"),
    ("collector", "token", "create", "--role", "viewer", "--name", "x"),
    ("deploy", "prometheus-targets", "--out", "-"),
    ("registry", "eos"),
    ("registry", "hardware"),
    ("patch", "status"),
    ("report", "governance", "--quarter", "2026Q3", "--out", "review.md"),
]


def _databases(tmp_path) -> dict[str, str]:
    directory = tmp_path / "a-directory.db"
    directory.mkdir()
    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"this is no SQLite database, only text " * 200)
    return {"no such host": "postgresql://regie@nohost.invalid/regie",
            "refused": f"postgresql://regie@127.0.0.1:{free_port()}/regie",
            "directory": f"sqlite:///{directory}",
            "not a database": f"sqlite:///{garbage}"}


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_database_that_cannot_be_opened_is_one_line(command, tmp_path):
    for what, url in _databases(tmp_path).items():
        result = regie(*command, "--db", url, cwd=tmp_path)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (what, result.stderr)
        assert len(lines) == 1 and "cannot open the database" in lines[0], (what, lines)
        assert "Traceback" not in result.stderr and "Exception in thread" not in result.stderr
        assert not (tmp_path / "review.md").exists()
