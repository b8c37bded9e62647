"""The typed settings loader: every problem names the file, the key and the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from regie.configfile import (
    ConfigError,
    Secret,
    build,
    check,
    load_toml,
    positive,
    read_secret_file,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Inner:
    name: str
    port: int = 161
    mode: Literal["a", "b"] = "a"
    password: Secret | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outer:
    interval: float = field(default=1.0, metadata=check(positive))
    enabled: bool = True
    path: Path | None = None
    items: tuple[Inner, ...] = ()
    inner: Inner = Inner(name="x")


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({"intreval": 2}, "intreval", "unknown key (did you mean 'interval'?)"),
        ({"interval": "2"}, "interval", "must be a number, not a string"),
        ({"interval": 0}, "interval", "must be greater than 0, not 0.0"),
        ({"enabled": 1}, "enabled", "must be true or false, not an integer"),
        ({"path": ""}, "path", "must not be empty"),
        ({"items": {"name": "a"}}, "items", "must be an array, not a table"),
        ({"items": [{"port": 1}]}, "items[0].name", "is required"),
        ({"items": [{"name": "a", "port": True}]}, "items[0].port",
         "must be an integer, not a boolean"),
        ({"items": [{"name": "a", "mode": "c"}]}, "items[0].mode",
         "must be one of 'a', 'b', not 'c'"),
        ({"inner": "x"}, "inner", "must be a table, not a string"),
        ({"inner": {"name": "n", "colour": 1}}, "inner.colour", "unknown key"),
    ],
)
def test_errors_name_key_and_reason(data, key, reason):
    with pytest.raises(ConfigError) as err:
        build(Outer, data, source="/etc/x.toml")
    assert (err.value.key, err.value.reason) == (key, reason)
    assert str(err.value) == f"/etc/x.toml: {key}: {reason}"


def test_valid_mapping_builds_typed_values():
    built = build(Outer, {"interval": 3, "path": "/tmp/a",
                          "items": [{"name": "sw1", "mode": "b", "password": "hunter22"}]},
                  source="f")
    assert built.interval == 3.0 and isinstance(built.interval, float)
    assert built.path == Path("/tmp/a")
    assert built.items[0].mode == "b"
    assert isinstance(built.items[0].password, Secret)
    assert built.inner == Inner(name="x")  # default kept


def test_secret_never_shows_in_repr():
    built = build(Inner, {"name": "sw1", "password": "hunter22"}, source="f")
    assert "hunter22" not in repr(built)
    assert built.password.reveal() == "hunter22"


def test_load_toml_reports_syntax_with_file(tmp_path):
    bad = tmp_path / "a.toml"
    bad.write_text("[http\nlisten = 1\n")
    with pytest.raises(ConfigError, match=r"a\.toml: invalid TOML: .*line 1"):
        load_toml(bad)


def test_load_toml_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read: No such file or directory"):
        load_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize(("content", "expected"), [("tok\n", "tok"), ("  tok  \nmore\n", "tok")])
def test_secret_file_first_line(tmp_path, content, expected):
    path = tmp_path / "token"
    path.write_text(content)
    assert read_secret_file(path, source="s", key="k").reveal() == expected


def test_secret_file_empty_or_unreadable(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match=r"s: k: '.*empty' is empty"):
        read_secret_file(empty, source="s", key="k")
    with pytest.raises(ConfigError, match=r"s: k: cannot read '.*nope': No such file"):
        read_secret_file(tmp_path / "nope", source="s", key="k")
