"""Per-filesystem size, free space, used ratio and inodes."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable

import psutil
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

# statvfs() on these can block for minutes when the server is gone: ask them in a thread.
_NETWORK_FSTYPES = re.compile(r"^(nfs4?|cifs|smb3?|smbfs|9p|ceph|glusterfs|fuse\..*|afs|lustre)$")
_LABELS = ["device", "mountpoint", "fstype"]


class FilesystemCollector:
    """Mounted filesystems minus pseudo ones (node_exporter's default exclusions).

    A network mount whose statvfs() does not answer within the timeout is reported with
    `regie_filesystem_device_error 1` and skipped (not asked again) until the stuck call
    returns, so one dead NFS server never stalls or piles up threads behind the scrape.
    """

    name = "filesystem"

    def __init__(self, *, exclude_fstypes: str, exclude_mountpoints: str,
                 timeout_seconds: float) -> None:
        self._exclude_fstypes = re.compile(exclude_fstypes)
        self._exclude_mountpoints = re.compile(exclude_mountpoints)
        self._timeout = timeout_seconds
        self._stuck: set[str] = set()
        self._lock = threading.Lock()

    def mounts(self) -> list[tuple[str, str, str, bool]]:
        """(device, mountpoint, fstype, readonly), last mount of a mountpoint winning."""
        seen: dict[str, tuple[str, str, str, bool]] = {}
        for part in psutil.disk_partitions(all=True):
            if self._exclude_fstypes.search(part.fstype):
                continue
            if self._exclude_mountpoints.search(part.mountpoint):
                continue
            readonly = "ro" in part.opts.split(",")
            seen[part.mountpoint] = (part.device, part.mountpoint, part.fstype, readonly)
        return list(seen.values())

    def collect(self) -> Iterable[Metric]:
        families = {
            "size": GaugeMetricFamily("regie_filesystem_size_bytes",
                                      "Filesystem size.", labels=_LABELS),
            "free": GaugeMetricFamily("regie_filesystem_free_bytes",
                                      "Free space, including blocks reserved for root.",
                                      labels=_LABELS),
            "avail": GaugeMetricFamily("regie_filesystem_avail_bytes",
                                       "Free space available to unprivileged users.",
                                       labels=_LABELS),
            "ratio": GaugeMetricFamily("regie_filesystem_used_ratio",
                                       "Share of space used, as df counts it: "
                                       "used / (used + avail).", labels=_LABELS),
            "files": GaugeMetricFamily("regie_filesystem_files",
                                       "Inodes in total.", labels=_LABELS),
            "files_free": GaugeMetricFamily("regie_filesystem_files_free",
                                            "Inodes free.", labels=_LABELS),
            "files_ratio": GaugeMetricFamily("regie_filesystem_files_used_ratio",
                                             "Share of inodes in use (filesystems without a "
                                             "fixed inode table, as btrfs, have none).",
                                             labels=_LABELS),
            "readonly": GaugeMetricFamily("regie_filesystem_readonly",
                                          "1 when mounted read-only.", labels=_LABELS),
            "error": GaugeMetricFamily("regie_filesystem_device_error",
                                       "1 when the filesystem could not be asked (stat failed "
                                       "or timed out).", labels=_LABELS),
        }
        for device, mountpoint, fstype, readonly in self.mounts():
            labels = [device, mountpoint, fstype]
            st = self._statvfs(mountpoint, fstype)
            families["error"].add_metric(labels, 0 if st else 1)
            if st is None:
                continue
            size = st.f_blocks * st.f_frsize
            free = st.f_bfree * st.f_frsize
            avail = st.f_bavail * st.f_frsize
            used = size - free
            families["size"].add_metric(labels, size)
            families["free"].add_metric(labels, free)
            families["avail"].add_metric(labels, avail)
            families["ratio"].add_metric(labels, used / (used + avail) if used + avail else 0.0)
            families["files"].add_metric(labels, st.f_files)
            families["files_free"].add_metric(labels, st.f_ffree)
            if st.f_files:
                families["files_ratio"].add_metric(labels, 1 - st.f_ffree / st.f_files)
            families["readonly"].add_metric(labels, 1 if readonly else 0)
        yield from families.values()

    def _statvfs(self, mountpoint: str, fstype: str) -> os.statvfs_result | None:
        if not _NETWORK_FSTYPES.match(fstype):
            try:
                return os.statvfs(mountpoint)
            except OSError as exc:
                log.debug("statvfs %s: %s", mountpoint, exc)
                return None
        with self._lock:
            if mountpoint in self._stuck:
                return None
        result: list[os.statvfs_result | None] = [None]

        def ask() -> None:
            try:
                result[0] = os.statvfs(mountpoint)
            except OSError:
                pass
            finally:
                with self._lock:
                    self._stuck.discard(mountpoint)

        with self._lock:
            self._stuck.add(mountpoint)
        worker = threading.Thread(target=ask, name=f"statvfs {mountpoint}", daemon=True)
        worker.start()
        worker.join(self._timeout)
        if worker.is_alive():
            log.warning("statvfs %s did not answer in %.0fs; skipping it until it does",
                        mountpoint, self._timeout)
            return None
        return result[0]
