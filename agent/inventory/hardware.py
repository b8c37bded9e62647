"""The machine: SMBIOS/DMI identity from sysfs, the CPU model and counts, memory size.

/sys/class/dmi/id exists wherever the firmware provides an SMBIOS table (PCs, servers and most
hypervisors; not every ARM board or micro-VM). The serial numbers and UUID are readable by root
only; unreadable files are simply left out.
"""

from __future__ import annotations

import psutil

from agent.inventory.reading import Context, Reading

DMI_DIR = "/sys/class/dmi/id"

# The files read from DMI_DIR, in document order.
DMI_FIELDS = (
    "sys_vendor",
    "product_name",
    "product_version",
    "product_family",
    "product_sku",
    "product_serial",  # root only
    "product_uuid",  # root only
    "board_vendor",
    "board_name",
    "board_version",
    "board_serial",  # root only
    "board_asset_tag",
    "bios_vendor",
    "bios_version",
    "bios_date",
    "bios_release",
    "chassis_vendor",
    "chassis_type",
    "chassis_version",
    "chassis_serial",  # root only
    "chassis_asset_tag",
)

# SMBIOS "System Enclosure or Chassis Types" (DMTF DSP0134, 7.4.1); sysfs gives the number.
CHASSIS_TYPES = {
    1: "Other", 2: "Unknown", 3: "Desktop", 4: "Low Profile Desktop", 5: "Pizza Box",
    6: "Mini Tower", 7: "Tower", 8: "Portable", 9: "Laptop", 10: "Notebook", 11: "Hand Held",
    12: "Docking Station", 13: "All in One", 14: "Sub Notebook", 15: "Space-saving",
    16: "Lunch Box", 17: "Main Server Chassis", 18: "Expansion Chassis", 19: "SubChassis",
    20: "Bus Expansion Chassis", 21: "Peripheral Chassis", 22: "RAID Chassis",
    23: "Rack Mount Chassis", 24: "Sealed-case PC", 25: "Multi-system chassis",
    26: "Compact PCI", 27: "Advanced TCA", 28: "Blade", 29: "Blade Enclosure", 30: "Tablet",
    31: "Convertible", 32: "Detachable", 33: "IoT Gateway", 34: "Embedded PC", 35: "Mini PC",
    36: "Stick PC",
}

# /proc/cpuinfo keys that name the CPU, by architecture: x86, MIPS, PowerPC, 32-bit ARM.
# arm64 kernels print no model name at all (only implementer/part numbers).
_CPU_MODEL_KEYS = ("model name", "cpu model", "cpu", "Processor")


def chassis_type_name(value: str | None) -> str | None:
    if value is None or not value.strip().isdigit():
        return None
    return CHASSIS_TYPES.get(int(value))


def parse_cpu_model(cpuinfo: str) -> str | None:
    """The first processor's model name from /proc/cpuinfo text, or None."""
    found: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key in _CPU_MODEL_KEYS and key not in found and value.strip():
            found[key] = " ".join(value.split())
    return next((found[k] for k in _CPU_MODEL_KEYS if k in found), None)


def read_dmi(ctx: Context) -> Reading:
    directory = ctx.path(DMI_DIR)
    fields: dict[str, str] = {}
    if directory.is_dir():
        for name in DMI_FIELDS:
            try:
                value = (directory / name).read_text(encoding="utf-8", errors="replace")
            except OSError:  # EACCES for the serials as non-root; absent on older kernels
                continue
            if value.strip():
                fields[name] = value.strip()
    name = chassis_type_name(fields.get("chassis_type"))
    if name:
        fields["chassis_type_name"] = name
    if not fields:  # no SMBIOS table: nothing to observe
        return Reading({})
    return Reading(fields, ({"source": "dmi", "raw": dict(fields)},))


def read_cpu(ctx: Context) -> Reading:
    try:
        model = parse_cpu_model(ctx.path("/proc/cpuinfo").read_text(errors="replace"))
    except OSError:
        model = None
    return Reading({"model": model, "logical_cpus": psutil.cpu_count(),
                    "physical_cores": psutil.cpu_count(logical=False)})


def read_memory(ctx: Context) -> Reading:
    return Reading({"total_bytes": psutil.virtual_memory().total})
