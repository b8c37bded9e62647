"""The collector's settings: one frozen tree, loaded from TOML once at start, then passed down.

Every key is documented in docs/configuration.md. Flags (`--db`, `--listen`) override the file.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from alerting.priority import DEFAULT_MATRIX, IMPACT_ORDER, Matrix
from alerting.ticket import Criticality, Priority, Urgency
from collector.change_settings import ChangeSettings, parse_change_settings
from regie.configfile import (
    INTERNAL,
    ConfigError,
    Secret,
    Source,
    build,
    check,
    listen_address,
    load_toml,
    positive,
    readable_file,
)
from regie.installation import role_sections, settings_source

DEFAULT_LISTEN = "127.0.0.1:8847"
DEFAULT_DB = "sqlite:///regie.db"
DEFAULT_INTAKE_WRITERS = 3
MAX_INTAKE_WRITERS = 8  # of the connection pool's 15 (SQLAlchemy's 5 + 10 overflow)


def _writers(value: int) -> str | None:
    if 1 <= value <= MAX_INTAKE_WRITERS:
        return None
    return f"must be from 1 to {MAX_INTAKE_WRITERS}, not {value!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    listen: str = field(default=DEFAULT_LISTEN, metadata=check(listen_address))
    tls_cert_file: Path | None = field(default=None, metadata=check(readable_file))
    tls_key_file: Path | None = field(default=None, metadata=check(readable_file))
    # Requests with a larger body are refused with 413 before they are read.
    max_body_bytes: int = field(default=8 * 1024 * 1024, metadata=check(positive))
    # Open connections at most, and the seconds a new one has to send its first request's
    # headers (collector/http_server.py).
    max_connections: int = field(default=512, metadata=check(positive))
    header_timeout: float = field(default=10.0, metadata=check(positive))

    def __post_init__(self) -> None:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file must be set together")


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSettings:
    url: str = DEFAULT_DB
    # SQLite only: FULL survives power loss, NORMAL only a crash of the process.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # PostgreSQL only: group transactions the intake runs at once (collector/intake.py); on
    # SQLite writers are serial and the intake runs one.
    intake_writers: int = field(default=DEFAULT_INTAKE_WRITERS, metadata=check(_writers))


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluatorTargetSettings:
    address: str = field(metadata=check(listen_address))     # HOST:PORT of an agent's /metrics
    host: str | None = None                           # the host name tickets carry
    scheme: Literal["http", "https"] = "http"


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluatorSettings:
    enabled: bool = True
    interval_seconds: float = field(default=15.0, metadata=check(positive))
    scrape_timeout_seconds: float = field(default=5.0, metadata=check(positive))
    # A scrape whose body (uncompressed) is larger fails, as Prometheus's body_size_limit.
    body_size_limit_bytes: int = field(default=16 * 1024 * 1024, metadata=check(positive))
    # Threshold rules (YAML); unset means the bundled default rule set.
    rules_file: Path | None = field(default=None, metadata=check(readable_file))
    targets: tuple[EvaluatorTargetSettings, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CriticalitySettings:
    default: Criticality = Criticality.MEDIUM
    # host name or glob ("web-*") -> criticality; services win over hosts.
    hosts: Mapping[str, Criticality] = field(default_factory=dict)
    services: Mapping[str, Criticality] = field(default_factory=dict)

    def of(self, *, host: str | None, service: str | None) -> Criticality:
        return self.explain(host=host, service=service)[0]

    def explain(self, *, host: str | None, service: str | None) -> tuple[Criticality, str]:
        """The criticality and which setting gave it ("host glob web-*", "default"), for the
        ticket's timeline."""
        for kind, name, table in (("service", service, self.services),
                                  ("host", host, self.hosts)):
            if not name:
                continue
            if name in table:
                return table[name], f"{kind} {name}"
            for pattern, value in table.items():
                if fnmatch.fnmatchcase(name, pattern):
                    return value, f"{kind} glob {pattern}"
        return self.default, "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class PrioritySettings:
    # impact -> [priority at high, medium, low urgency]; unset rows keep the default.
    matrix: Mapping[Criticality, tuple[Priority, ...]] = field(default_factory=dict)

    def resolved(self) -> Matrix:
        out = {impact: dict(row) for impact, row in DEFAULT_MATRIX.items()}
        for impact, row in self.matrix.items():
            out[impact] = dict(zip((Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW), row, strict=True))
        return out


def _horizon(value: str) -> str | None:
    from registry.lifecycle import parse_horizon

    try:
        parse_horizon(value)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSettings:
    name: str
    channel: Any                        # alerting.notify.channels.Channel
    rate_per_minute: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OncallSettings:
    # On-call rotations (alerting/schedule.py); escalation runs only when this is set.
    schedule_file: Path | None = field(default=None, metadata=check(readable_file))
    # Escalation policies; unset means the bundled defaults (collector/data/).
    policy_file: Path | None = field(default=None, metadata=check(readable_file))
    # The address people's links point to; unset: http(s)://<server.listen>.
    public_url: str | None = None
    # HMAC key for one-click acknowledge/resolve links (first line of the file). Every
    # collector sharing a database needs the same key. Unset: links are left out.
    link_secret_file: Path | None = field(default=None, metadata=check(readable_file))
    link_expires_seconds: float = field(default=86400.0, metadata=check(positive))
    sweep_interval_seconds: float = field(default=0.5, metadata=check(positive))
    max_attempts: int = field(default=10, metadata=check(positive))
    channels: tuple[ChannelSettings, ...] = field(default=(), metadata=INTERNAL)
    link_secret: Secret | None = field(default=None, repr=False, metadata=INTERNAL)

    @property
    def enabled(self) -> bool:
        return self.schedule_file is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrySettings:
    # How soon a sync by another process is loaded, and who-is-past-EOS recomputed.
    refresh_seconds: float = field(default=30.0, metadata=check(positive))
    # What /metrics counts as "near" end of support: 90d, 6w, 8m, 1y.
    near_horizon: str = field(default="8m", metadata=check(_horizon))


@dataclass(frozen=True, slots=True, kw_only=True)
class UiSettings:
    # The operator console under /ui/ (docs/console.md): off unless asked for (`regie demo`
    # turns it on).
    enabled: bool = False
    # A console session ends this long after its login, whatever happens meanwhile.
    session_hours: float = field(default=12.0, metadata=check(positive))
    # Mark the session cookie Secure although the collector itself speaks plain HTTP: set it
    # when a reverse proxy terminates TLS in front of it. Under [server] tls_* it is always set.
    secure_cookies: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorCaseSettings:
    # A case's follow-up interval when it is opened without one (docs/vendor-cases.md).
    follow_up_days: int = field(default=7, metadata=check(positive))
    # The [[oncall.channels]] that remind owners of overdue cases; empty: all of them.
    channels: tuple[str, ...] = ()
    # How often the collector looks for cases past their follow-up date.
    sweep_interval_seconds: float = field(default=60.0, metadata=check(positive))


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        return "must be an http:// or https:// URL such as 'http://127.0.0.1:9093'"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceSettings:
    # How soon a window added or ended by another process (the CLI, another collector), or
    # a change approved or completed, is seen; the silences are checked as often.
    refresh_seconds: float = field(default=10.0, metadata=check(positive))
    # An approved or in-progress change's planned window is a maintenance window.
    changes: bool = True
    # Mirror each running window into this Alertmanager as a silence (API v2), expired when
    # the window ends; unset: no mirroring (docs/maintenance.md).
    alertmanager_url: str | None = field(default=None, metadata=check(_http_url))
    # The silences' `createdBy`: only silences with it (and a window comment) are touched.
    silence_created_by: str = "regie"
    alertmanager_timeout_seconds: float = field(default=5.0, metadata=check(positive))


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectorSettings:
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    evaluator: EvaluatorSettings = EvaluatorSettings()
    criticality: CriticalitySettings = CriticalitySettings()
    priority: PrioritySettings = PrioritySettings()
    oncall: OncallSettings = OncallSettings()
    registry: RegistrySettings = RegistrySettings()
    ui: UiSettings = UiSettings()
    maintenance: MaintenanceSettings = MaintenanceSettings()
    vendor_cases: VendorCaseSettings = VendorCaseSettings()
    changes: ChangeSettings = field(default_factory=ChangeSettings)
    source: str = field(default="<defaults>", metadata=INTERNAL)


def _criticality_table(data: object, *, source: str, key: str) -> dict[str, Criticality]:
    if not isinstance(data, Mapping):
        raise ConfigError(source, key, "must be a table of name = criticality")
    out = {}
    for name, value in data.items():
        try:
            out[str(name)] = Criticality(value)
        except ValueError:
            choices = ", ".join(repr(c.value) for c in Criticality)
            raise ConfigError(source, f"{key}.{name}",
                              f"must be one of {choices}, not {value!r}") from None
    return out


def _matrix(data: object, *, source: str) -> dict[Criticality, tuple[Priority, ...]]:
    if not isinstance(data, Mapping):
        raise ConfigError(source, "priority.matrix", "must be a table of impact = [P, P, P]")
    out = {}
    for impact, row in data.items():
        key = f"priority.matrix.{impact}"
        try:
            level = Criticality(impact)
        except ValueError:
            names = ", ".join(repr(c.value) for c in IMPACT_ORDER)
            raise ConfigError(source, key, f"unknown impact; one of {names}") from None
        if not (isinstance(row, list) and len(row) == 3):
            raise ConfigError(source, key, "must list 3 priorities: at high, medium, low urgency")
        try:
            out[level] = tuple(Priority(p) for p in row)
        except ValueError:
            raise ConfigError(source, key, f"priorities are P1..P4, not {row!r}") from None
    return out


def load_settings(path: Path | None, *, db: str | None = None,
                  listen: str | None = None) -> CollectorSettings:
    """Load and validate; flags override the file. Raises ConfigError naming file and key.

    `path` is the installation file (regie/installation.py); its relative paths, the SQLite
    database's included, resolve beside it. Tables of other roles ([cli], the agent's) are
    left to them.
    """
    source = settings_source(path)
    data = role_sections(load_toml(path), "collector", source) if path is not None else {}
    # Tables keyed by free-form names are converted here; the rest is typed by build().
    crit_data = dict(data.pop("criticality", {}) or {})
    oncall_data = dict(data.pop("oncall", {}) or {})
    channels_data = oncall_data.pop("channels", [])
    prio_data = dict(data.pop("priority", {}) or {})
    changes = parse_change_settings(data.pop("changes", None), source=source)
    settings = build(CollectorSettings, data, source=source)
    criticality = CriticalitySettings(
        default=_criticality_table({"default": crit_data.pop("default", "medium")},
                                   source=source, key="criticality")["default"],
        hosts=_criticality_table(crit_data.pop("hosts", {}), source=source,
                                 key="criticality.hosts"),
        services=_criticality_table(crit_data.pop("services", {}), source=source,
                                    key="criticality.services"),
    )
    for unknown in crit_data:
        raise ConfigError(source, f"criticality.{unknown}", "unknown key")
    matrix = _matrix(prio_data.pop("matrix", {}), source=source)
    for unknown in prio_data:
        raise ConfigError(source, f"priority.{unknown}", "unknown key")
    settings = replace(settings, criticality=criticality,
                       priority=PrioritySettings(matrix=matrix), source=source,
                       oncall=_oncall(oncall_data, channels_data, source=source),
                       changes=changes)
    _check_case_channels(settings)
    if path is not None:
        url = _beside(settings.database.url, path)
        settings = replace(settings, database=replace(settings.database, url=url))
    if db is not None:
        settings = replace(settings, database=replace(settings.database, url=db))
    if listen is not None:
        reason = listen_address(listen)
        if reason:
            raise ConfigError("<command line>", "--listen", reason)
        settings = replace(settings, server=replace(settings.server, listen=listen))
    return settings


def _oncall(data: dict[str, Any], channels: object, *, source: str) -> OncallSettings:
    from alerting.notify.channels import parse_channel
    from alerting.notify.secret_file import read_private_secret_file

    settings = build(OncallSettings, data, source=source, prefix="oncall")
    if not isinstance(channels, list):
        raise ConfigError(source, "oncall.channels", "must be an array of tables "
                                                     "([[oncall.channels]])")
    parsed: list[ChannelSettings] = []
    for index, item in enumerate(channels):
        key = f"oncall.channels[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(source, key, "must be a table")
        rest = dict(item)
        name = rest.pop("name", None)
        if not isinstance(name, str) or not _CHANNEL_NAME.fullmatch(name):
            raise ConfigError(source, f"{key}.name",
                              "is required: letters, digits, '-' and '_' (up to 64)")
        if any(c.name == name for c in parsed):
            raise ConfigError(source, f"{key}.name", f"channel {name!r} is defined twice")
        rate = rest.pop("rate_per_minute", None)
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)
                                 or rate <= 0):
            raise ConfigError(source, f"{key}.rate_per_minute", "must be a number above 0")
        path = rest.get("path")
        if rest.get("kind") == "file" and isinstance(path, str) and path not in ("", "-") \
                and isinstance(source, Source):
            # The file channel's path is a string ("-" is standard output), which build()
            # does not resolve: resolve it beside the settings file like every other path.
            rest["path"] = str(source.resolve(Path(path)))
        try:
            channel = parse_channel(rest, source=source, key=key)
        except ConfigError as exc:
            # The index alone is hard to find in a long file: name the channel too.
            raise ConfigError(exc.source, exc.key, f"channel {name!r}: {exc.reason}") from None
        parsed.append(ChannelSettings(name=name, channel=channel, rate_per_minute=rate))
    secret = None
    if settings.link_secret_file is not None:
        # Anyone who can read the key can forge acknowledge/resolve links: it must be private.
        secret = read_private_secret_file(settings.link_secret_file, source=source,
                                          key="oncall.link_secret_file")
        if len(secret.reveal()) < 16:
            raise ConfigError(source, "oncall.link_secret_file",
                              "the key must be at least 16 characters (try `openssl rand "
                              "-hex 32`)")
    if settings.public_url is not None and not settings.public_url.startswith(
            ("http://", "https://")):
        raise ConfigError(source, "oncall.public_url", "must start with http:// or https://")
    return replace(settings, channels=tuple(parsed), link_secret=secret)


def _check_case_channels(settings: CollectorSettings) -> None:
    known = [c.name for c in settings.oncall.channels]
    for index, name in enumerate(settings.vendor_cases.channels):
        if name not in known:
            raise ConfigError(settings.source, f"vendor_cases.channels[{index}]",
                              f"channel {name!r} is not in [[oncall.channels]] "
                              f"({', '.join(known) or 'none configured'})")


def _beside(url: str, path: Path) -> str:
    """A relative SQLite path in the file means beside the file, as its other paths do."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.startswith("sqlite") or not rest or rest.startswith("/") \
            or rest.startswith(":memory:"):
        return url
    return f"{scheme}:///{path.absolute().parent / rest}"


_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
