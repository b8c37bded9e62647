"""An inventory push whose document is odd where no schema rule looks: stored (or refused with
a 4xx), never a 500, and the same on SQLite and PostgreSQL.

Real collector process on both backends (the shared `collector` fixture), pushes through
`POST /api/v1/inventory`. The document's free parts (`collected_at`, `errors`, `updates`,
`packages`) are read by the update history inside the push's transaction
(registry/patch_history.py): each case below was a 500 on one backend or both.
"""

from __future__ import annotations

import urllib.parse
import uuid

import pytest


def push(collector, host: str, **document) -> tuple[int, object]:
    return collector.call("POST", "/api/v1/inventory", {
        "idempotency_key": uuid.uuid4().hex,
        "document": {"schema": "regie.inventory/v1", "host": {"hostname": host}, **document}},
        token="agent")


def pending(collector, host: str) -> list[dict]:
    status, body = collector.call("GET", "/api/v1/patch/status?host="
                                  f"{urllib.parse.quote(host)}&updates=true",
                                  token="viewer")
    assert status == 200, body
    return [u for h in body["hosts"] for u in h.get("updates", [])]


UPDATE = {"manager": "apt", "package": "openssl", "architecture": "amd64", "version": "3.0.15",
          "security": True}


@pytest.mark.parametrize("collected_at", [
    # Years 1 to 9999 as written, outside them in UTC: Python's astimezone overflowed.
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+14:00"])
def test_a_collection_time_outside_the_calendar_in_utc_is_the_receipt_time(collector,
                                                                           collected_at):
    host = f"odd-{uuid.uuid4().hex[:8]}"
    status, body = push(collector, host, collected_at=collected_at, updates=[UPDATE])
    assert status == 202, body
    [update] = pending(collector, host)
    assert update["package"] == "openssl"
    # First seen when the push was received, not in year 1 or 9999.
    assert 0 <= update["age_days"] < 1, update


@pytest.mark.parametrize("reader", [{}, [], [1], {"a": {"b": []}}, None, 7])
def test_an_error_entry_whose_reader_is_no_name_names_no_reader(collector, reader):
    host = f"odd-{uuid.uuid4().hex[:8]}"
    status, body = push(collector, host, updates=[UPDATE],
                        errors=[{"reader": reader, "error": "x"}])
    assert status == 202, body
    # No update reader failed, so the offered update is recorded.
    assert [u["package"] for u in pending(collector, host)] == ["openssl"]


def test_an_update_key_of_four_byte_characters_fits_postgresqls_index(collector):
    """The pending-entry key (host, manager, package, architecture, version) is one entry of
    a unique index, capped at 2,704 bytes on PostgreSQL: 255 four-byte characters in each of
    the host, package and version were 3,120 bytes (SQLSTATE 54000, a 500; SQLite stored
    them). The parts are now cut to UTF-8 bytes, so both backends store the push."""
    wide = "\U0001F600" * 255
    host = "\U00010400" * 255
    status, body = push(collector, host, updates=[
        {**UPDATE, "package": wide, "version": "\U00020000" * 255, "manager": "\U0001F4E6" * 16,
         "architecture": "\U0001F5A5" * 32}])
    assert status == 202, body
    [update] = pending(collector, host)
    assert len(update["package"].encode()) <= 255 and update["package"] == "\U0001F600" * 63
    assert len(update["version"].encode()) <= 255


def test_an_installed_version_longer_than_its_column_is_cut_not_a_500(collector):
    """A package installed at a version over 255 characters closes the pending update: on
    PostgreSQL the version went whole into a VARCHAR(255) (SQLSTATE 22001, a 500)."""
    host = f"odd-{uuid.uuid4().hex[:8]}"
    installed = "3.0.15" + ".0" * 200
    status, body = push(collector, host, updates=[UPDATE],
                        packages=[{"manager": "dpkg", "name": "openssl", "version": "3.0.14",
                                   "architecture": "amd64"}])
    assert status == 202, body
    assert len(pending(collector, host)) == 1
    status, body = push(collector, host, updates=[],
                        packages=[{"manager": "dpkg", "name": "openssl", "version": installed,
                                   "architecture": "amd64"}])
    assert status == 202, body
    assert pending(collector, host) == []


DIGITS = "9" * 5000


@pytest.mark.parametrize("observation", [
    # A version's number past 4,300 digits: int() raised in the end-of-support matching.
    {"source": "kernel", "raw": {"release": DIGITS}},
    {"source": "uname", "raw": {"text": DIGITS}},
    {"source": "oslevel", "raw": {"version": DIGITS}},
    {"source": "snmp", "raw": {"sysDescr": "Hardware: x86 Software: Windows Version 10.0 "
                                           f"(Build {DIGITS} Multiprocessor Free)"}},
    {"source": "os-release", "raw": {"ID": "sles", "VERSION_ID": DIGITS + "-SP1"}},
    {"source": "os-release", "raw": {"ID": "sles", "VERSION_ID": "15-SP" + DIGITS}},
    # The service-pack search was quadratic in a run of digits (40,000: 45 s in the push
    # handler, every other request waiting); 400,000 would take over an hour.
    {"source": "os-release", "raw": {"ID": "sles", "VERSION_ID": "9" * 400_000}},
])
def test_a_version_of_absurd_numbers_is_stored_without_a_cycle(collector, observation):
    status, answer = push(collector, "digits-01", observations=[observation])
    assert status == 202, answer
    status, host = collector.call("GET", "/api/v1/hosts/digits-01", token="viewer")
    assert status == 200, host
    # The product may be known (sles, ibm-aix), no cycle is read from such numbers.
    assert [item["cycle"] for item in host["end_of_support_items"]] in ([], [None]), host
