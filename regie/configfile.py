"""Typed settings from TOML: one frozen dataclass tree per process, validated once at start.

`build(cls, mapping, source=...)` walks the dataclass fields and the mapping together and
fails on the first problem with `ConfigError(source, key, reason)`, whose text is the one
line an operator needs: ``/etc/regie/agent.toml: snmp.targets[0].version: must be one of
'1', '2c', '3', not '4'``. Unknown keys are errors (a typo must not silently fall back to a
default), with a suggestion when one is close.

Supported field types: str, int, float, bool, pathlib.Path, `Secret`, `Literal[...]`,
`X | None`, `tuple[X, ...]` and nested frozen dataclasses. A field may carry
``metadata={"check": fn}`` where ``fn(value) -> str | None`` returns a reason to refuse it.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import stat
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")


class ConfigError(Exception):
    """A settings problem, located by file and dotted key."""

    def __init__(self, source: str, key: str, reason: str) -> None:
        # A problem with the whole file (unreadable, not TOML) has no key: key "-" or "".
        where = f"{source}: {key}" if key not in ("", "-") else str(source)
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason


class Secret(str):
    """A string that never shows itself in repr(), logs or tracebacks.

    `str(secret)` and `secret.reveal()` give the value to the code that needs it; `repr()`
    (used by dataclass reprs, logging of settings and most tracebacks) prints ``Secret('***')``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        return str.__str__(self)


class Source(str):
    """Where settings come from: the file's name (for messages) and its directory.

    Relative paths in a settings file mean "beside this file", not "wherever the command was
    started", so one installation directory works from any working directory. `build()`
    resolves `Path` fields against `base`; a plain `str` source (a flag, the defaults) leaves
    them as given. It is a `str`, so code that only names the source needs no change.
    """

    base: Path | None  # (str subclasses cannot have non-empty __slots__)

    def __new__(cls, name: str, base: Path | None = None) -> Source:
        self = super().__new__(cls, name)
        self.base = base
        return self

    @classmethod
    def of_file(cls, path: Path) -> Source:
        return cls(str(path), path.absolute().parent)

    def resolve(self, value: Path) -> Path:
        """`value` relative to the file's directory (absolute and `~` paths unchanged)."""
        value = value.expanduser()
        return value if self.base is None or value.is_absolute() else self.base / value


# Field metadata for values the loader fills in itself (never read from the file).
INTERNAL: dict[str, bool] = {"internal": True}


def check(fn: Callable[[Any], str | None]) -> dict[str, Callable[[Any], str | None]]:
    """Field metadata helper: ``field(default=..., metadata=check(positive))``."""
    return {"check": fn}


def positive(value: float) -> str | None:
    if not math.isfinite(value):   # TOML's inf: an interval that never ends, a timer never due
        return f"must be a finite number, not {value!r}"
    return None if value > 0 else f"must be greater than 0, not {value!r}"


def non_negative(value: float) -> str | None:
    if not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    return None if value >= 0 else f"must be 0 or more, not {value!r}"


def parse_listen(value: str) -> tuple[str, int]:
    """'HOST:PORT' or '[v6]:PORT' -> (host, port); ValueError with the reason otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"must be HOST:PORT with a port from 1 to 65535, not {value!r}")
    if host.startswith("[") != host.endswith("]"):
        # '[::1:80' bound as ::1, then every URL made of it was refused (Invalid IPv6 URL).
        raise ValueError(f"must write an IPv6 address in brackets, as [::1]:9847, not {value!r}")
    host = host.strip("[]")
    if not host:
        raise ValueError(f"must name a host (0.0.0.0 for all IPv4 addresses), not {value!r}")
    return host, int(port)


def listen_address(value: str) -> str | None:
    """Field check for a HOST:PORT listen address."""
    try:
        parse_listen(value)
    except ValueError as exc:
        return str(exc)
    return None


def readable_file(value: Path) -> str | None:
    """Field check: the file exists, is a regular file and this process may read it."""
    try:
        read_regular_file(value, limit=0, check_only=True)
    except OSError as exc:
        return f"cannot read {str(value)!r}: {exc.strerror or exc}"
    return None


# The most a secret file (a token, a key, a password) holds: its first line is the secret.
SECRET_FILE_BYTES = 64 * 1024
# The most a settings document (the installation file, rules, schedules, policies) holds.
DOCUMENT_BYTES = 16 * 1024 * 1024


def read_regular_file(path: Path, *, limit: int, check_only: bool = False) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes; OSError saying why not.

    A FIFO named by mistake would block the open or the read until something writes to it
    (for ever, in a service's start), and /dev/zero or /dev/urandom never end: neither is
    read. With `check_only`, only whether it could be read: b""."""
    try:
        # O_NONBLOCK: opening a FIFO for reading does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except ValueError:   # an embedded NUL
        raise OSError(errno.EINVAL, "not a file name", str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if check_only:
            return b""
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
    return data


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; unreadable or malformed files become a ConfigError."""
    import tomllib  # only when a file is read: not every process has one

    try:
        raw = read_regular_file(path, limit=DOCUMENT_BYTES)
    except OSError as exc:
        raise ConfigError(str(path), "-", f"cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "-", f"not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "-", f"invalid TOML: {exc}") from None


def read_secret_file(path: Path, *, source: str, key: str) -> Secret:
    """The first line of a secret file (token, password), stripped; errors name the key."""
    try:
        text = read_regular_file(path, limit=SECRET_FILE_BYTES).decode("utf-8")
    except OSError as exc:
        reason = f"cannot read {str(path)!r}: {exc.strerror or exc}"
        raise ConfigError(source, key, reason) from None
    except UnicodeDecodeError:
        raise ConfigError(source, key, f"{str(path)!r} is not UTF-8 text") from None
    value = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not value:
        raise ConfigError(source, key, f"{str(path)!r} is empty")
    return Secret(value)


def build(cls: type[T], data: Mapping[str, Any], *, source: str, prefix: str = "") -> T:
    """Build the frozen dataclass `cls` from `data`, or raise ConfigError."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(data, Mapping):
        raise ConfigError(source, prefix or "-", f"must be a table, not {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {
        f.name: f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")
    }
    for key in data:
        if key not in fields:
            import difflib  # only on this error path: the agent's memory is paid on every host

            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(source, _join(prefix, key), f"unknown key{hint}")
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        key = _join(prefix, name)
        if name not in data:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise ConfigError(source, key, "is required")
            continue
        value = _convert(hints[name], data[name], source=source, key=key)
        reason = field.metadata.get("check", _accept)(value)
        if reason:
            raise ConfigError(source, key, reason)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except ValueError as exc:  # cross-field checks in __post_init__
        raise ConfigError(source, prefix or "-", str(exc)) from None


def _accept(_value: Any) -> None:
    return None


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _convert(tp: Any, value: Any, *, source: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"{key}: only 'X | None' unions are supported")
        return _convert(members[0], value, source=source, key=key)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed or type(value) is bool:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(source, key, f"must be one of {choices}, not {value!r}")
        return value
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(source, key, f"must be an array, not {_kind(value)}")
        return tuple(
            _convert(item_tp, item, source=source, key=f"{key}[{i}]")
            for i, item in enumerate(value)
        )
    if origin is dict:
        (key_tp, item_tp) = typing.get_args(tp)
        if key_tp is not str:
            raise TypeError(f"{key}: only tables with string keys are supported")
        if not isinstance(value, dict):
            raise ConfigError(source, key, f"must be a table, not {_kind(value)}")
        return {name: _convert(item_tp, item, source=source, key=f"{key}.{name}")
                for name, item in value.items()}
    if dataclasses.is_dataclass(tp):
        return build(tp, value, source=source, prefix=key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(source, key, f"must be true or false, not {_kind(value)}")
        return value
    if tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(source, key, f"must be an integer, not {_kind(value)}")
        return value
    if tp is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(source, key, f"must be a number, not {_kind(value)}")
        return float(value)
    if tp in (str, Secret, Path):
        if not isinstance(value, str):
            raise ConfigError(source, key, f"must be a string, not {_kind(value)}")
        if tp is Path:
            if not value:
                raise ConfigError(source, key, "must not be empty")
            return source.resolve(Path(value)) if isinstance(source, Source) else Path(value)
        return tp(value)
    raise TypeError(f"{key}: unsupported settings type {tp!r}")
