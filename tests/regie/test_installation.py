"""The one rule that finds the installation, and what the installation file resolves."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.config import AgentSettings
from agent.config import load_settings as load_agent
from collector.config import CollectorSettings
from collector.config import load_settings as load_collector
from regie import installation
from regie.configfile import ConfigError
from regie.installation import (
    SECTIONS,
    find_config,
    load,
    missing_database,
    missing_database_message,
)


@pytest.fixture
def places(tmp_path):
    """A working directory, a system file's place and an explicit file, none existing yet."""
    cwd, etc = tmp_path / "cwd", tmp_path / "etc"
    cwd.mkdir()
    etc.mkdir()
    return cwd, etc / "regie.toml", tmp_path / "mine.toml"


def touch(path: Path) -> Path:
    path.write_text("")
    return path


def test_the_rule_in_order(places):
    cwd, system, mine = places
    find = lambda flag, env: find_config(flag, env, cwd, system)  # noqa: E731
    assert find(None, {}) is None
    touch(system)
    assert find(None, {}) == system
    local = touch(cwd / "regie.toml")
    assert find(None, {}) == local
    env_file = touch(cwd / "env.toml")
    assert find(None, {"REGIE_CONFIG": str(env_file)}) == env_file
    assert find(touch(mine), {"REGIE_CONFIG": str(env_file)}) == mine


def test_a_named_file_must_exist(places):
    cwd, system, mine = places
    touch(system)  # never a silent fallback when a name was given
    with pytest.raises(ConfigError) as info:
        find_config(mine, {}, cwd, system)
    assert str(info.value) == f"{mine}: no such file (named by --config)"
    with pytest.raises(ConfigError) as info:
        find_config(None, {"REGIE_CONFIG": str(mine)}, cwd, system)
    assert str(info.value) == f"{mine}: no such file (named by $REGIE_CONFIG)"
    assert find_config(None, {"REGIE_CONFIG": " "}, cwd, system) == system


def test_sections_table_matches_the_settings_of_each_role():
    collector = {f.name for f in dataclasses.fields(CollectorSettings)
                 if not f.metadata.get("internal")}
    agent = {f.name for f in dataclasses.fields(AgentSettings) if not f.metadata.get("internal")}
    assert SECTIONS["collector"] == collector
    assert SECTIONS["agent"] == agent
    assert not SECTIONS["collector"] & SECTIONS["agent"]


def test_one_file_for_every_role_with_paths_beside_it(tmp_path, monkeypatch):
    """Relative paths mean beside the file, whatever the working directory."""
    home = tmp_path / "install"
    home.mkdir()
    for name in ("admin.token", "agent.token"):
        (home / name).write_text("regie_t0ken\n")
    root = Path(__file__).resolve().parents[2]
    (home / "rules.yml").write_text((root / "collector/data/default_rules.yml").read_text())
    (home / "oncall.yml").write_text((root / "deploy/oncall.example.yml").read_text())
    config = home / "regie.toml"
    config.write_text("""
[server]
listen = "0.0.0.0:18847"
[database]
url = "sqlite:///state/regie.db"
[evaluator]
rules_file = "rules.yml"
[oncall]
schedule_file = "oncall.yml"
[[oncall.channels]]
name = "f"
kind = "file"
path = "pages.jsonl"
[cli]
token_file = "admin.token"
[push]
collector = "http://127.0.0.1:18847"
token_file = "agent.token"
spool_dir = "spool"
""")
    monkeypatch.chdir(tmp_path)  # not the file's directory
    collector = load_collector(config)
    assert collector.database.url == f"sqlite:///{home / 'state' / 'regie.db'}"
    assert collector.evaluator.rules_file == home / "rules.yml"
    assert collector.oncall.schedule_file == home / "oncall.yml"
    assert collector.oncall.channels[0].channel.settings.path == str(home / "pages.jsonl")
    agent = load_agent(config)
    assert agent.push.spool_dir == home / "spool"
    assert agent.push.token_file == home / "agent.token"
    found = load(config)
    assert found.cli.token_file == home / "admin.token"
    assert found.api_url == "http://127.0.0.1:18847"  # every address: reached on loopback
    assert found.path_setting("oncall", "schedule_file") == home / "oncall.yml"
    # Flags keep their usual meaning (the working directory) and win over the file.
    assert load_collector(config, db="sqlite:///x.db").database.url == "sqlite:///x.db"


def test_an_unknown_table_is_refused_with_a_suggestion(tmp_path):
    config = tmp_path / "regie.toml"
    config.write_text("[serverr]\nlisten = '127.0.0.1:1'\n")
    for loader in (load_collector, load_agent, load):
        with pytest.raises(ConfigError) as info:
            loader(config)
        assert str(info.value) == f"{config}: serverr: unknown key (did you mean 'server'?)"


@pytest.mark.parametrize(
    ("cli", "server", "url"),
    [
        ("", "", "http://127.0.0.1:8847"),
        ("[cli]\nurl = 'https://regie.example.net/'\n", "", "https://regie.example.net"),
        ("", "[server]\nlisten = '10.0.0.5:9000'\n", "http://10.0.0.5:9000"),
        ("", "[server]\nlisten = '[::]:9000'\ntls_cert_file = 'c.pem'\n", "https://[::1]:9000"),
    ],
)
def test_api_url(tmp_path, cli, server, url):
    config = tmp_path / "regie.toml"
    config.write_text(cli + server)
    assert load(config).api_url == url


def test_cli_url_is_checked(tmp_path):
    config = tmp_path / "regie.toml"
    config.write_text("[cli]\nurl = 'regie.example.net'\n")
    with pytest.raises(ConfigError, match=r"cli\.url: must start with http:// or https://"):
        load(config)


def test_missing_database(tmp_path):
    present = touch(tmp_path / "here.db")
    assert missing_database(f"sqlite:///{present}") is None
    assert missing_database(f"sqlite:///{tmp_path / 'gone.db'}") == tmp_path / "gone.db"
    assert missing_database("sqlite+aiosqlite:///gone.db") == Path("gone.db")
    assert missing_database("postgresql://regie@db/regie") is None
    assert missing_database_message(Path("/x/r.db"), Path("/x/regie.toml"), None) == (
        "database /x/r.db does not exist: create it with "
        "`regie collector migrate --config /x/regie.toml`")


def test_no_installation_is_an_empty_one(tmp_path):
    found = installation.locate(environ={}, cwd=tmp_path)
    if installation.SYSTEM_FILE.exists():  # a machine with Regie installed
        pytest.fail(f"{installation.SYSTEM_FILE} exists on this machine; the test expects none")
    assert found.path is None and found.cli.token_file is None
    assert "no installation file" in found.describe()


def test_raw_tables_are_never_shown(tmp_path):
    config = tmp_path / "regie.toml"
    config.write_text("[[snmp.targets]]\nname = 'sw'\naddress = '192.0.2.1'\n"
                      "version = '2c'\ncommunity = 'hunter2-secret'\n")
    assert "hunter2-secret" not in repr(load(config))
