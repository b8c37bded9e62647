"""The `[oncall]` settings: loaded once at start, every problem a ConfigError naming file and key.

Through `load_settings(path)` with real TOML files and `load_oncall(settings)` with real
schedule and policy files; one case through the real `regie collector run`, which must refuse
to start with one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alerting.schedule import ScheduleError
from alerting.ticket import Priority
from collector.config import load_settings
from collector.service import DEFAULT_POLICY_FILE, load_oncall
from regie.configfile import ConfigError
from tests.collector.oncall_harness import SCHEDULE
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
HOOK_SECRET = "receiver-shared-secret-0123456789"
LINK_SECRET = "link-signing-key-abcdefghijklmnop"

POLICIES = """\
policies:
  P1:
    channels: [hook]
    steps:
      - {after: 0m, notify: primary}
      - {after: 5m, notify: secondary, channels: [hook, log]}
  P2: {steps: [{after: 0m, notify: primary}]}
  P3: {business_hours_only: true, steps: [{after: 0m, notify: primary}]}
  P4: {steps: []}
routing:
  default_team: ops
  rules:
    - {match: {component: "postgres*"}, team: ops}
"""


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)   # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


@dataclass
class Files:
    """A valid on-call setup in tmp_path; tests edit `oncall`/`channels` or the files."""

    tmp: Path
    oncall: dict[str, Any]
    channels: list[dict[str, Any]]

    @property
    def schedule(self) -> Path:
        return self.tmp / "oncall.yml"

    @property
    def policies(self) -> Path:
        return self.tmp / "policies.yml"

    @property
    def config(self) -> Path:
        return self.tmp / "collector.toml"

    def write(self) -> Path:
        lines = ["[oncall]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in self.oncall.items()]
        for channel in self.channels:
            lines += ["", "[[oncall.channels]]"]
            lines += [f"{k} = {toml_value(v)}" for k, v in channel.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.config


@pytest.fixture
def files(tmp_path: Path) -> Files:
    (tmp_path / "oncall.yml").write_text(SCHEDULE, encoding="utf-8")
    (tmp_path / "policies.yml").write_text(POLICIES, encoding="utf-8")
    (tmp_path / "hook.key").write_text(HOOK_SECRET + "\n", encoding="utf-8")
    (tmp_path / "link.key").write_text(LINK_SECRET + "\n", encoding="utf-8")
    for key in ("hook.key", "link.key"):
        (tmp_path / key).chmod(0o600)   # secret files other users can read are refused
    return Files(
        tmp=tmp_path,
        oncall={
            "schedule_file": str(tmp_path / "oncall.yml"),
            "policy_file": str(tmp_path / "policies.yml"),
            "public_url": "https://regie.example.org",
            "link_secret_file": str(tmp_path / "link.key"),
        },
        channels=[
            {"name": "hook", "kind": "webhook", "url": "https://hooks.example.org/regie",
             "secret_file": str(tmp_path / "hook.key"), "rate_per_minute": 30,
             "allow_networks": ["10.1.2.0/24"], "timeout_seconds": 5},
            {"name": "log", "kind": "file", "path": str(tmp_path / "notifications.jsonl")},
        ])


def load(config: Path):
    settings = load_settings(config)
    return settings, load_oncall(settings)


# -- edits to the valid setup ------------------------------------------------------------


def channel(index: int, **changes: Any) -> Callable[[Files], None]:
    def change(f: Files) -> None:
        for key, value in changes.items():
            if value is None:
                f.channels[index].pop(key, None)
            else:
                f.channels[index][key] = value

    return change


def oncall(**changes: Any) -> Callable[[Files], None]:
    def change(f: Files) -> None:
        for key, value in changes.items():
            if value is None:
                f.oncall.pop(key, None)
            else:
                f.oncall[key] = value

    return change


def no_tables(**changes: Any) -> Callable[[Files], None]:
    def change(f: Files) -> None:
        f.channels = []
        oncall(**changes)(f)

    return change


def write_file(name: str, text: str) -> Callable[[Files], None]:
    def change(f: Files) -> None:
        (f.tmp / name).write_text(text, encoding="utf-8")
        (f.tmp / name).chmod(0o600)

    return change


def policy_text(old: str, new: str) -> Callable[[Files], None]:
    def change(f: Files) -> None:
        assert old in POLICIES
        f.policies.write_text(POLICIES.replace(old, new), encoding="utf-8")

    return change


def schedule_text(old: str, new: str) -> Callable[[Files], None]:
    def change(f: Files) -> None:
        assert old in SCHEDULE
        f.schedule.write_text(SCHEDULE.replace(old, new), encoding="utf-8")

    return change


# -- valid ---------------------------------------------------------------------------------


def test_valid_config_with_a_webhook_and_a_file_channel(files: Files) -> None:
    settings, loaded = load(files.write())
    oncall = settings.oncall
    assert oncall.enabled
    assert oncall.schedule_file == files.schedule
    assert oncall.public_url == "https://regie.example.org"
    assert oncall.link_secret is not None
    assert oncall.link_secret.reveal() == LINK_SECRET
    assert LINK_SECRET not in repr(settings)
    assert [(c.name, c.channel.kind, c.rate_per_minute) for c in oncall.channels] == [
        ("hook", "webhook", 30), ("log", "file", None)]
    hook, log = (c.channel.settings for c in oncall.channels)
    assert hook.url.reveal() == "https://hooks.example.org/regie"
    assert hook.secret.reveal() == HOOK_SECRET
    assert hook.allow_networks == ("10.1.2.0/24",)
    assert hook.timeout_seconds == 5.0
    assert HOOK_SECRET not in repr(settings)
    assert log.path == str(files.tmp / "notifications.jsonl")

    assert loaded is not None
    schedules, policies = loaded
    assert [t.name for t in schedules.teams] == ["ops"]
    assert policies.source == str(files.policies)
    p1 = policies.for_priority(Priority.P1)
    assert p1.channels == ("hook",)
    assert [s.channels for s in p1.steps] == [(), ("hook", "log")]
    assert policies.routing.team_for({"component": "postgresql"}) == "ops"


def test_unset_policy_file_means_the_bundled_defaults(files: Files) -> None:
    del files.oncall["policy_file"]
    settings, loaded = load(files.write())
    assert settings.oncall.policy_file is None
    assert loaded is not None
    _schedules, policies = loaded
    assert policies.source == str(DEFAULT_POLICY_FILE)
    assert [s.target for s in policies.for_priority(Priority.P1).steps] == [
        "primary", "secondary", "escalation_manager"]


def test_defaults_without_channels_or_links(files: Files) -> None:
    files.oncall = {"schedule_file": str(files.schedule)}
    files.channels = []
    settings, loaded = load(files.write())
    assert settings.oncall.channels == ()
    assert settings.oncall.link_secret is None
    assert settings.oncall.public_url is None
    assert loaded is not None
    schedules, policies = loaded
    assert [t.name for t in schedules.teams] == ["ops"]
    assert schedules.source == str(files.schedule)
    assert policies.source == str(DEFAULT_POLICY_FILE)


@pytest.mark.parametrize(("change", "check"), [
    (write_file("link.key", "0123456789abcdef\n"),
     lambda s: s.oncall.link_secret.reveal() == "0123456789abcdef"),
    (lambda f: f.channels[0].update(rate_per_minute=0.5),
     lambda s: s.oncall.channels[0].rate_per_minute == 0.5),
    (lambda f: f.oncall.update(public_url="http://10.0.0.5:8847"),
     lambda s: s.oncall.public_url == "http://10.0.0.5:8847"),
    (lambda f: f.channels.append({"name": "ops_room-2", "kind": "file", "path": "-"}),
     lambda s: [c.name for c in s.oncall.channels] == ["hook", "log", "ops_room-2"]),
], ids=["link secret of 16 chars", "fractional rate", "http public_url", "name characters"])
def test_edges_that_are_accepted(files: Files, change: Callable[[Files], object],
                                 check: Callable[[Any], bool]) -> None:
    change(files)
    settings, loaded = load(files.write())
    assert check(settings)
    assert loaded is not None


@pytest.mark.parametrize("text", [
    "",
    "[server]\nlisten = \"127.0.0.1:8900\"\n",
    "[oncall]\npublic_url = \"https://regie.example.org\"\n",
])
def test_oncall_disabled_without_a_schedule_file(tmp_path: Path, text: str) -> None:
    config = tmp_path / "collector.toml"
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    assert not settings.oncall.enabled
    assert load_oncall(settings) is None


def test_disabled_oncall_does_not_read_the_policy_file(files: Files) -> None:
    # Channels and a policy file without a schedule: nothing escalates, nothing is read.
    del files.oncall["schedule_file"]
    files.policies.write_text("policies: [broken", encoding="utf-8")
    settings, loaded = load(files.write())
    assert not settings.oncall.enabled
    assert loaded is None


def test_no_config_file_at_all() -> None:
    settings = load_settings(None)
    assert not settings.oncall.enabled
    assert load_oncall(settings) is None


# -- refused -------------------------------------------------------------------------------


# (id, change, which file the error names, key, part of the reason)
BAD = [
    ("channel without name", channel(0, name=None), "config", "oncall.channels[0].name",
     "is required"),
    ("channel name empty", channel(1, name=""), "config", "oncall.channels[1].name",
     "is required: letters, digits, '-' and '_'"),
    ("channel name not text", channel(0, name=7), "config", "oncall.channels[0].name",
     "is required"),
    ("duplicate channel names", channel(1, name="hook"), "config",
     "oncall.channels[1].name", "channel 'hook' is defined twice"),
    ("bad name characters", channel(0, name="on call"), "config", "oncall.channels[0].name",
     "letters, digits, '-' and '_'"),
    ("name too long", channel(0, name="x" * 65), "config", "oncall.channels[0].name",
     "(up to 64)"),
    ("rate_per_minute 0", channel(0, rate_per_minute=0), "config",
     "oncall.channels[0].rate_per_minute", "must be a number above 0"),
    ("rate_per_minute negative", channel(1, rate_per_minute=-1.5), "config",
     "oncall.channels[1].rate_per_minute", "must be a number above 0"),
    ("rate_per_minute text", channel(0, rate_per_minute="10"), "config",
     "oncall.channels[0].rate_per_minute", "must be a number above 0"),
    ("rate_per_minute boolean", channel(0, rate_per_minute=True), "config",
     "oncall.channels[0].rate_per_minute", "must be a number above 0"),
    ("unknown channel kind", channel(1, kind="pager"), "config", "oncall.channels[1].kind",
     "must be one of 'webhook', 'slack', 'email', 'file', not 'pager'"),
    ("channel without kind", channel(0, kind=None), "config", "oncall.channels[0].kind",
     "is required"),
    ("webhook without secret_file", channel(0, secret_file=None), "config",
     "oncall.channels[0]", "secret_file is required"),
    ("webhook secret_file missing", channel(0, secret_file="/nonexistent/hook.key"),
     "config", "oncall.channels[0].secret_file", "cannot read '/nonexistent/hook.key'"),
    ("webhook secret_file empty", write_file("hook.key", "\n"), "config",
     "oncall.channels[0].secret_file", "is empty"),
    ("webhook url without scheme", channel(0, url="hooks.example.org/regie"), "config",
     "oncall.channels[0].url", "must be an http:// or https:// URL"),
    ("webhook bad allow_networks", channel(0, allow_networks=["10.1.2.0/33"]), "config",
     "oncall.channels[0].allow_networks", ""),
    ("unknown channel key", channel(1, colour="red"), "config",
     "oncall.channels[1].colour", "unknown key"),
    ("channels not an array of tables", no_tables(channels="hook"), "config",
     "oncall.channels", "must be an array of tables"),
    ("public_url without scheme", oncall(public_url="regie.example.org"), "config",
     "oncall.public_url", "must start with http:// or https://"),
    ("link secret shorter than 16 chars", write_file("link.key", "0123456789abcde\n"),
     "config", "oncall.link_secret_file", "at least 16 characters"),
    ("link secret file missing", oncall(link_secret_file="/nonexistent/link.key"), "config",
     "oncall.link_secret_file", "cannot read '/nonexistent/link.key'"),
    ("schedule file missing", oncall(schedule_file="/nonexistent/oncall.yml"), "config",
     "oncall.schedule_file", "cannot read '/nonexistent/oncall.yml'"),
    ("policy file missing", oncall(policy_file="/nonexistent/policies.yml"), "config",
     "oncall.policy_file", "cannot read '/nonexistent/policies.yml'"),
    ("unknown oncall key", oncall(shedule_file="x"), "config", "oncall.shedule_file",
     "unknown key (did you mean 'schedule_file'?)"),
    ("link_expires_seconds 0", oncall(link_expires_seconds=0), "config",
     "oncall.link_expires_seconds", "must be greater than 0"),
    ("max_attempts not whole", oncall(max_attempts=2.5), "config", "oncall.max_attempts",
     "must be an integer"),
    ("policy file naming an unknown channel",
     policy_text("channels: [hook, log]", "channels: [hook, pager]"), "policies",
     "policies.P1.steps[1].channels", "unknown channel 'pager' (hook, log)"),
    ("policy file with an error", policy_text("notify: secondary", "notify: tertiary"),
     "policies", "policies.P1.steps[1].notify", "unknown role 'tertiary'"),
    ("policy file not YAML", write_file("policies.yml", "policies: [broken\n"), "policies",
     "-", "invalid YAML at line 2, column 1"),
    ("routing to a team not in the schedule", policy_text("team: ops", "team: db"),
     "policies", "routing.rules", "team 'db' is not in the schedule (ops)"),
    ("default team not in the schedule", policy_text("default_team: ops", "default_team: web"),
     "policies", "routing.default_team", "team 'web' is not in the schedule"),
    ("a schedule file with an error", schedule_text('handoff: "09:00", start: 2026-01-01}\n'
                                                    "      secondary",
                                                    'handoff: "25:00", start: 2026-01-01}\n'
                                                    "      secondary"),
     "schedule", "teams[0].layers.primary.handoff", "25:00"),
    ("a schedule naming an unknown person", schedule_text("participants: [bob]",
                                                          "participants: [bob, dan]"),
     "schedule", "teams[0].layers.secondary.participants[1]", "dan"),
    ("a schedule file not YAML", write_file("oncall.yml", "teams: [oops\n"), "schedule", "-",
     "invalid YAML"),
]


KNOWN_BUGS: dict[str, object] = {}


@pytest.mark.parametrize(("change", "where", "key", "reason"), [
    pytest.param(*row[1:], id=row[0], marks=KNOWN_BUGS.get(row[0], ())) for row in BAD])
def test_bad_oncall_config_names_file_and_key(files: Files, change: Callable[[Files], None],
                                              where: str, key: str, reason: str) -> None:
    change(files)
    config = files.write()
    source = {"config": config, "policies": files.policies, "schedule": files.schedule}[where]
    with pytest.raises(ConfigError) as caught:
        load(config)
    error = caught.value
    assert (error.source, error.key) == (str(source), key)
    assert reason in error.reason
    # A problem with the whole file (key "-") is shown without a key.
    where = f"{source}: {key}" if key != "-" else str(source)
    assert str(error) == f"{where}: {error.reason}"
    assert "\n" not in str(error)
    assert HOOK_SECRET not in str(error) and LINK_SECRET not in str(error)


def test_schedule_errors_surface_as_the_schedule_own_error(files: Files) -> None:
    files.schedule.write_text(SCHEDULE.replace("timezone: UTC", "timezone: Mars/Olympus"),
                              encoding="utf-8")
    with pytest.raises(ScheduleError) as caught:
        load(files.write())
    assert caught.value.source == str(files.schedule)
    assert caught.value.key == "teams[0].timezone"
    assert "Mars/Olympus" in caught.value.reason


def test_first_of_two_problems_is_reported(files: Files) -> None:
    # A start-up check stops at the first problem, in file order.
    files.channels[0]["rate_per_minute"] = 0
    files.channels[1]["kind"] = "pager"
    with pytest.raises(ConfigError) as caught:
        load(files.write())
    assert caught.value.key == "oncall.channels[0].rate_per_minute"


# -- the real command ----------------------------------------------------------------------


def test_collector_run_refuses_a_bad_policy_file_before_serving(files: Files) -> None:
    files.policies.write_text(POLICIES.replace("channels: [hook, log]",
                                               "channels: [hook, pager]"), encoding="utf-8")
    config = files.write()
    regie = Path(sys.executable).with_name("regie")
    port = free_port()
    done = subprocess.run(
        [str(regie), "collector", "run", "--config", str(config),
         "--db", f"sqlite:///{files.tmp / 'x.db'}", "--listen", f"127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=60, cwd=files.tmp, check=False)
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"regie collector: {files.policies}: policies.P1.steps[1].channels: unknown channel "
        f"'pager' (hook, log)"]
    assert not (files.tmp / "x.db").exists()


def test_gaps_in_the_schedule_are_reported_at_start(files: Files, caplog) -> None:
    """A layer that starts in the future leaves nobody on call until then: the collector
    says so in its log when it loads the schedule (it still starts)."""
    import logging
    from datetime import UTC, datetime, timedelta

    start = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    files.schedule.write_text(SCHEDULE.replace(
        "primary: {participants: [alice], rotation: daily, handoff: \"09:00\", "
        "start: 2026-01-01}",
        f"primary: {{participants: [alice], rotation: daily, handoff: \"09:00\", "
        f"start: {start}}}"), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="regie.collector"):
        _, loaded = load(files.write())
    assert loaded is not None
    gaps = [r.getMessage() for r in caplog.records if "on-call gap" in r.getMessage()]
    assert gaps and gaps[0].startswith("on-call gap: team ops has no primary from ")
    caplog.clear()
    files.schedule.write_text(SCHEDULE, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="regie.collector"):
        load(files.write())
    assert not [r for r in caplog.records if "on-call gap" in r.getMessage()]
