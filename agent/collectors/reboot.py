"""Whether the host waits for a reboot, and since when.

Two independent reasons, each its own series:

- `packages`: Debian and Ubuntu's /var/run/reboot-required, which package maintainer scripts
  (the kernel's, libc's, systemd's) create when an update only takes effect after a reboot
  (update-notifier-common's convention); its mtime is when that became true.
- `kernel`: the running kernel (uname -r) is older than the newest one installed. Installed
  kernels are their images, `/boot/vmlinuz-<release>` (Debian, Ubuntu, RHEL, SUSE) and
  `/lib/modules/<release>/vmlinuz` (Fedora and RHEL's BLS layout, Arch), on every distribution
  and without asking a package manager; the image's mtime is when it was installed.

`regie_reboot_required{reason}` is 1 or 0; `..._since_timestamp_seconds{reason}` exists only
while it is 1, so a rule can say "for more than 7 days" (`time() - since > 7d`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

_RELEASE = re.compile(r"^\d+\.\d+")
_PARTS = re.compile(r"\d+|[^\d]+")


def version_key(release: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of kernel releases: 6.1.0-9-amd64 < 6.1.0-18-amd64 < 6.10.0-1-amd64."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _PARTS.findall(release))


def installed_kernels(root: Path) -> dict[str, float]:
    """{release: mtime of its image} for the kernels installed under `root`."""
    found: dict[str, float] = {}
    boot = root / "boot"
    try:
        for entry in os.scandir(boot):
            release = entry.name.removeprefix("vmlinuz-")
            if entry.name.startswith("vmlinuz-") and _RELEASE.match(release):
                found[release] = entry.stat().st_mtime
    except FileNotFoundError:
        pass
    for modules in (root / "lib/modules", root / "usr/lib/modules"):
        try:
            entries = list(os.scandir(modules))
        except FileNotFoundError:
            continue
        for entry in entries:
            try:
                found.setdefault(entry.name, os.stat(f"{entry.path}/vmlinuz").st_mtime)
            except (FileNotFoundError, NotADirectoryError):
                continue
    return found


class RebootCollector:
    name = "reboot"

    def __init__(self, root: Path = Path("/"),
                 running_release: Callable[[], str] = lambda: os.uname().release) -> None:
        self._root = root
        self._running = running_release

    def collect(self) -> Iterable[Metric]:
        required = GaugeMetricFamily(
            "regie_reboot_required", "1 when the host needs a reboot for this reason "
            "(packages: /var/run/reboot-required; kernel: a newer kernel is installed).",
            labels=["reason"])
        since = GaugeMetricFamily(
            "regie_reboot_required_since_timestamp_seconds",
            "When the reboot became required for this reason (Unix time).", labels=["reason"])
        try:
            flagged = (self._root / "var/run/reboot-required").stat().st_mtime
        except FileNotFoundError:
            flagged = None
        required.add_metric(["packages"], 0 if flagged is None else 1)
        if flagged is not None:
            since.add_metric(["packages"], flagged)
        kernels = installed_kernels(self._root)
        running = self._running()
        newer = [r for r in kernels if version_key(r) > version_key(running)]
        if kernels:  # nothing to compare with when no kernel image is visible (containers)
            required.add_metric(["kernel"], 1 if newer else 0)
        if newer:
            newest = max(newer, key=version_key)
            since.add_metric(["kernel"], kernels[newest])
        yield required
        yield since
