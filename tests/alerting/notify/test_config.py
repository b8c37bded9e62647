"""Channel settings from config tables: CHANNELS, parse_channel, ConfigError key paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.notify.channels import (
    CHANNELS,
    EmailSettings,
    FileSettings,
    SlackSettings,
    WebhookSettings,
    parse_channel,
)
from regie.configfile import ConfigError

SRC = "/etc/regie/collector.toml"
KEY = "notify.channels.ops"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook.secret"
    path.write_text("s3cret-hmac-key-0123456789\n")
    path.chmod(0o600)
    return path


def parse(data: dict):
    return parse_channel(data, source=SRC, key=KEY)


def test_the_table_names_every_kind():
    assert sorted(CHANNELS) == ["email", "file", "slack", "webhook"]
    assert {k: c.settings for k, c in CHANNELS.items()} == {
        "webhook": WebhookSettings, "slack": SlackSettings, "email": EmailSettings,
        "file": FileSettings}
    assert all(c.kind == k for k, c in CHANNELS.items())


def test_webhook(secret_file: Path):
    channel = parse({"kind": "webhook", "url": "https://hooks.example.org/regie?token=tok123",
                     "secret_file": str(secret_file), "allow_networks": ["10.1.2.0/24"],
                     "timeout_seconds": 3})
    assert channel.kind == "webhook"
    s = channel.settings
    assert s.secret.reveal() == "s3cret-hmac-key-0123456789"
    assert (s.allow_networks, s.timeout_seconds) == (("10.1.2.0/24",), 3.0)
    for secret in ("s3cret-hmac", "tok123"):
        assert secret not in repr(s)
        assert secret not in channel.describe()
    assert channel.describe() == "webhook https://hooks.example.org/regie"


def test_slack_inline_and_from_a_file(tmp_path: Path):
    url = "https://hooks.slack.com/services/T0/B0/SECRETPATH"
    inline = parse({"kind": "slack", "url": url})
    path = tmp_path / "slack.url"
    path.write_text(url + "\n")
    path.chmod(0o600)
    from_file = parse({"kind": "slack", "url_file": str(path)})
    for channel in (inline, from_file):
        assert channel.settings.url.reveal() == url
        assert "SECRETPATH" not in repr(channel.settings)
        assert channel.describe() == "slack https://hooks.slack.com"


def test_email(tmp_path: Path):
    password = tmp_path / "smtp.password"
    password.write_text("hunter2-hunter2\n")
    password.chmod(0o600)
    channel = parse({"kind": "email", "host": "smtp.example.org", "username": "regie",
                     "password_file": str(password), "from_address": "regie@example.org",
                     "to": ["oncall@example.org"]})
    s = channel.settings
    assert (s.mode, s.effective_port, s.password.reveal()) == ("starttls", 587,
                                                              "hunter2-hunter2")
    assert "hunter2" not in repr(s)
    assert channel.describe() == "email via smtp.example.org:587 (starttls) to 1 address"
    tls = parse({"kind": "email", "host": "smtp.example.org", "mode": "tls",
                 "from_address": "regie@example.org", "to": ["a@example.org"]})
    assert tls.settings.effective_port == 465
    plain = parse({"kind": "email", "host": "127.0.0.1", "mode": "plain", "port": 2525,
                   "from_address": "regie@example.org", "to": ["a@example.org"]})
    assert plain.settings.effective_port == 2525
    per_person = parse({"kind": "email", "host": "smtp.example.org",
                        "from_address": "regie@example.org"})
    assert per_person.settings.to == ()
    assert per_person.describe() == ("email via smtp.example.org:587 (starttls) to the "
                                     "person's address")


def test_file():
    assert parse({"kind": "file", "path": "-"}).describe() == "file (standard output)"
    assert parse({"kind": "file"}).settings == FileSettings(path="-")


WEBHOOK = {"kind": "webhook", "url": "https://hooks.example.org/x"}
EMAIL = {"kind": "email", "host": "smtp.example.org", "from_address": "regie@example.org",
         "to": ["oncall@example.org"]}


@pytest.mark.parametrize(("data", "key", "reason"), [
    ({}, f"{KEY}.kind", "is required: one of webhook, slack, email, file"),
    ({"kind": "pager"}, f"{KEY}.kind", "must be one of 'webhook', 'slack', 'email', 'file'"),
    (WEBHOOK, KEY, "secret_file is required"),
    ({**WEBHOOK, "url": "ftp://x/y", "secret_file": "/x"}, f"{KEY}.url",
     "must be an http:// or https:// URL"),
    ({**WEBHOOK, "secret_file": "/nonexistent/secret"}, f"{KEY}.secret_file",
     "cannot read '/nonexistent/secret'"),
    ({**WEBHOOK, "secret_file": "/x", "allow_networks": ["10.0.0.1/8"]},
     f"{KEY}.allow_networks", "has host bits set"),
    ({**WEBHOOK, "secret_file": "/x", "alow_networks": []}, f"{KEY}.alow_networks",
     "unknown key (did you mean 'allow_networks'?)"),
    ({**WEBHOOK, "secret_file": "/x", "timeout_seconds": 0}, f"{KEY}.timeout_seconds",
     "must be greater than 0"),
    ({"kind": "slack"}, KEY, "set exactly one of url and url_file"),
    ({"kind": "slack", "url": "https://h/x", "url_file": "/x"}, KEY,
     "set exactly one of url and url_file"),
    ({**EMAIL, "mode": "ssl"}, f"{KEY}.mode", "must be one of 'starttls', 'tls', 'plain'"),
    ({**EMAIL, "to": ["not an address"]}, f"{KEY}.to", "must be an email address"),
    ({**EMAIL, "from_address": "x\r\nBcc: a@b"}, f"{KEY}.from_address",
     "must be an email address"),
    ({**EMAIL, "username": "regie"}, KEY, "username and password_file must be set together"),
    ({**EMAIL, "port": 70000}, KEY, "port must be from 1 to 65535"),
    ({k: v for k, v in EMAIL.items() if k != "host"}, f"{KEY}.host", "is required"),
    ({"kind": "file", "path": " "}, f"{KEY}.path", "must be a file path or '-'"),
])
def test_errors_name_the_file_and_the_key(data, key, reason):
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert (caught.value.source, caught.value.key) == (SRC, key)
    assert reason in caught.value.reason


def test_an_empty_secret_file_is_refused(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    empty.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        parse({**WEBHOOK, "secret_file": str(empty)})
    assert caught.value.key == f"{KEY}.secret_file" and "is empty" in caught.value.reason


def test_a_slack_url_file_must_hold_a_url(tmp_path: Path):
    path = tmp_path / "slack.url"
    path.write_text("not-a-url-SECRET\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        parse({"kind": "slack", "url_file": str(path)})
    assert caught.value.key == f"{KEY}.url_file" and "SECRET" not in str(caught.value)


def test_a_bad_slack_url_is_not_repeated_in_the_error():
    with pytest.raises(ConfigError) as caught:
        parse({"kind": "slack", "url": "hooks.slack.com/services/T/B/SECRETPATH"})
    assert "SECRETPATH" not in str(caught.value)


def test_not_a_table():
    with pytest.raises(ConfigError, match="must be a table"):
        parse_channel(["kind"], source=SRC, key=KEY)  # type: ignore[arg-type]
