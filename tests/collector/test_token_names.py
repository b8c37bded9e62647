"""Token names are one printable word: they are timeline actors and a column of `token list`.

Through the real command line (`regie collector token create|list`) on a migrated SQLite
database, and through the store itself.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from collector.auth import token_name
from tests.collector.conftest import _in_process, regie


@pytest.mark.parametrize("name", ["", " ", "-leading-dash", "two words", "line\nbreak",
                                  "tab\there", "x" * 65, "caf\u00e9", "semi;colon", "a/b"])
def test_cli_refuses_a_bad_name_and_stores_nothing(sqlite_db, name):
    result = regie("collector", "token", "create", "--role", "viewer", f"--name={name}",
                   "--db", sqlite_db, check=False)
    assert result.returncode == 2
    assert "argument --name: token name" in result.stderr, result.stderr
    assert "letters, digits, '.', '_', '@' and '-'" in result.stderr
    assert "Traceback" not in result.stderr
    listed = regie("collector", "token", "list", "--db", sqlite_db).stdout.splitlines()
    assert len(listed) == 1  # the header only


@pytest.mark.parametrize("name", ["alertmanager", "agent.web-01", "ops@example.org", "A_1",
                                  "x" * 64])
def test_good_names_are_kept(name):
    assert token_name(name) == name


def test_the_store_refuses_what_the_cli_refuses(sqlite_db):
    from collector.store.tokens import TokenStore

    async def work(engine):
        with pytest.raises(ValueError, match="is not allowed"):
            await TokenStore(engine).create("bad\nname", "viewer", "0" * 64, datetime.now(UTC))
        return await TokenStore(engine).list()

    assert asyncio.run(_in_process(sqlite_db, work)) == []
