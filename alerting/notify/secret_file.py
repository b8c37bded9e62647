"""Secrets read from a file at load time, never from the TOML itself; the file must be private.

A secret file anyone else on the machine can read is a leaked secret: the collector refuses to
start with one, naming the file and the fix. What "private" means is decided in one place for
every role, regie/private_files.py (the agent and `regie ticket` warn with the same words).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from regie.configfile import ConfigError, Secret, read_secret_file
from regie.private_files import exposure

__all__ = ["exposure", "load_secret", "read_private_secret_file"]


def read_private_secret_file(path: Path, *, source: str, key: str) -> Secret:
    """`read_secret_file`, refusing a file other users can read (ConfigError naming it)."""
    value = read_secret_file(path, source=source, key=key)
    problem = exposure(path)
    if problem:
        raise ConfigError(source, key, problem)
    return value


def load_secret(settings: Any, *, value_field: str, file_field: str, source: str,
                prefix: str) -> Any:
    """Read `file_field` into the `value_field` of frozen settings."""
    path = getattr(settings, file_field)
    if path is None:
        return settings
    key = f"{prefix}.{file_field}" if prefix else file_field
    value = read_private_secret_file(path, source=source, key=key)
    try:
        return replace(settings, **{value_field: value})
    except ValueError as exc:
        raise ConfigError(source, key, str(exc)) from None
