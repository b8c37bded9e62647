"""Secrets read from a file at load time, never from the TOML itself; the file must be private.

A secret file anyone else on the machine can read is a leaked secret: the collector refuses to
start with one, naming the file and the fix. "Private" means not readable by other users, and
not by the file's group when this process owns the file (then the group gains nothing
legitimate). A file owned by root and readable by the service's group (``0640 root:regie``)
is accepted: that is how a service reads a secret it must not be able to change.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

from regie.configfile import ConfigError, Secret, read_secret_file


def exposure(path: Path) -> str | None:
    """Why `path` is not private (with the command that fixes it), or None."""
    try:
        info = path.stat()
    except OSError:
        return None   # reading it reports the problem
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IROTH:
        who = "every user"
    elif mode & stat.S_IRGRP and info.st_uid == os.geteuid():
        who = "its group"
    else:
        return None
    return f"{str(path)!r} is readable by {who} (mode {mode:04o}): chmod 600 {path}"


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
