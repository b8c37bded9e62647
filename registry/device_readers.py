"""Readers of devices and hardware: SNMP system descriptions (`snmp`: a network device, or a
host's kernel or Windows build), MikroTik RouterOS (`routeros`), SMBIOS identity (`dmi`), the
CPU model (`cpuinfo`, `redfish`) and NVIDIA drivers and GPUs (`nvidia-smi`).

The vendor tables are in registry/appliance_rules.py (sysDescr patterns, enterprise OIDs) and
registry/hardware_rules.py (CPU and GPU families).
"""

from __future__ import annotations

import re

from registry.appliance_readers import appliance_text_hit
from registry.appliance_rules import SNMP_ENTERPRISES, SNMP_RULES
from registry.catalog_index import CatalogIndex
from registry.command_output import parse_colons, rule_hit, text_of
from registry.hardware_rules import CPU_RULES, GPU_RULES
from registry.observations import Fields, Hit, scalar
from registry.os_readers import kernel_hit
from registry.product_rules import components, number

_SNMP_LINUX = re.compile(r"^Linux \S+ (\d+\.\d+\S*)")
_SNMP_FREEBSD = re.compile(r"^FreeBSD \S+ (\d+\.\d+-\S+)")
_SNMP_WINDOWS = re.compile(r"Software: Windows Version (\d+\.\d+) \(Build (\d+)")
_DEVICE_VERSION = re.compile(r"Version (\d+\.\d+[\w.]*)|RouterOS (\d+\.\d+[\w.]*)")


def _windows_by_build(ix: CatalogIndex, version: str, build: str) -> Hit | None:
    owners = [name for name in ("windows", "windows-server")
              if name in ix.cycles and number(build) in ix.cycles[name].by_build]
    if len(owners) != 1:
        return None  # a build that both client and server share (17763): cannot tell
    return Hit(owners[0], f"{version}.{build}", hints=(("build", build),))


def read_snmp(ix: CatalogIndex, f: Fields) -> Hit | None:
    descr = f.text("sysdescr", "descr", "description", "136121110", "13612111") \
        or text_of(f) or ""
    windows = _SNMP_WINDOWS.search(descr)
    if windows:
        return _windows_by_build(ix, windows.group(1), windows.group(2))
    hit = rule_hit(SNMP_RULES, descr) if descr else None
    if hit is None and descr:
        hit = appliance_text_hit(descr)
    if hit is False:
        return None
    product = hit.product if hit else None
    version = hit.version if hit else None
    if product is None:
        oid = f.text("sysobjectid", "objectid", "13612112") or ""
        for prefix, owner in SNMP_ENTERPRISES.items():
            if oid.lstrip(".") == prefix or oid.lstrip(".").startswith(prefix + "."):
                if owner is None:
                    return None
                product = owner
                break
    if product is None:  # a general-purpose host (net-snmp): its kernel
        linux = _SNMP_LINUX.match(descr)
        if linux:
            return kernel_hit("linux", linux.group(1))
        freebsd = _SNMP_FREEBSD.match(descr)
        return Hit("freebsd", freebsd.group(1)) if freebsd else None
    if version is None:
        found = _DEVICE_VERSION.search(descr)
        version = (found.group(1) or found.group(2)) if found else None
    if version is None:  # a separate version field: routeros_version, fgSysVersion, ...
        for key, value in f.items():
            if "version" in key and not key.startswith("snmp") and scalar(value):
                version = scalar(value)
                break
    return Hit(product, version)


def read_routeros(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = text_of(f) or ""
    values = Fields(parse_colons(text))
    version = values.text("version")
    if version and (values.text("platform", "boardname") or "RouterOS" in text
                    or "MikroTik" in text):
        return Hit("routeros", version)
    return None


def read_dmi(ix: CatalogIndex, f: Fields) -> Hit | None:
    """SMBIOS identity. The data covers Microsoft Surface devices only (no server vendors)."""
    vendor = f.text("sysvendor", "manufacturer", "vendor") or ""
    model = f.text("productname", "model", "product") or ""
    if "microsoft" in vendor.lower() and model.lower().startswith("surface"):
        slug = re.sub(r"\s+", "-", model.lower().removeprefix("surface").strip())
        return Hit("surface", cycle=slug) if slug else Hit("surface")
    return None


def _cpu_hit(model: str | None) -> Hit | None:
    if not model:
        return None
    for pattern, cycle in CPU_RULES:
        if pattern.search(model):
            return Hit("intel-processors", cycle=cycle)
    return None


def read_cpuinfo(ix: CatalogIndex, f: Fields) -> Hit | None:
    model = f.text("modelname", "model", "cpumodel", "processor", "name", "processorname")
    if not model:
        text = text_of(f) or ""
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        model = found.group(1) if found else None
    return _cpu_hit(model)


def read_redfish(ix: CatalogIndex, f: Fields) -> Hit | None:
    """A Redfish System/Processor resource: only the CPU model has data (Intel families)."""
    summary = f.mapping("processorsummary")
    model = (summary.text("model") if summary else None) or f.text("processormodel", "cpumodel")
    if model is None and (f.text("processortype") or "").lower() == "cpu":
        model = f.text("model")
    return _cpu_hit(model)


def read_nvidia_smi(ix: CatalogIndex, f: Fields) -> Hit | None:
    driver = f.text("driverversion", "driver")
    gpu = f.text("name", "gpuname", "productname", "gpu")
    text = text_of(f) or ""
    if not driver and text:
        found = re.search(r"Driver Version:\s*(\d[\d.]*)", text)
        if found:
            driver = found.group(1)
        elif "driver_version" in text:
            rows = [line.split(",") for line in text.strip().splitlines()]
            header = [h.strip() for h in rows[0]]
            if len(rows) > 1 and "driver_version" in header:
                values = rows[1]
                index = header.index("driver_version")
                driver = values[index].strip() if index < len(values) else None
    system = f.text("os", "platform", "system") or ("windows" if "Windows" in text else "")
    if driver and components(driver):
        return Hit("nvidia", driver, hints=(("os", system),) if system else ())
    if gpu:
        for pattern, cycle in GPU_RULES:
            if pattern.search(gpu):
                return Hit("nvidia-gpu", cycle=cycle)
    return None
