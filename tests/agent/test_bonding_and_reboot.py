"""Bonding and link state from a captured sysfs tree, and reboot-required from file trees the
test builds (this machine has neither a bond nor /var/run/reboot-required, and no kernel image:
tests/agent/captures/README.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from agent.collectors.bonding import BondingCollector
from agent.collectors.link import LinkCollector
from agent.collectors.reboot import RebootCollector, installed_kernels, version_key

SYSFS = Path(__file__).parent / "captures" / "bonding" / "sys"


def registry(*collectors) -> CollectorRegistry:
    r = CollectorRegistry(auto_describe=False)
    for c in collectors:
        r.register(c)
    return r


def test_a_bond_with_one_slave_down():
    get = registry(BondingCollector(sysfs=SYSFS)).get_sample_value
    assert get("regie_bonding_slaves", {"master": "bond0"}) == 2
    assert get("regie_bonding_slaves_active", {"master": "bond0"}) == 1
    assert get("regie_bonding_slave_up", {"master": "bond0", "slave": "eno1"}) == 1
    assert get("regie_bonding_slave_up", {"master": "bond0", "slave": "eno2"}) == 0


def test_no_bonding_driver_means_empty_families(tmp_path):
    families = list(registry(BondingCollector(sysfs=tmp_path)).collect())
    assert len(families) == 3 and all(not f.samples for f in families)


def test_link_state_from_the_same_tree():
    get = registry(LinkCollector(exclude="^lo$", sysfs=SYSFS)).get_sample_value
    assert get("regie_network_carrier", {"device": "eno1"}) == 1
    assert get("regie_network_carrier", {"device": "eno2"}) == 0
    assert get("regie_network_speed_bytes", {"device": "eno1"}) == 125_000_000
    assert get("regie_network_speed_bytes", {"device": "eno2"}) is None  # down: no speed
    assert get("regie_network_carrier_changes_total", {"device": "eno2"}) == 3
    assert get("regie_network_carrier", {"device": "lo"}) is None  # excluded
    # bonding_masters, a file among the interface directories, is not an interface.
    assert get("regie_network_carrier", {"device": "bonding_masters"}) is None


@pytest.mark.parametrize(("older", "newer"), [
    ("6.1.0-9-amd64", "6.1.0-18-amd64"),
    ("6.1.0-18-amd64", "6.10.0-1-amd64"),
    ("4.18.0-477.10.1.el8_8.x86_64", "4.18.0-513.5.1.el8_9.x86_64"),
    ("5.15.0-91-generic", "5.15.0-101-generic"),
])
def test_kernel_releases_sort_naturally(older, newer):
    assert version_key(older) < version_key(newer)


def kernel_tree(root: Path, images: dict[str, float]) -> None:
    for path, mtime in images.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"\x7fELF")
        os.utime(file, (mtime, mtime))


def test_a_newer_kernel_installed_requires_a_reboot_since_its_install(tmp_path):
    kernel_tree(tmp_path, {"boot/vmlinuz-6.1.0-17-amd64": 1_700_000_000,
                           "boot/vmlinuz-6.1.0-18-amd64": 1_710_000_000,
                           "boot/vmlinuz-6.1.0-9-amd64": 1_690_000_000,
                           "boot/config-6.1.0-18-amd64": 1_710_000_000,
                           "lib/modules/6.1.0-18-amd64/modules.dep": 1_710_000_000})
    assert set(installed_kernels(tmp_path)) == {"6.1.0-9-amd64", "6.1.0-17-amd64",
                                                "6.1.0-18-amd64"}
    get = registry(RebootCollector(tmp_path, lambda: "6.1.0-17-amd64")).get_sample_value
    assert get("regie_reboot_required", {"reason": "kernel"}) == 1
    assert get("regie_reboot_required_since_timestamp_seconds",
               {"reason": "kernel"}) == 1_710_000_000
    assert get("regie_reboot_required", {"reason": "packages"}) == 0
    # Running the newest: nothing required, no "since".
    get = registry(RebootCollector(tmp_path, lambda: "6.1.0-18-amd64")).get_sample_value
    assert get("regie_reboot_required", {"reason": "kernel"}) == 0
    assert get("regie_reboot_required_since_timestamp_seconds", {"reason": "kernel"}) is None


def test_bls_and_arch_layouts_count_too(tmp_path):
    """Fedora/RHEL (BLS) and Arch keep the image in /usr/lib/modules/<release>/vmlinuz."""
    kernel_tree(tmp_path, {"usr/lib/modules/6.7.4-arch1-1/vmlinuz": 1_707_000_000,
                           "usr/lib/modules/6.6.8-arch1-1/vmlinuz": 1_703_000_000,
                           "boot/vmlinuz-linux": 1_707_000_000})
    get = registry(RebootCollector(tmp_path, lambda: "6.6.8-arch1-1")).get_sample_value
    assert get("regie_reboot_required", {"reason": "kernel"}) == 1
    assert get("regie_reboot_required_since_timestamp_seconds",
               {"reason": "kernel"}) == 1_707_000_000


def test_reboot_required_file_since_its_mtime(tmp_path):
    flag = tmp_path / "var/run/reboot-required"
    flag.parent.mkdir(parents=True)
    flag.write_text("*** System restart required ***\n")
    os.utime(flag, (1_720_000_000, 1_720_000_000))
    get = registry(RebootCollector(tmp_path, lambda: "6.1.0-18-amd64")).get_sample_value
    assert get("regie_reboot_required", {"reason": "packages"}) == 1
    assert get("regie_reboot_required_since_timestamp_seconds",
               {"reason": "packages"}) == 1_720_000_000
    # No kernel image visible (a container): no kernel verdict at all rather than a false 0.
    assert get("regie_reboot_required", {"reason": "kernel"}) is None


def test_this_machine_answers_without_error():
    """The real root: whatever this host's state, the collector reads it without failing."""
    families = {f.name: f for f in RebootCollector().collect()}
    packages = {s.labels["reason"]: s.value for s in families["regie_reboot_required"].samples}
    assert packages["packages"] == (1 if os.path.exists("/var/run/reboot-required") else 0)
