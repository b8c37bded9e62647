"""[vendor_cases] settings: defaults, and refusals naming the file and the key."""

from __future__ import annotations

import pytest

from collector.config import load_settings
from regie.configfile import ConfigError

HOOK = """
[oncall]
schedule_file = "{schedule}"

[[oncall.channels]]
name = "log"
kind = "file"
path = "-"
"""


def test_defaults():
    settings = load_settings(None).vendor_cases
    assert (settings.follow_up_days, settings.channels, settings.sweep_interval_seconds) == (
        7, (), 60.0)


@pytest.mark.parametrize(("table", "key", "reason"), [
    ('channels = ["mail"]', "vendor_cases.channels[0]",
     "channel 'mail' is not in [[oncall.channels]] (log)"),
    ("follow_up_days = 0", "vendor_cases.follow_up_days", ""),
    ("sweep_interval_seconds = -1", "vendor_cases.sweep_interval_seconds", ""),
    ("follow_up = 3", "vendor_cases.follow_up", "unknown key"),
])
def test_refusals_name_the_key(tmp_path, table, key, reason):
    (tmp_path / "oncall.yml").write_text("people: {}\nteams: []\n")
    path = tmp_path / "regie.toml"
    path.write_text(HOOK.format(schedule=tmp_path / "oncall.yml") + f"\n[vendor_cases]\n{table}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert raised.value.key == key and reason in raised.value.reason, raised.value


def test_channels_chosen(tmp_path):
    (tmp_path / "oncall.yml").write_text("people: {}\nteams: []\n")
    path = tmp_path / "regie.toml"
    path.write_text(HOOK.format(schedule=tmp_path / "oncall.yml")
                    + '\n[vendor_cases]\nchannels = ["log"]\nfollow_up_days = 3\n')
    settings = load_settings(path).vendor_cases
    assert (settings.channels, settings.follow_up_days) == (("log",), 3)
