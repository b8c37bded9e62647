"""Finding the installation: the one rule every `regie` subcommand follows.

An installation is one TOML file (conventionally `regie.toml`) naming everything the commands
need: the collector's database and on-call schedule, the API address and token for the
ticket client, the agent's settings. Every subcommand finds it the same way:

    --config FILE, else $REGIE_CONFIG, else ./regie.toml, else /etc/regie/regie.toml

A file named by the flag or the variable must exist (a typo must not silently fall back to
defaults); the two conventional places are used only when they exist. With no file at all, each
command runs on its built-in defaults. Relative paths inside the file resolve against the
file's directory (`Source`), so `export REGIE_CONFIG=/srv/regie-demo/regie.toml` works from any
working directory. docs/configuration.md ("Finding the installation") is the user's version.

One file may hold several roles' tables: the collector reads its own, the agent its own, the
CLI `[cli]`; a table no role knows is an error (with a suggestion), as an unknown key is.
Standard library only: every role, the agent included, imports this.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regie.configfile import ConfigError, Source, build, check, load_toml

ENV = "REGIE_CONFIG"
FILE_NAME = "regie.toml"
SYSTEM_FILE = Path("/etc/regie/regie.toml")
RULE = f"--config FILE, ${ENV}, ./{FILE_NAME}, {SYSTEM_FILE}"
DEFAULT_URL = "http://127.0.0.1:8847"

# The top-level tables of each role. One table per line: a test checks this against the
# collector's and the agent's settings dataclasses, so a new section cannot be forgotten here.
SECTIONS: dict[str, frozenset[str]] = {
    "collector": frozenset({"server", "database", "evaluator", "criticality", "priority",
                            "oncall", "registry", "ui", "maintenance", "changes", "vendor_cases"}),
    "agent": frozenset({"http", "health", "push", "snmp"}),
    "cli": frozenset({"cli"}),
}


def find_config(flag: Path | None, environ: Mapping[str, str], cwd: Path,
                system: Path = SYSTEM_FILE) -> Path | None:
    """The installation file by the one rule, or None (built-in defaults).

    Raises ConfigError when --config or $REGIE_CONFIG names a file that does not exist.
    """
    if flag is not None:
        return _named(flag, "--config")
    named = environ.get(ENV, "").strip()
    if named:
        return _named(Path(named).expanduser(), f"${ENV}")
    for candidate in (cwd / FILE_NAME, system):
        if candidate.is_file():
            return candidate
    return None


def _named(path: Path, by: str) -> Path:
    """`path` when it is a file; else ConfigError saying why, also for a name the system
    cannot even look up (too long: is_file() raised OSError rather than saying no)."""
    shown = str(path) if len(str(path)) <= 200 else f"{str(path)[:200]}..."
    try:
        found = path.is_file()
    except OSError as exc:
        raise ConfigError(shown, "-", f"cannot be looked up: {exc.strerror or exc} (named by "
                                      f"{by})") from None
    if not found:
        raise ConfigError(shown, "-", f"no such file (named by {by})")
    return path


def role_sections(data: Mapping[str, Any], role: str, source: str) -> dict[str, Any]:
    """The tables of `data` that belong to `role`; an unknown table is a ConfigError."""
    known = frozenset().union(*SECTIONS.values())
    for key in data:
        if key not in known:
            import difflib  # only on this error path

            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(source, str(key), f"unknown key{hint}")
    return {k: v for k, v in data.items() if k in SECTIONS[role]}


def settings_source(path: Path | None) -> str:
    """The `source` a loader passes to `build()`: the file (relative paths resolve beside it)
    or "<command line>" when there is no file."""
    return Source.of_file(path) if path is not None else "<command line>"


def _http_url(value: str) -> str | None:
    from regie.inputs import url_problem

    return url_problem(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CliSettings:
    # The collector's API for `regie ticket`; unset: derived from [server] listen.
    url: str | None = field(default=None, metadata=check(_http_url))
    # A file whose first line is an API token for `regie ticket`.
    token_file: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Installation:
    """The installation file found by the rule, read once (each role validates its tables)."""

    path: Path | None
    cli: CliSettings = CliSettings()
    # The file's tables as read; the collector and the agent build their typed settings from
    # these with their own loaders. Here only what the CLI needs is looked at. Never shown:
    # raw tables may hold secrets (SNMP passwords) that only the typed settings mask.
    tables: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def source(self) -> str:
        return settings_source(self.path)

    @property
    def api_url(self) -> str:
        """[cli] url, else the collector's own address from [server], else the default."""
        if self.cli.url:
            return self.cli.url.rstrip("/")
        server = self.tables.get("server") or {}
        listen = server.get("listen") if isinstance(server, Mapping) else None
        if not isinstance(listen, str) or ":" not in listen:
            return DEFAULT_URL
        host, _, port = listen.rpartition(":")
        # A collector listening on every address is reached on this machine over loopback.
        host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)  # noqa: S104 (a match)
        scheme = "https" if server.get("tls_cert_file") else "http"
        return f"{scheme}://{host}:{port}"

    def path_setting(self, table: str, key: str) -> Path | None:
        """A path-valued key of another role's table (e.g. oncall.schedule_file), resolved
        beside the file; None when unset. Only its type is checked here."""
        section = self.tables.get(table) or {}
        value = section.get(key) if isinstance(section, Mapping) else None
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(self.source, f"{table}.{key}", "must be a non-empty string")
        source = self.source
        return source.resolve(Path(value)) if isinstance(source, Source) else Path(value)

    def describe(self) -> str:
        return str(self.path) if self.path else f"no installation file ({RULE})"


def load(path: Path | None) -> Installation:
    """Read the installation file (None: an empty installation on built-in defaults)."""
    if path is None:
        return Installation(path=None)
    source = settings_source(path)
    data = load_toml(path)
    role_sections(data, "cli", source)  # refuses unknown tables
    cli = build(CliSettings, data.get("cli", {}), source=source, prefix="cli")
    return Installation(path=path, cli=cli, tables=data)


def locate(flag: Path | None = None, *, environ: Mapping[str, str] | None = None,
           cwd: Path | None = None) -> Installation:
    """find_config + load with the process's environment and working directory."""
    env = os.environ if environ is None else environ
    return load(find_config(flag, env, Path.cwd() if cwd is None else cwd))


def missing_database(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (else None: present, or not SQLite).

    Reading commands check this first: opening a missing SQLite file would create an empty
    database as a side effect, and the next command would find it and fail differently.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("sqlite") or not rest.startswith("/"):
        return None
    name = rest[1:].split("?", 1)[0]
    if not name or name == ":memory:":
        return None
    path = Path(name)
    return None if path.exists() else path


def missing_database_message(path: Path, config: Path | None, db_flag: str | None) -> str:
    """One line for a missing SQLite file: which file, and the command that creates it."""
    return (f"database {path.absolute()} does not exist: create it with "
            f"`{migrate_command(config, db_flag)}`")


def migrate_command(config: Path | None, db_flag: str | None) -> str:
    """`regie collector migrate` for the installation a command found, named the way it was
    found: the --db it was given (without a password: messages end up in logs), else the
    installation file, else nothing (no file: the settings' defaults)."""
    how = (f"--db {_without_password(db_flag)}" if db_flag is not None
           else f"--config {config}" if config is not None else "")
    return f"regie collector migrate {how}".rstrip()


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
