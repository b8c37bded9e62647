"""DMI, CPU and memory readers: pure parsing tables, fixture sysfs trees, and this host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from agent.inventory.hardware import (
    chassis_type_name,
    parse_cpu_model,
    read_cpu,
    read_dmi,
    read_memory,
)
from agent.inventory.reading import Context, run_command

REPO = Path(__file__).resolve().parents[3]

# /proc/cpuinfo excerpts per architecture (first processor only).
X86 = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
"""
POWER9 = """processor\t: 0
cpu\t\t: POWER9 (architected), altivec supported
clock\t\t: 2750.000000MHz
"""
ARMV7 = """Processor\t: ARMv7 Processor rev 4 (v7l)
processor\t: 0
BogoMIPS\t: 38.40
"""
ARM64 = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer\t: 0x41
CPU part\t: 0xd0c
"""


@pytest.mark.parametrize(("text", "model"), [
    (X86, "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"),
    (POWER9, "POWER9 (architected), altivec supported"),
    (ARMV7, "ARMv7 Processor rev 4 (v7l)"),
    (ARM64, None),
    ("", None),
])
def test_parse_cpu_model(text: str, model: str | None) -> None:
    """Pure parsing of /proc/cpuinfo text."""
    assert parse_cpu_model(text) == model


@pytest.mark.parametrize(("value", "name"), [
    ("17", "Main Server Chassis"), ("23", "Rack Mount Chassis"), ("1", "Other"),
    ("99", None), ("x", None), (None, None), ("3\n", "Desktop"),
])
def test_chassis_type_name(value, name) -> None:
    """Pure SMBIOS chassis type lookup."""
    assert chassis_type_name(value) == name


def _sysfs(root: Path, fields: dict[str, str]) -> Path:
    directory = root / "sys/class/dmi/id"
    directory.mkdir(parents=True)
    for name, value in fields.items():
        (directory / name).write_text(value + "\n")
    return directory


SERVER = {
    "sys_vendor": "Dell Inc.", "product_name": "PowerEdge R640", "product_serial": "8XK2JQ2",
    "board_vendor": "Dell Inc.", "board_name": "0X45NX", "bios_vendor": "Dell Inc.",
    "bios_version": "2.19.1", "bios_date": "06/26/2023", "chassis_type": "23",
    "chassis_vendor": "Dell Inc.", "product_uuid": "4c4c4544-0058-4b10-8032-b8c04f4a5132",
}


def test_dmi_from_fixture_sysfs(tmp_path: Path) -> None:
    """A fixture /sys/class/dmi/id with real files; empty values are left out."""
    _sysfs(tmp_path, {**SERVER, "board_asset_tag": " "})
    reading = read_dmi(Context(root=tmp_path, run=run_command))
    assert reading.value == {**SERVER, "chassis_type_name": "Rack Mount Chassis"}
    assert reading.observations == ({"source": "dmi", "raw": reading.value},)


def test_no_dmi_table_is_not_an_error(tmp_path: Path) -> None:
    """An empty fixture root (a micro-VM such as this build host has no SMBIOS table)."""
    reading = read_dmi(Context(root=tmp_path, run=run_command))
    assert reading.value == {} and reading.observations == ()


def test_unreadable_serial_is_left_out(tmp_path: Path) -> None:
    """Real permissions: product_serial is mode 0000 and the reader runs in a child process
    without the capabilities that let root ignore file modes (setpriv drops CAP_DAC_OVERRIDE
    and CAP_DAC_READ_SEARCH when the suite runs as root) - the EACCES a non-root agent gets
    from sysfs. The serial is absent and nothing fails."""
    directory = _sysfs(tmp_path, SERVER)
    (directory / "product_serial").chmod(0o000)
    code = ("import json, sys; from pathlib import Path; "
            "from agent.inventory.hardware import read_dmi; "
            "from agent.inventory.reading import Context, run_command; "
            "r = read_dmi(Context(root=Path(sys.argv[1]), run=run_command)); "
            "print(json.dumps(r.value))")
    argv = [sys.executable, "-c", code, str(tmp_path)]
    if os.geteuid() == 0:
        argv = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *argv]
    out = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=True,
                         timeout=60).stdout
    value = json.loads(out)
    assert "product_serial" not in value
    assert value["product_name"] == "PowerEdge R640"


def test_cpu_and_memory_on_this_host() -> None:
    """The real /proc/cpuinfo and psutil of the machine running the tests."""
    ctx = Context(root=Path("/"), run=run_command)
    cpu = read_cpu(ctx).value
    assert cpu["logical_cpus"] == psutil.cpu_count() >= 1
    assert cpu["physical_cores"] is None or cpu["physical_cores"] >= 1
    if Path("/proc/cpuinfo").read_text().find("model name") >= 0:
        assert cpu["model"]
    assert read_memory(ctx).value["total_bytes"] == psutil.virtual_memory().total > 0
