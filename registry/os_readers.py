"""Readers of operating-system identity: os-release, lsb_release, the /etc/*-release files, the
kernel (`kernel`: uname -r, /proc/version; `uname`), freebsd-version, AIX oslevel, and
hypervisor platforms (`esxcli`, `pveversion`: ESXi, vmware -vl, Proxmox VE, XCP-ng).

Each answers the OS product and its version as observed; the product's normaliser and cycle
picker (registry/cycle_selection.py) take it from there (SLES 15-SP4, AIX 7200-05). `kernel_hit`
is shared with the SNMP reader (registry/device_readers.py), which sees a host's kernel in
sysDescr. Windows hosts are read by registry/windows_readers.py.
"""

from __future__ import annotations

import re

from registry import product_rules as rules
from registry.appliance_rules import HYPERVISOR_RULES
from registry.catalog_index import CatalogIndex
from registry.command_output import (
    first_line,
    labelled_version,
    parse_assignments,
    parse_colons,
    rule_hit,
    text_of,
)
from registry.observations import Fields, Hit
from registry.product_rules import components


def read_os_release(ix: CatalogIndex, f: Fields) -> Hit | None:
    """/etc/os-release. CentOS Stream shares ID=centos with CentOS Linux: NAME (or
    PRETTY_NAME, REDHAT_SUPPORT_PRODUCT_VERSION) says "CentOS Stream"; and CentOS Linux ended
    with 8, so a centos 9 or later is Stream whatever the name."""
    if "id" not in f:
        text = text_of(f)
        if text and "=" in text:
            f = Fields(parse_assignments(text))
    names = " ".join(n for n in (f.text("name"), f.text("prettyname"),
                                 f.text("redhatsupportproductversion")) if n)
    product = ix.os_product(f.text("id"), names or None)
    if product is None:
        return None
    version = f.text("versionid", "version")
    if product == "centos":
        parts = components(version) if version else None
        if parts and parts[0] >= 9:
            product = "centos-stream"
    return Hit(product, version)


def read_lsb_release(ix: CatalogIndex, f: Fields) -> Hit | None:
    if not f.text("distributorid", "distribid"):
        text = text_of(f)
        if text:
            parsed = parse_colons(text) if ":" in text else {}
            parsed.update(parse_assignments(text) if "=" in text else {})
            f = Fields(parsed)
    distributor = f.text("distributorid", "distribid", "id")
    description = f.text("description", "distribdescription") or ""
    if distributor and distributor.lower() == "suse":
        product = "sles" if "enterprise server" in description.lower() else (
            "opensuse" if "opensuse" in description.lower() else None)
    else:
        product = ix.os_product(distributor, description)
    if product is None:
        return None
    return Hit(product, f.text("release", "distribrelease"))


def read_release_file(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = text_of(f, "release", "redhatrelease", "line")
    if not text:
        return None
    hit = rule_hit(rules.RELEASE_FILE_RULES, first_line(text))
    if not hit:
        return None
    if hit.product == "sles":  # /etc/SuSE-release: VERSION = 11 / PATCHLEVEL = 4
        values = {k.strip().upper(): v.strip() for k, _, v in
                  (line.partition("=") for line in text.splitlines()) if v}
        if values.get("VERSION", "").isdigit() and values.get("PATCHLEVEL", "").isdigit():
            return Hit("sles", f"{values['VERSION']}.{values['PATCHLEVEL']}")
    return hit


def _darwin_to_macos(release: str) -> str | None:
    parts = components(release)
    if not parts:
        return None
    major = parts[0]
    if major >= 25:  # Darwin 25 is macOS 26 (Tahoe): Apple moved to year numbers
        return str(major + 1)
    if major >= 20:  # Darwin 20 is macOS 11 (Big Sur)
        return str(major - 9)
    return f"10.{major - 4}" if major >= 4 else None


def kernel_hit(sysname: str | None, release: str | None, version: str | None = None
               ) -> Hit | None:
    """The OS a kernel belongs to, from uname's sysname, release and version (Linux when no
    sysname is given)."""
    if not release:
        return None
    release = release.strip()
    system = (sysname or "").strip().lower()
    if system in ("", "linux"):
        found = re.match(r"Linux version (\S+)", release)
        if found:
            release = found.group(1)
        if re.search(r"-Microsoft$", release.split()[0]):
            return None  # WSL 1 reports a fake 4.4 kernel: the host is Windows
        if re.match(r"\d+\.\d+-(RELEASE|STABLE|RC|BETA|PRERELEASE)", release):
            return Hit("freebsd", release)
        if not system and re.fullmatch(r"5\.\d+", release):
            # SunOS 5.x (`uname -r` on Solaris); Linux prints 5.10.0 and more. With a
            # Solaris `uname -v` it is Solaris; alone it is no match.
            return kernel_hit("SunOS", release, version) if version and \
                _SOLARIS_RV.match(f"{release} {version}") else None
        return Hit("linux", release) if components(release) else None
    if system == "freebsd":
        return Hit("freebsd", release)
    if system == "aix":  # uname -r is the release (2), uname -v the version (7)
        return Hit("ibm-aix", f"{version}.{release}.0.0" if version else None)
    if system == "sunos":
        if version and re.match(r"11\.\d", version):
            return Hit("oracle-solaris", version)
        parts = components(release)
        return Hit("oracle-solaris", str(parts[1]) if parts and len(parts) > 1 else None)
    if system == "darwin":
        return Hit("macos", _darwin_to_macos(release))
    if system in ("netbsd", "openbsd"):
        return Hit(system, release)
    return None


def read_kernel(ix: CatalogIndex, f: Fields) -> Hit | None:
    release = f.text("release", "kernelrelease", "kernel", "r", "unamer") or text_of(f)
    return kernel_hit(f.text("sysname", "kernelname", "s", "system"), release,
                      f.text("version", "v"))


# `uname -rv` on Solaris: release 5.10 / 5.11, then the version (11.4.42.111.0, 11.3,
# Generic_150400-40). Linux prints a three-part release (5.10.0-...) and a "#1 SMP" version.
_SOLARIS_RV = re.compile(r"^5\.\d+\s+(11\.\d[\d.]*|Generic\S*)$")


def read_uname(ix: CatalogIndex, f: Fields) -> Hit | None:
    sysname = f.text("sysname", "kernelname", "s", "system")
    release = f.text("release", "kernelrelease", "r")
    version = f.text("version", "kernelversion", "v")
    if not sysname or not release:
        text = text_of(f, "a", "uname")
        if text and _SOLARIS_RV.match(first_line(text)):
            release, version = first_line(text).split()
            return kernel_hit("SunOS", release, version)
        words = text.split() if text else []
        if len(words) < 3:
            return read_kernel(ix, f)
        sysname, release = words[0], words[2]
        version = words[3] if len(words) > 3 else None
    return kernel_hit(sysname, release, version)


def read_freebsd_version(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = f.text("userland", "u", "version", "release") or text_of(f) or f.text("kernel", "k")
    if text and re.match(r"\d+\.\d+-[A-Z]+", text):
        return Hit("freebsd", first_line(text))
    return None


def read_oslevel(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = f.text("oslevel", "level", "s", "version") or text_of(f)
    if text and re.match(r"\s*\d", text):
        return Hit("ibm-aix", first_line(text))
    return None


def read_hypervisor(ix: CatalogIndex, f: Fields) -> Hit | None:
    """esxcli / vmware -vl / pveversion / vCenter: a text, or esxcli's fields."""
    product = (f.text("product", "name") or "").lower()
    if "esxi" in product:
        return Hit("esxi", f.text("version"))
    if "vcenter server" in product:
        return Hit("vcenter", f.text("version"))
    manager = f.text("pvemanager", "proxmoxve")
    if manager:
        return Hit("proxmox-ve", manager)
    text = text_of(f)
    if not text:
        return None
    return rule_hit(HYPERVISOR_RULES, text, labelled_version) or None
