"""Expiry of the X.509 certificates in the files `health.certificate_files` names.

Each PEM file may hold a chain: every certificate in it is a series, labelled with the file,
its subject and issuer (RFC 4514 strings) and serial number, which are public parts of a
certificate. Private keys in the same file are skipped unread (only CERTIFICATE blocks are
parsed). Parsed certificates are kept until the file's mtime or size changes, so a scrape
only stat()s the files. A file that cannot be read or parsed is reported with
`regie_certificate_file_error{path} 1`, without dropping the other files' series.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from regie.configfile import read_regular_file

log = logging.getLogger(__name__)
# The largest certificate file read: a CA bundle of every public root is about 250 KB.
CERTIFICATE_FILE_BYTES = 16 * 1024 * 1024

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----",
                  re.DOTALL)
_LABELS = ["path", "subject", "issuer", "serial"]


@dataclass(frozen=True, slots=True)
class Certificate:
    subject: str
    issuer: str
    serial: str
    not_before: float
    not_after: float


def parse_certificates(data: bytes) -> list[Certificate]:
    """Every certificate in PEM `data`; ValueError when there is none or one is malformed."""
    # Imported here: only agents configured with certificate files pay for the module.
    from cryptography import x509

    blocks = _PEM.findall(data)
    if not blocks:
        raise ValueError("no PEM certificate in the file")
    out = []
    for block in blocks:
        cert = x509.load_pem_x509_certificate(block)
        out.append(Certificate(
            subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
            serial=format(cert.serial_number, "x"),
            not_before=cert.not_valid_before_utc.timestamp(),
            not_after=cert.not_valid_after_utc.timestamp(),
        ))
    return out


class CertificateCollector:
    name = "certificates"

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = tuple(patterns)
        # path -> ((mtime_ns, size), certificates or the reason it failed)
        self._cache: dict[str, tuple[tuple[int, int], list[Certificate] | str]] = {}

    def paths(self) -> list[str]:
        found: set[str] = set()
        for pattern in self._patterns:
            matches = glob.glob(pattern)
            # A plain path that is missing is reported as an error, not silently skipped.
            found.update(matches or ([] if glob.has_magic(pattern) else [pattern]))
        return sorted(found)

    def _read(self, path: str) -> list[Certificate] | str:
        try:
            st = os.stat(path)
            stamp = (st.st_mtime_ns, st.st_size)
            cached = self._cache.get(path)
            if cached and cached[0] == stamp:
                return cached[1]
            # A regular file only: a FIFO matched by a pattern blocked the scrape for ever,
            # and a device (/dev/zero) was read until memory ran out.
            data = read_regular_file(Path(path), limit=CERTIFICATE_FILE_BYTES)
            try:
                result: list[Certificate] | str = parse_certificates(data)
            except ValueError as exc:
                result = str(exc)
        except OSError as exc:
            return exc.strerror or type(exc).__name__
        if isinstance(result, str):
            log.warning("certificate file %s: %s", path, result)
        self._cache[path] = (stamp, result)
        return result

    def collect(self) -> Iterable[Metric]:
        not_after = GaugeMetricFamily("regie_certificate_not_after_timestamp_seconds",
                                      "When the certificate expires (Unix time).",
                                      labels=_LABELS)
        not_before = GaugeMetricFamily("regie_certificate_not_before_timestamp_seconds",
                                       "When the certificate becomes valid (Unix time).",
                                       labels=_LABELS)
        error = GaugeMetricFamily("regie_certificate_file_error",
                                  "1 when the file could not be read or holds no valid "
                                  "certificate.", labels=["path"])
        paths = self.paths()
        for path in paths:
            result = self._read(path)
            error.add_metric([path], 1 if isinstance(result, str) else 0)
            if isinstance(result, str):
                continue
            for cert in result:
                labels = [path, cert.subject, cert.issuer, cert.serial]
                not_after.add_metric(labels, cert.not_after)
                not_before.add_metric(labels, cert.not_before)
        for gone in set(self._cache) - set(paths):
            del self._cache[gone]
        yield from (not_after, not_before, error)
