"""The whole document: collect_inventory() on this host for real, on a fixture root with a
stand-in runner, with failing readers, and document_digest()."""

from __future__ import annotations

import copy
import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.inventory import READERS, SCHEMA, collect_inventory, document_digest
from agent.inventory.reading import Completed, Reader, Reading
from tests.agent.inventory.test_os_release import ALPINE_319
from tests.agent.inventory.test_packages import DPKG_OUTPUT
from tests.agent.inventory.test_updates import APT_OUTPUT

TOP_LEVEL = ["schema", "collected_at", "host", "os", "kernel", "hardware", "packages",
             "updates", "services", "observations", "errors"]


@pytest.fixture(scope="module")
def this_host() -> tuple[dict, float]:
    start = time.perf_counter()
    document = collect_inventory()
    return document, time.perf_counter() - start


def test_this_host_document(this_host: tuple[dict, float]) -> None:
    """Every real reader on the Debian 12 build host (real dpkg-query, apt-get -s, /etc,
    /proc, psutil); nothing faked. Also bounds the time it takes (generously)."""
    document, seconds = this_host
    assert list(document) == TOP_LEVEL
    assert document["schema"] == SCHEMA
    assert datetime.fromisoformat(document["collected_at"]).tzinfo is not None
    assert document["errors"] == []
    assert document["os"]["ID"] == "debian"
    assert document["kernel"]["release"] == subprocess.run(
        ["uname", "-r"], capture_output=True, text=True, check=True).stdout.strip()
    assert document["host"]["machine_id"]
    assert document["hardware"]["memory"]["total_bytes"] > 0
    assert any(p["name"] == "dpkg" and p["manager"] == "dpkg" for p in document["packages"])
    assert all(isinstance(u["security"], bool) for u in document["updates"])
    json.dumps(document)  # serialisable as it is
    assert seconds < 60, f"collect_inventory took {seconds:.1f}s"


def test_this_host_observations(this_host: tuple[dict, float]) -> None:
    """The observations of the real document: os-release first, then kernel, then one dpkg
    observation per package, each in the shape the registry matcher reads."""
    document, _ = this_host
    observations = document["observations"]
    assert observations[0] == {"source": "os-release", "raw": document["os"]}
    assert observations[1] == {"source": "kernel",
                               "raw": {"release": document["kernel"]["release"]}}
    dpkg = [o for o in observations if o["source"] == "dpkg"]
    assert len(dpkg) == len(document["packages"])
    assert all(set(o["raw"]) >= {"package", "version"} for o in dpkg)
    assert sum(o["source"] == "os-release" for o in observations) == 1
    assert sum(o["source"] == "kernel" for o in observations) == 1


def _fixture_root(root: Path) -> Path:
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text(ALPINE_319)
    (root / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    dmi = root / "sys/class/dmi/id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("QEMU\n")
    (dmi / "product_name").write_text("Standard PC (Q35 + ICH9, 2009)\n")
    return root


def _runner(answers: dict[str, Completed | Exception]):
    """A stand-in for the real runner, keyed by program: shows several package managers'
    output, a timeout and a failure on one host, which no real host offers at once."""
    calls: list[str] = []

    def run(argv, *, timeout):
        calls.append(argv[0])
        assert timeout > 0  # every command is bounded
        answer = answers.get(argv[0], FileNotFoundError(2, "No such file", argv[0]))
        if isinstance(answer, Exception):
            raise answer
        return answer

    run.calls = calls  # type: ignore[attr-defined]
    return run


def test_fixture_root_with_failures(tmp_path: Path) -> None:
    """Fixture root + stand-in runner: dpkg answers, apt-get times out, rpm exits 1, dnf is
    missing. Each failure is one `errors` entry; everything else is still there."""
    run = _runner({
        "dpkg-query": Completed(0, DPKG_OUTPUT),
        "apt-get": subprocess.TimeoutExpired(["apt-get", "-s"], 120),
        "rpm": Completed(1, "", "error: cannot open Packages database\n"),
    })
    document = collect_inventory(root=_fixture_root(tmp_path), run=run,
                                 now=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert document["collected_at"] == "2026-01-02T03:04:05+00:00"
    assert document["errors"] == [
        {"reader": "rpm", "error": "rpm exited with status 1: error: cannot open Packages "
                                   "database"},
        {"reader": "apt", "error": "apt-get timed out after 120s"},
    ]
    assert document["os"]["ID"] == "alpine"
    assert document["host"]["machine_id"] == "0123456789abcdef0123456789abcdef"
    assert document["hardware"]["dmi"] == {"sys_vendor": "QEMU",
                                           "product_name": "Standard PC (Q35 + ICH9, 2009)"}
    assert [p["name"] for p in document["packages"]][:2] == ["bash", "dpkg"]
    assert document["updates"] == []
    sources = [o["source"] for o in document["observations"]]
    assert sources[:3] == ["os-release", "kernel", "dmi"]
    assert set(sources[3:]) == {"dpkg"}
    assert run.calls == ["dpkg-query", "rpm", "apt-get", "dnf"]


def test_missing_os_release_is_an_error_not_an_abort(tmp_path: Path) -> None:
    """An empty fixture root and a runner with no programs at all."""
    document = collect_inventory(root=tmp_path, run=_runner({}))
    assert document["errors"] == [
        {"reader": "os-release",
         "error": "neither /etc/os-release nor /usr/lib/os-release exists"}]
    assert document["os"] == {} and document["packages"] == []


def test_a_raising_reader_costs_only_itself(tmp_path: Path) -> None:
    """A reader that raises (a stand-in for any bug) between two real ones."""
    def broken(ctx):
        raise RuntimeError("boom")

    readers = (READERS[0], Reader(name="broken", target=("hardware", "gpu"), read=broken),
               Reader(name="fixed", target=("hardware", "gpu"), read=lambda ctx: Reading("x")))
    document = collect_inventory(root=tmp_path, run=_runner({}), readers=readers)
    assert document["errors"] == [{"reader": "broken", "error": "RuntimeError: boom"}]
    assert document["hardware"] == {"gpu": "x"}
    assert document["host"]["hostname"]


def test_extra_observations_come_last(tmp_path: Path) -> None:
    """The SNMP poller's observations (here written by hand) follow the host's own."""
    snmp = {"source": "snmp", "target": "core-sw1",
            "raw": {"sysDescr": "Cisco IOS Software [Gibraltar], Version 16.12.4"}}
    document = collect_inventory(root=_fixture_root(tmp_path), run=_runner({}),
                                 extra_observations=[snmp])
    assert document["observations"][-1] == snmp
    with pytest.raises(ValueError, match="source"):
        collect_inventory(root=tmp_path, run=_runner({}), extra_observations=[{"raw": {}}])


def test_digest_ignores_only_collected_at(tmp_path: Path) -> None:
    """Pure: document_digest over documents built from one fixture root."""
    run = _runner({"dpkg-query": Completed(0, DPKG_OUTPUT), "apt-get": Completed(0, APT_OUTPUT)})
    root = _fixture_root(tmp_path)
    first = collect_inventory(root=root, run=run, readers=[r for r in READERS
                                                            if r.name != "services"])
    later = dict(first, collected_at="2030-01-01T00:00:00+00:00")
    assert document_digest(later) == document_digest(first)
    reordered = dict(reversed(list(first.items())))
    assert document_digest(reordered) == document_digest(first)
    changed = copy.deepcopy(first)
    changed["packages"][0]["version"] += "+1"
    assert document_digest(changed) != document_digest(first)
    assert len(document_digest(first)) == 64
