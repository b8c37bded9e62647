"""The agent's settings: one frozen tree, loaded from TOML once at start, then passed down.

Every key is documented in docs/configuration.md; the defaults here are the documented ones.
Command-line flags (`--listen`, `--collector`, `--token-file`) override the file.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from regie.configfile import (
    INTERNAL,
    ConfigError,
    Secret,
    build,
    check,
    listen_address,
    load_toml,
    non_negative,
    positive,
    read_secret_file,
    readable_file,
)
from regie.installation import role_sections, settings_source
from regie.private_files import exposure
from regie.scrape_target import advertise_problem, labels_problem

log = logging.getLogger("regie.agent")

DEFAULT_LISTEN = "127.0.0.1:9847"

# node_exporter's defaults (collector/filesystem_linux.go): pseudo and container filesystems
# say nothing about a host's disks and only add series.
DEFAULT_EXCLUDE_FSTYPES = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs"
    r"|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs"
    r"|squashfs|sysfs|tracefs)$"
)
DEFAULT_EXCLUDE_MOUNTPOINTS = (
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
# node_exporter's diskstats default: partitions and RAM/loop devices double-count I/O.
DEFAULT_EXCLUDE_DISKS = r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"


def _regex(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


def _absolute_patterns(value: tuple[str, ...]) -> str | None:
    relative = [p for p in value if not p.startswith("/")]
    if relative:
        return f"must be absolute paths or patterns, not {relative[0]!r}"
    return None


def _http_url(value: str) -> str | None:
    if not re.match(r"^https?://[^/\s]+", value):
        return f"must be an http:// or https:// URL, not {value!r}"
    # The rest is checked now rather than at every push: a host the resolver cannot encode
    # raises UnicodeError there, a cycle that fails forever. Not echoed: it may hold a password.
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        return "has a port that is not a number from 1 to 65535"
    host = parts.hostname or ""
    if port == 0 or not host:
        return "must name a host and a port from 1 to 65535"
    if ":" in host:
        return None   # an IPv6 literal, checked by urlsplit
    if host.isascii():
        # What the IDNA codec would refuse, without loading it (and unicodedata) on every agent.
        if any(not label or len(label) > 63 for label in host.removesuffix(".").split(".")):
            return "has a host that is not a valid DNS name (empty or over-long label)"
        return None
    try:
        encoded = host.encode("idna")
    except UnicodeError:
        return "has a host that is not a valid DNS name"
    # The codec maps before it splits and may itself empty a label: U+2488 (one character,
    # DIGIT ONE FULL STOP) is "1.", so "\u2488.example" encodes to b"1..example".
    if any(not label or len(label) > 63 for label in encoded.removesuffix(b".").split(b".")):
        return "has a host that is not a valid DNS name (empty or over-long label)"
    # urllib sends the host as written (its Host header in Latin-1): every push would fail.
    return f"has a host outside ASCII: write it in its IDNA form, {encoded.decode()!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSettings:
    listen: str = field(default=DEFAULT_LISTEN, metadata=check(listen_address))
    # TLS for /metrics: both files or neither.
    tls_cert_file: Path | None = field(default=None, metadata=check(readable_file))
    tls_key_file: Path | None = field(default=None, metadata=check(readable_file))
    # A request's line and headers (and the TLS handshake) must arrive within this.
    header_timeout_seconds: float = field(default=10.0, metadata=check(positive))
    # How long a kept-alive connection may wait for its next request.
    idle_timeout_seconds: float = field(default=30.0, metadata=check(positive))
    # A response the client does not take within this is abandoned.
    write_timeout_seconds: float = field(default=30.0, metadata=check(positive))
    # Open connections at most; beyond it the one waiting longest for its headers is dropped.
    max_connections: int = field(default=512, metadata=check(positive))
    # /metrics requests collecting or waiting at once (they share one collection); beyond: 503.
    max_requests: int = field(default=40, metadata=check(positive))
    # HOST:PORT Prometheus reaches this agent at, announced in the inventory push; unset: the
    # listen address, or this host's FQDN and the port when listening on 0.0.0.0 / [::].
    advertise_address: str | None = field(default=None, metadata=check(advertise_problem))

    def __post_init__(self) -> None:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file must be set together")


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthSettings:
    # Collector names from agent.collectors.COLLECTORS to leave out.
    disable: tuple[str, ...] = ()
    exclude_fstypes: str = field(default=DEFAULT_EXCLUDE_FSTYPES, metadata=check(_regex))
    exclude_mountpoints: str = field(default=DEFAULT_EXCLUDE_MOUNTPOINTS, metadata=check(_regex))
    exclude_disks: str = field(default=DEFAULT_EXCLUDE_DISKS, metadata=check(_regex))
    exclude_interfaces: str = field(default=r"^$", metadata=check(_regex))
    # statvfs() on a hung network mount blocks; give up after this and skip it until it answers.
    filesystem_timeout_seconds: float = field(default=5.0, metadata=check(positive))
    # `systemctl --failed` is a subprocess: cache its answer this long.
    systemd_cache_seconds: float = field(default=30.0, metadata=check(non_negative))
    # PEM certificate files (glob patterns, absolute) whose expiry is exported.
    certificate_files: tuple[str, ...] = field(default=(), metadata=check(_absolute_patterns))
    # How often the package manager is asked for pending updates (apt-get -s, dnf -C).
    updates_interval_seconds: float = field(default=3600.0, metadata=check(positive))
    # When each pending security update was first seen; survives agent restarts.
    updates_state_file: Path | None = Path("/var/lib/regie/updates-seen.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class PushSettings:
    # Where inventory goes; unset means the agent only serves /metrics.
    collector: str | None = field(default=None, metadata=check(_http_url))
    token_file: Path | None = None
    # CA bundle to verify an https:// collector with a private CA.
    ca_file: Path | None = field(default=None, metadata=check(readable_file))
    spool_dir: Path = Path("/var/lib/regie/spool")
    spool_max_bytes: int = field(default=64 * 1024 * 1024, metadata=check(positive))
    # Inventory is recomputed this often and pushed when it changed.
    inventory_interval_seconds: float = field(default=900.0, metadata=check(positive))
    # How often a non-empty spool is retried while the collector is away.
    retry_interval_seconds: float = field(default=30.0, metadata=check(positive))
    timeout_seconds: float = field(default=10.0, metadata=check(positive))
    fsync: bool = True
    # Allow sending the token over plain http:// to a non-loopback collector (not advised).
    insecure_http: bool = False
    # Labels the collector gives this agent's Prometheus target (site, role, ...).
    labels: dict[str, str] = field(default_factory=dict, metadata=check(labels_problem))


SnmpVersion = Literal["1", "2c", "3"]
AuthProtocol = Literal["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"]
PrivProtocol = Literal["DES", "3DES", "AES-128", "AES-192", "AES-256"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SnmpTarget:
    # The `target` label; credentials never become labels.
    name: str
    address: str
    port: int = field(default=161, metadata=check(lambda p: None if 0 < p < 65536 else
                                                  f"must be from 1 to 65535, not {p}"))
    # v3 authPriv unless v1/v2c is chosen explicitly.
    version: SnmpVersion = "3"
    community: Secret | None = None
    username: str | None = None
    auth_protocol: AuthProtocol = "SHA-256"
    auth_password: Secret | None = None
    priv_protocol: PrivProtocol = "AES-128"
    priv_password: Secret | None = None
    timeout_seconds: float | None = None
    retries: int | None = None

    def __post_init__(self) -> None:
        if self.version in ("1", "2c"):
            if not self.community:
                raise ValueError(f"target {self.name!r}: version {self.version} needs community")
        else:
            missing = [k for k in ("username", "auth_password", "priv_password")
                       if not getattr(self, k)]
            if missing:
                raise ValueError(
                    f"target {self.name!r}: SNMPv3 authPriv needs {', '.join(missing)}"
                )
            for key in ("auth_password", "priv_password"):
                if len(getattr(self, key)) < 8:
                    raise ValueError(
                        f"target {self.name!r}: {key} must be at least 8 characters (RFC 3414)"
                    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SnmpSettings:
    interval_seconds: float = field(default=60.0, metadata=check(positive))
    timeout_seconds: float = field(default=2.0, metadata=check(positive))
    retries: int = field(default=1, metadata=check(non_negative))
    # How many targets are polled at once.
    concurrency: int = field(default=16, metadata=check(positive))
    # Table rows (interfaces, storage areas, processors) held for all targets together, each
    # target an equal share: what the polls and their cached samples hold, and the scrape
    # built from them, stays within the unit's MemoryMax whatever the devices send
    # (about 15 KB per row with 255-octet names, the worst case; docs/configuration.md).
    max_rows: int = field(default=2000, metadata=check(positive))
    targets: tuple[SnmpTarget, ...] = ()

    def __post_init__(self) -> None:
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique: {', '.join(dupes)}")
        if self.max_rows < len(self.targets):
            raise ValueError(f"max_rows ({self.max_rows}) must be at least the number of "
                             f"targets ({len(self.targets)}): each has an equal share")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSettings:
    http: HttpSettings = HttpSettings()
    health: HealthSettings = HealthSettings()
    push: PushSettings = PushSettings()
    snmp: SnmpSettings = SnmpSettings()
    # Where the settings came from, for error messages.
    source: str = field(default="<defaults>", metadata=INTERNAL)
    # Read from push.token_file at load time; never from the TOML itself.
    token: Secret | None = field(default=None, repr=False, metadata=INTERNAL)


def load_settings(
    path: Path | None,
    *,
    listen: str | None = None,
    collector: str | None = None,
    token_file: Path | None = None,
) -> AgentSettings:
    """Load and validate; flags override the file. Raises ConfigError naming file and key."""
    # `path` is the installation file (regie/installation.py): the agent reads its own tables
    # ([http], [health], [push], [snmp]); relative paths resolve beside the file.
    source = settings_source(path)
    data = role_sections(load_toml(path), "agent", source) if path is not None else {}
    settings = build(AgentSettings, data, source=source)
    flag_source = "<command line>"
    if listen is not None:
        reason = listen_address(listen)
        if reason:
            raise ConfigError(flag_source, "--listen", reason)
        settings = replace(settings, http=replace(settings.http, listen=listen))
    if collector is not None:
        reason = _http_url(collector)
        if reason:
            raise ConfigError(flag_source, "--collector", reason)
        settings = replace(settings, push=replace(settings.push, collector=collector))
    push = settings.push
    token = None
    if token_file is not None:
        token = read_secret_file(token_file, source=flag_source, key="--token-file")
        push = replace(push, token_file=token_file)
    elif push.token_file is not None:
        token = read_secret_file(push.token_file, source=source, key="push.token_file")
    if token is not None:
        _warn_if_exposed(push.token_file)
    if (push.collector and push.collector.startswith("http://") and token is not None
            and not push.insecure_http):
        host = push.collector.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
        if host not in {"127.0.0.1", "localhost", "::1"}:
            # A bearer token over plain HTTP to another machine is readable on the wire.
            raise ConfigError(source, "push.collector",
                              "a token is sent only over https:// unless the collector is local "
                              "(set push.insecure_http = true to allow it)")
    return replace(settings, push=push, source=source, token=token)


def _warn_if_exposed(path: Path | None) -> None:
    """Warn (not refuse: an agent that stops reporting is worse) when users other than the
    agent can read its token, with the collector's own check and words. A root-owned file
    readable by the agent's group (``0640 root:regie``, as docs/operations.md installs it)
    is fine."""
    problem = exposure(path) if path is not None else None
    if problem:
        log.warning("the token file %s", problem)
