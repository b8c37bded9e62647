"""`regie collector` start-up refusals: one line naming the problem and the fix, exit 2."""

from __future__ import annotations

import re

from tests.collector.conftest import regie
from tests.services import free_port


def test_missing_database_is_refused_with_the_fix_and_not_created(tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    result = regie("collector", "run", "--db", db, "--listen", f"127.0.0.1:{free_port()}",
                   check=False)
    assert result.returncode == 2
    assert result.stderr == (f"regie collector: database {tmp_path / 'empty.db'} does not "
                             f"exist: create it with `regie collector migrate --db {db}`\n")
    assert not (tmp_path / "empty.db").exists()


def test_unmigrated_database_is_refused_with_the_fix(tmp_path):
    (tmp_path / "empty.db").write_bytes(b"")  # an empty file: SQLite's empty database
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    result = regie("collector", "run", "--db", db, "--listen", f"127.0.0.1:{free_port()}",
                   check=False)
    assert result.returncode == 2
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("regie collector:")]
    assert "run `regie collector migrate" in line, result.stderr
    assert "Traceback" not in result.stderr


def test_bad_database_url_is_one_line(tmp_path):
    result = regie("collector", "migrate", "--db", "mysql://x@y/z", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("regie collector: database.url: ")
    assert "Traceback" not in result.stderr


def test_bad_config_names_file_and_key(tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text('[criticality.hosts]\n"db-01" = "vital"\n')
    result = regie("collector", "run", "--config", str(conf), check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"regie collector: {conf}: criticality.hosts.db-01: must be one of "
        "'business-critical', 'high', 'medium', 'low', not 'vital'")


def test_migrate_is_idempotent_and_says_where(tmp_path):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    first = regie("collector", "migrate", "--db", db)
    second = regie("collector", "migrate", "--db", db)
    assert first.stdout == second.stdout
    assert re.fullmatch(rf"{re.escape(db)}: schema at revision \d{{4}}\n", first.stdout)
