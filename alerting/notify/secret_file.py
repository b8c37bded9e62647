"""Settings whose secret is read from a file at load time, never from the TOML itself."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from regie.configfile import ConfigError, read_secret_file


def load_secret(settings: Any, *, value_field: str, file_field: str, source: str,
                prefix: str) -> Any:
    """Read `file_field` into the `value_field` of frozen settings."""
    path = getattr(settings, file_field)
    if path is None:
        return settings
    key = f"{prefix}.{file_field}" if prefix else file_field
    value = read_secret_file(path, source=source, key=key)
    try:
        return replace(settings, **{value_field: value})
    except ValueError as exc:
        raise ConfigError(source, key, str(exc)) from None
