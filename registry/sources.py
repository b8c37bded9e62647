"""Which reader reads an observation: SOURCES, one table from an observation's source to its reader.

A reader turns an observation's raw fields (`Fields`, registry/observations.py) into a `Hit`: a
product name, the version as observed (or an explicit cycle name), and hints for the product's
cycle picker (Windows build and edition, SQL Server service pack, ...). Readers find products
through the `CatalogIndex` (registry/catalog_index.py) and the text rules of
registry/product_rules.py; they are lenient about key names (case, punctuation: VERSION_ID,
versionId and version-id are one key) and never raise on odd values. They are grouped by what
they read, one module per family:

- registry/os_readers.py: os-release, lsb_release, redhat-release, kernel, uname,
  freebsd-version, oslevel, and hypervisors (esxcli, pveversion);
- registry/windows_readers.py: windows, registry, powershell;
- registry/app_readers.py: binary, http-banner, api, container-image, mssql, sql;
- registry/device_readers.py: snmp, routeros, dmi, cpuinfo, redfish, nvidia-smi;
- registry/appliance_readers.py: network, storage and virtualisation appliances (their CLI
  output over ssh, login banners, management-API answers for `api`);
- registry/command_output.py: what they share (an observation's output text, its first
  version, KEY=value and Key: value lines, text rules).

This module holds the routing: SOURCES, and the two readers that route on to others by what
was read, `read_ssh` (by the command run, through SOURCES) and `read_file` (by the file's
path). A source without a reader goes to `read_unknown`; a purl or CPE in any observation is
read first, by `identifier_hit`, except for the sources in IDENTIFIERS_LAST, whose reader knows
better (os-release). Installed packages (dpkg, rpm, apk, ...) have no reader: the matcher
looks their names up in the index directly (registry/matching.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from registry.app_readers import (
    app_hit,
    banner_hit,
    read_api,
    read_binary,
    read_container_image,
    read_http_banner,
    read_mssql,
    read_sql,
)
from registry.appliance_readers import appliance_fields_hit, appliance_text_hit
from registry.catalog_index import CatalogIndex
from registry.command_output import first_line, first_version, text_of
from registry.device_readers import (
    read_cpuinfo,
    read_dmi,
    read_nvidia_smi,
    read_redfish,
    read_routeros,
    read_snmp,
)
from registry.identifiers import parse_purl, purl_image_key
from registry.observations import Fields, Hit
from registry.os_readers import (
    read_freebsd_version,
    read_hypervisor,
    read_kernel,
    read_lsb_release,
    read_os_release,
    read_oslevel,
    read_release_file,
    read_uname,
)
from registry.windows_readers import read_powershell, read_registry, read_windows

__all__ = ["IDENTIFIERS_LAST", "SOURCES", "Reader", "identifier_hit", "read_file", "read_ssh",
           "read_unknown"]

# Sources whose reader knows the product better than the identifiers the observation carries:
# os-release's CPE_NAME is the distribution's own, and CentOS Stream's is CentOS's
# (cpe:/o:centos:centos:9), which NAME="CentOS Stream" tells apart. Their identifiers are read
# only when the reader recognises nothing.
IDENTIFIERS_LAST = frozenset({"os-release"})


# Readers: source -> (index, fields) -> Hit | None.

Reader = Callable[[CatalogIndex, Fields], "Hit | None"]


def _version_file(product: str, pattern: str = r"(\d[\w.+-]*)") -> Reader:
    """A file whose first line is the product's version (or matches `pattern`)."""
    def read(ix: CatalogIndex, f: Fields) -> Hit | None:
        found = re.match(pattern, first_line(text_of(f) or ""))
        return Hit(product, found.group(1)) if found else None
    return read


def _appliance_hit(text: str | None) -> Hit | None:
    return appliance_text_hit(text) or None


def _read_appliance(ix: CatalogIndex, f: Fields) -> Hit | None:
    return _appliance_hit(text_of(f))


# Files by path, first match wins. /etc/debian_version holds "12.5" on Debian, but
# "bookworm/sid" on testing and on Ubuntu (its Debian base): only a number is Debian's.
_FILE_READERS: tuple[tuple[re.Pattern[str], Reader], ...] = (
    (re.compile(r"/(etc|usr/lib)/os-release$"), read_os_release),
    (re.compile(r"/etc/lsb-release$"), read_lsb_release),
    (re.compile(r"/etc/debian_version$"), _version_file("debian", r"(\d+(?:\.\d+)*)$")),
    (re.compile(r"/etc/alpine-release$"), _version_file("alpine-linux")),
    (re.compile(r"/etc/xcp-ng-release$"), read_hypervisor),
    (re.compile(r"/etc/(\w+-release|system-release|suse-release|release)$"), read_release_file),
    (re.compile(r"^/version$"), _read_appliance),  # BIG-IP: Product: BIG-IP / Version: ...
    (re.compile(r"/proc/version$"), read_kernel),
    (re.compile(r"/gitlab-rails/version$"), _version_file("gitlab")),
    (re.compile(r"/opt/gitlab/version-manifest\.txt$"),
     _version_file("gitlab", r"gitlab-(?:ce|ee) (\S+)")),
)


def read_file(ix: CatalogIndex, f: Fields) -> Hit | None:
    """A file's content, read by path. Unknown paths are not guessed at."""
    path = (f.text("path", "file", "filename", "name") or "").lower()
    content = f.text("content", "text", "data", "value", "output")
    if not path or not content:
        return None
    for pattern, reader in _FILE_READERS:
        if pattern.search(path):
            return reader(ix, Fields({"output": content}))
    return None


# Commands run over ssh, first match wins: the output goes to that source's reader (by name,
# through SOURCES) or to the appliance reader.
_SSH_COMMANDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), source) for pattern, source in (
        (r"(/etc|/usr/lib)/os-release", "os-release"),
        (r"/etc/\w+-release|/etc/system-release|/etc/release\b", "redhat-release"),
        (r"\blsb_release\b|/etc/lsb-release", "lsb_release"),
        (r"\buname\s+-r\b", "kernel"),
        (r"\buname\b", "uname"),
        (r"\bfreebsd-version\b", "freebsd-version"),
        (r"\boslevel\b", "oslevel"),
        (r"\bpveversion\b|\bvmware\s+-v|\besxcli\b|proxmox-backup-manager|\bvpxd\b", "esxcli"),
        (r"\bnvidia-smi\b", "nvidia-smi"),
        (r"/proc/cpuinfo", "cpuinfo"),
        (r"^\s*/system\s+resource\s+print", "routeros"),
        # Appliance CLIs: PAN-OS, FortiOS, tmsh, ONTAP, IOS XE and the like.
        (r"^\s*show\s+(ver|system\s+info|sys(tem)?\s+version|/sys\s+version)|"
         r"^\s*get\s+sys(tem)?\s+stat|\btmsh\b|^\s*(cluster|system\s+node)\s+image\s+show|"
         r"^\s*version(\s+-v)?\s*$|\bopnsense-version\b|\bpkg\s+info\s+entire\b", "appliance"),
    ))


# Commands whose output is the version alone, the command naming the product: ONTAP's
# `cluster image show` (Node / Current Version / Installation Date).
_SSH_PRODUCT_COMMANDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\s*(cluster|system\s+node)\s+image\s+show"), "netapp-ontap"),
)


def read_ssh(ix: CatalogIndex, f: Fields) -> Hit | None:
    """Output of a command run over ssh, the server's identification string (SSH-2.0-...), or
    a login banner (an appliance's, such as vCenter's "VMware vCenter Server 8.0.2...")."""
    command = f.text("command", "cmd")
    output = f.text("output", "stdout", "result", "text")
    if command and output:
        for pattern, product in _SSH_PRODUCT_COMMANDS:
            if pattern.search(command) and first_version(output):
                return Hit(product, first_version(output))
        for pattern, source in _SSH_COMMANDS:
            if pattern.search(command):
                reader = SOURCES.get(source, _read_appliance)
                return reader(ix, Fields({"output": output, "command": command}))
        return read_binary(ix, Fields({"name": command, "output": output})) or \
            _appliance_hit(output)
    banner = f.text("banner", "identification", "serverversion", "version", "motd") or output
    if banner and banner.startswith("SSH-"):
        software = banner.split("-", 2)[2] if banner.count("-") >= 2 else ""
        # The identification string names the SSH server; what the session printed (a login
        # banner, a command's output) may name the appliance.
        return banner_hit(ix, software) or (_appliance_hit(output) if output != banner else
                                            None) or appliance_fields_hit(f)
    return _appliance_hit(banner) or appliance_fields_hit(f)


SOURCES: dict[str, Reader] = {
    "os-release": read_os_release,
    "lsb_release": read_lsb_release,
    "lsb-release": read_lsb_release,
    "redhat-release": read_release_file,
    "system-release": read_release_file,
    "kernel": read_kernel,
    "uname": read_uname,
    "windows": read_windows,
    "registry": read_registry,
    "powershell": read_powershell,
    "binary": read_binary,
    "snmp": read_snmp,
    "ssh": read_ssh,
    "http-banner": read_http_banner,
    "api": read_api,
    "container-image": read_container_image,
    "mssql": read_mssql,
    "sql": read_sql,
    "esxcli": read_hypervisor,
    "pveversion": read_hypervisor,
    "oslevel": read_oslevel,
    "freebsd-version": read_freebsd_version,
    "dmi": read_dmi,
    "redfish": read_redfish,
    "cpuinfo": read_cpuinfo,
    "nvidia-smi": read_nvidia_smi,
    "routeros": read_routeros,
    "file": read_file,
}


def read_unknown(ix: CatalogIndex, f: Fields) -> Hit | None:
    """A source without a reader: an explicit product name and version, a text whose first
    token is a product with its version ("PostgreSQL 15.6 ..."), or an appliance's own version
    text ("NetApp Release 9.12.1P2: ..."). Nothing looser."""
    name = f.text("product", "software", "application", "displayname", "name", "package")
    if name:
        version = f.text("version", "displayversion", "productversion")
        appliance = ix.appliance(name)
        return Hit(appliance, version) if appliance else app_hit(ix, name, version)
    for key in ("output", "text", "value", "banner", "version", "description"):
        hit = banner_hit(ix, f.text(key))
        if hit:
            return hit
    for key in ("output", "text", "value", "banner", "version", "description"):
        appliance = appliance_text_hit(f.text(key))
        if appliance is not None:
            return appliance or None
    return None


def identifier_hit(ix: CatalogIndex, f: Fields) -> Hit | None:
    """Any observation may carry a purl or a CPE: the data's identifiers name the product."""
    purl_text = f.text("purl", "packageurl")
    if purl_text:
        purl = parse_purl(purl_text)
        if purl:
            if purl.type in ("docker", "oci"):
                key = purl_image_key(purl)
                product = ix.image(key) if key else None
            else:
                product, _ = ix.package(purl.type, purl.name)
                if product is None and purl.namespace:
                    product = ix.ecosystems.get(f"{purl.type}/{purl.namespace}/{purl.name}")
            if product:
                return Hit(product, purl.version or f.text("version"))
    cpe_text = f.text("cpe", "cpe23", "cpename")
    if cpe_text:
        product, version = ix.cpe(cpe_text)
        if product:
            return Hit(product, version or f.text("version"))
    return None
