"""`regie demo --history`: the history is played through the collector's API with a simulated
clock (collector/demo_history.py) into a demo installation, and is the same for the same seed
and day: two installations played apart hold the same tickets and give the same governance
review. Real SQLite databases, the real application on a loopback port; only time is
simulated."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from tests.collector.conftest import _in_process, regie
from tests.services import free_port

DAYS, TODAY = 14, date(2026, 11, 30)


def installation(state: Path):
    from collector.config import load_settings
    from collector.demo import _token, _write_installation
    from collector.store.engine import migrate

    state.mkdir()
    config = _write_installation(state, argparse.Namespace(
        listen=f"127.0.0.1:{free_port()}", agent_listen=f"127.0.0.1:{free_port()}",
        interval=15.0))
    settings = load_settings(config)
    migrate(settings.database.url)
    token = asyncio.run(_token(settings.database.url, "admin", "demo-admin",
                               state / "admin.token"))
    return settings, token


def play(state: Path, seed: int) -> tuple[Path, str, str]:
    from collector.demo_history import ensure

    settings, token = installation(state)
    path, summary = asyncio.run(ensure(settings, state, days=DAYS, seed=seed, token=token,
                                       port=free_port(), today=TODAY))
    return path, summary, settings.database.url


def rows(db: str, sql: str) -> list[tuple]:
    from sqlalchemy import text

    async def work(engine):
        async with engine.connect() as connection:
            return [tuple(r) for r in (await connection.execute(text(sql))).all()]

    return asyncio.run(_in_process(db, work))


def tickets(db: str) -> list[tuple]:
    return rows(db, "SELECT priority, status, host, component, source, created_at, "
                    "acknowledged_at, resolved_at FROM tickets ORDER BY id")


@pytest.mark.timeout(300)
def test_the_same_seed_gives_the_same_history_and_review(tmp_path):
    first_path, first_summary, first_db = play(tmp_path / "one", seed=7)
    _, second_summary, second_db = play(tmp_path / "two", seed=7)
    assert first_summary == second_summary
    made = tickets(first_db)
    assert made == tickets(second_db)
    # A history worth reporting on: both sources, several priorities, work done on most,
    # the failing component first among monitoring alerts.
    assert {t[4] for t in made} == {"monitoring", "user"}
    assert len({t[0] for t in made}) >= 3
    assert sum(1 for t in made if t[7] is not None) > len(made) * 0.8
    components = Counter(t[3] for t in made if t[4] == "monitoring")
    assert components.most_common(1)[0][0] == "storage"
    # Every ticket opened within the history's days, none before.
    created = sorted(str(t[5]) for t in made)
    assert created[0] >= "2026-11-16" and created[-1] < "2026-11-30"
    # The review: HTML written; the JSON the command gives for those days matches its signals.
    html = first_path.read_text()
    assert "Governance review 2026-11-16..2026-11-29" in html
    out = tmp_path / "review.json"
    regie("report", "governance", "--from", "2026-11-16", "--to", "2026-11-29", "--format",
          "json", "--out", str(out), "--db", first_db)
    body = json.loads(out.read_text())
    for signal in body["signals"]:
        assert signal["sentence"].replace("&", "&amp;") in html.replace("&#x27;", "'")
    # Changes, patching and vendor cases are in the history too, made through the same API:
    # a patch change whose hosts' pushes show the update installed (most in the window, some
    # late), a rolled-back change with the incident it caused, open vendor cases.
    assert {"patch_lag", "changes_incidents"} <= {s["rule"] for s in body["signals"]}
    changes = rows(first_db, "SELECT type, status, outcome FROM changes ORDER BY id")
    assert changes == [("standard", "completed", "successful"),
                       ("emergency", "completed", "rolled_back")]
    lags = rows(first_db, "SELECT u.installed_at FROM package_updates u "
                          "WHERE u.package = 'openssl' AND u.installed_at IS NOT NULL")
    assert len(lags) >= 12 and body["patch_lag"]["hosts_applied"] >= 12
    assert sorted(r[0] for r in rows(first_db, "SELECT status FROM vendor_cases")) == [
        "closed", "waiting_on_us", "waiting_on_us"]
    assert changes == rows(second_db, "SELECT type, status, outcome FROM changes ORDER BY id")
    # A different seed, a different history.
    _, _, other_db = play(tmp_path / "three", seed=8)
    assert tickets(other_db) != made
    # Played once per installation: asking again writes the review, adds nothing.
    play_again = asyncio.run(_again(tmp_path / "one"))
    assert play_again == first_summary and tickets(first_db) == made


async def _again(state: Path) -> str:
    from collector.config import load_settings
    from collector.demo_history import ensure

    settings = load_settings(state / "regie.toml")
    _, summary = await ensure(settings, state, days=DAYS, seed=7,
                              token=(state / "admin.token").read_text().strip(),
                              port=free_port(), today=TODAY)
    return summary
