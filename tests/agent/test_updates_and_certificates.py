"""Pending updates as metrics (with the first-seen dates kept across restarts), and certificate
expiry from PEM files the test makes.

The package manager is replaced by recorded answers in the inventory's shape (its parsing of
real apt and dnf output is tested in tests/agent/inventory/test_updates.py); time is an
injected clock.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prometheus_client import CollectorRegistry

from agent.collectors.certificates import CertificateCollector
from agent.collectors.updates import UpdatesCollector
from tests.agent.certs import make_ca, make_leaf

DAY = 86400.0


def update(package: str, *, security: bool, version: str = "2") -> dict:
    return {"manager": "apt", "package": package, "architecture": "amd64",
            "current_version": "1", "version": version, "origin": "x", "security": security,
            "advisories": []}


class Answers:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.pending: list[dict] | None = []

    def clock(self) -> float:
        return self.now

    def check(self) -> list[dict] | None:
        return self.pending


def values(collector) -> dict[str, float]:
    r = CollectorRegistry(auto_describe=False)
    r.register(collector)
    return {s.name: s.value for f in r.collect() for s in f.samples}


def test_counts_and_the_oldest_pending_security_update(tmp_path):
    answers = Answers()
    state = tmp_path / "updates-seen.json"

    def collector() -> UpdatesCollector:
        return UpdatesCollector(interval_seconds=3600, state_file=state, check=answers.check,
                                clock=answers.clock, start=False)

    c = collector()
    assert values(c) == {}   # not asked yet: nothing, rather than a false 0
    answers.pending = [update("openssl", security=True), update("vim", security=False)]
    c.refresh()
    first = answers.now
    assert values(c) == {"regie_updates_check_timestamp_seconds": first,
                         "regie_updates_pending": 2, "regie_updates_security_pending": 1,
                         "regie_updates_security_pending_since_timestamp_seconds": first}
    # Ten days on, openssl has a newer version still not installed, and a new one appears.
    answers.now += 10 * DAY
    answers.pending = [update("openssl", security=True, version="3"),
                       update("libc6", security=True)]
    c.refresh()
    assert values(c)["regie_updates_security_pending"] == 2
    assert values(c)["regie_updates_security_pending_since_timestamp_seconds"] == first
    # The agent restarts: the dates come back from the state file.
    answers.now += DAY
    restarted = collector()
    restarted.refresh()
    assert values(restarted)["regie_updates_security_pending_since_timestamp_seconds"] == first
    # openssl installed: the oldest is now libc6, first seen ten days after openssl.
    answers.now += DAY
    answers.pending = [update("libc6", security=True)]
    restarted.refresh()
    assert values(restarted)["regie_updates_security_pending_since_timestamp_seconds"] == \
        first + 10 * DAY
    answers.pending = []
    restarted.refresh()
    assert "regie_updates_security_pending_since_timestamp_seconds" not in values(restarted)
    assert values(restarted)["regie_updates_pending"] == 0


def test_without_a_package_manager_or_a_writable_state_file(tmp_path):
    answers = Answers()
    answers.pending = None
    c = UpdatesCollector(interval_seconds=3600, state_file=tmp_path / "missing-dir" / "f.json",
                         check=answers.check, clock=answers.clock, start=False)
    c.refresh()
    assert values(c) == {}
    answers.pending = [update("openssl", security=True)]
    c.refresh()   # cannot save: logged once, kept in memory
    assert values(c)["regie_updates_security_pending"] == 1


def test_certificate_expiry_subject_and_issuer(tmp_path):
    ca = make_ca(tmp_path, "Regie Test CA")
    not_after = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    leaf = make_leaf(tmp_path, ca, "web-01.example.net", not_after=not_after)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(Path(leaf.cert).read_bytes() + Path(ca.cert).read_bytes())
    # A key in the same file is skipped, never read into a label.
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(Path(leaf.key).read_bytes() + Path(leaf.cert).read_bytes())
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    c = CertificateCollector([str(chain), str(tmp_path / "bund*.pem"), str(broken),
                              str(tmp_path / "absent.pem")])
    r = CollectorRegistry(auto_describe=False)
    r.register(c)
    samples = [s for f in r.collect() for s in f.samples]
    expiry = {(s.labels["path"], s.labels["subject"]): s.value for s in samples
              if s.name == "regie_certificate_not_after_timestamp_seconds"}
    assert expiry[(str(chain), "CN=web-01.example.net")] == not_after.timestamp()
    assert (str(chain), "CN=Regie Test CA") in expiry
    assert expiry[(str(bundle), "CN=web-01.example.net")] == not_after.timestamp()
    leaf_labels = next(s.labels for s in samples if s.labels.get("path") == str(bundle))
    assert leaf_labels["issuer"] == "CN=Regie Test CA"
    assert "PRIVATE" not in repr(samples)
    errors = {s.labels["path"]: s.value for s in samples
              if s.name == "regie_certificate_file_error"}
    assert errors == {str(chain): 0, str(bundle): 0, str(broken): 1,
                      str(tmp_path / "absent.pem"): 1}
