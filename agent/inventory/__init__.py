"""The host inventory: what runs here, pushed to the collector for the end-of-support registry.

`collect_inventory()` runs every reader in READERS (the one table where a reader is registered)
and assembles one JSON-serialisable document::

    {"schema": "regie.inventory/v1", "collected_at": "2026-11-29T20:00:00+00:00",
     "host": {...}, "os": {...}, "kernel": {...}, "hardware": {...},
     "packages": [...], "updates": [...], "services": [...],
     "observations": [{"source": "os-release", "raw": {...}}, ...],
     "errors": [{"reader": "dnf", "error": "..."}]}

`observations` are the raw facts in the shapes the registry matcher consumes (os-release,
kernel, dmi, one per package as dpkg/rpm/apk, plus whatever the caller adds, e.g. snmp).
A reader that fails leaves its part empty and one entry in `errors`; the document is always
produced. Readers run one after another: a slower inventory is better than a CPU burst on the
server the agent is there to watch.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.inventory import hardware, host, kernel, os_release, packages, services, updates
from agent.inventory.reading import CommandFailed, Context, Reader, Run, run_command

SCHEMA = "regie.inventory/v1"

# The only place a reader is registered. Order is document order (observations included).
READERS: tuple[Reader, ...] = (
    Reader(name="host", target=("host",), read=host.read_host),
    Reader(name="fqdn", target=("host", "fqdn"), read=host.read_fqdn),
    Reader(name="os-release", target=("os",), read=os_release.read_os_release),
    Reader(name="kernel", target=("kernel",), read=kernel.read_kernel),
    Reader(name="dmi", target=("hardware", "dmi"), read=hardware.read_dmi),
    Reader(name="cpu", target=("hardware", "cpu"), read=hardware.read_cpu),
    Reader(name="memory", target=("hardware", "memory"), read=hardware.read_memory),
    Reader(name="dpkg", target=("packages",), read=packages.read_dpkg),
    Reader(name="rpm", target=("packages",), read=packages.read_rpm),
    Reader(name="apk", target=("packages",), read=packages.read_apk),
    Reader(name="apt", target=("updates",), read=updates.read_apt),
    Reader(name="dnf", target=("updates",), read=updates.read_dnf),
    Reader(name="services", target=("services",), read=services.read_services),
)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, subprocess.TimeoutExpired):
        program = exc.cmd[0] if isinstance(exc.cmd, list | tuple) else exc.cmd
        return f"{program} timed out after {exc.timeout:g}s"
    if isinstance(exc, CommandFailed):
        return str(exc)
    if isinstance(exc, OSError):
        if exc.strerror:
            return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _place(document: dict[str, Any], target: tuple[str, ...], value: Any) -> None:
    parent = document
    for key in target[:-1]:
        parent = parent.setdefault(key, {})
    if isinstance(parent.get(target[-1]), list):
        parent[target[-1]].extend(value)
    else:
        parent[target[-1]] = value


def _observation(item: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(item, Mapping) or not isinstance(item.get("source"), str) \
            or not isinstance(item.get("raw"), Mapping):
        raise ValueError(f"an observation is {{'source': str, 'raw': dict}}, not {item!r}")
    return {**item, "raw": dict(item["raw"])}


def collect_inventory(
    *,
    extra_observations: Sequence[Mapping[str, Any]] = (),
    root: Path = Path("/"),
    run: Run = run_command,
    readers: Sequence[Reader] = READERS,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Read this host's inventory. Never raises for a reader's failure (see `errors`)."""
    extra = [_observation(o) for o in extra_observations]
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "collected_at": now().astimezone(UTC).isoformat(timespec="seconds"),
        "host": {}, "os": {}, "kernel": {}, "hardware": {},
        "packages": [], "updates": [], "services": [],
        "observations": [], "errors": [],
    }
    ctx = Context(root=root, run=run)
    for reader in readers:
        try:
            reading = reader.read(ctx)
        except Exception as exc:  # one reader must never cost the document
            document["errors"].append({"reader": reader.name, "error": _describe(exc)})
            continue
        if reading is None:  # does not apply to this host
            continue
        _place(document, reader.target, reading.value)
        document["observations"].extend(reading.observations)
    document["observations"].extend(extra)
    return document


def document_digest(document: Mapping[str, Any]) -> str:
    """A stable hash of the content, `collected_at` left out: equal digests, nothing changed."""
    content = {k: v for k, v in document.items() if k != "collected_at"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


__all__ = ["READERS", "SCHEMA", "Reader", "collect_inventory", "document_digest"]
