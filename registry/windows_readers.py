"""Readers of Windows hosts: Win32_OperatingSystem or Get-ComputerInfo (`windows`), the registry
(`registry`: CurrentVersion, or an Uninstall entry) and PowerShell (`powershell`:
$PSVersionTable, Get-Package, or the OS).

`read_windows` answers windows or windows-server with the hints their pickers
(registry/cycle_selection.py) need: build, edition variant and display version for clients;
year, R2 and service pack for servers. Application entries are read by `app_hit`
(registry/app_readers.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from registry import product_rules as rules
from registry.app_readers import app_hit
from registry.catalog_index import CatalogIndex
from registry.observations import Fields, Hit
from registry.product_rules import components

_WINDOWS_YEAR = re.compile(r"\b(2000|2003|2008|2012|2016|2019|2022|2025)\b")


def _windows_variant(edition: str | None, sku: str | None, caption: str | None) -> str | None:
    if sku and sku.isdigit() and int(sku) in rules.WINDOWS_SKUS:
        return rules.WINDOWS_SKUS[int(sku)]
    for text in (edition, caption):
        if not text:
            continue
        for pattern, variant in rules.WINDOWS_VARIANTS:
            if pattern.search(text):
                return variant
    return None


def _is_windows_server(caption: str, installation: str, product_type: str,
                       edition: str) -> bool:
    if re.search(r"Windows Server|Server \d{4}", caption, re.I):
        return True
    if re.search(r"Windows (XP|Vista|7|8|10|11)\b", caption, re.I):
        return False
    if installation:
        return installation.lower().startswith(("server", "nano"))
    if product_type:
        return product_type.lower() in ("2", "3", "server", "domaincontroller")
    return edition.lower().startswith("server") and "rdsh" not in edition.lower()


def read_windows(ix: CatalogIndex, f: Fields) -> Hit | None:
    """Win32_OperatingSystem, Get-ComputerInfo, HKLM\\...\\Windows NT\\CurrentVersion."""
    caption = f.text("caption", "productname", "windowsproductname", "osname") or ""
    build = f.text("buildnumber", "currentbuild", "currentbuildnumber", "osbuildnumber",
                   "build")
    version = f.text("version", "osversion")
    if version and not re.match(r"\d+\.\d+\.\d+", version):
        version = None
    if not build and version:
        parts = components(version)
        build = str(parts[2]) if parts and len(parts) >= 3 else None
    if not caption and not build:
        return None
    if caption and "windows" not in caption.lower():
        return None
    edition = f.text("editionid", "windowseditionid", "edition") or ""
    sku = f.text("operatingsystemsku", "ossku", "sku")
    installation = f.text("installationtype", "windowsinstallationtype") or ""
    product_type = f.text("producttype", "osproducttype") or ""
    display = f.text("displayversion", "osdisplayversion", "windowsdisplayversion")
    if not display:
        release_id = f.text("releaseid", "windowsversion")
        if release_id and release_id.isdigit() and release_id != "2009":
            display = release_id  # ReleaseId stopped at 2009 (20H2); earlier it is the name
    hints: list[tuple[str, str]] = []
    if build:
        hints.append(("build", build.split(".")[0]))
    if _is_windows_server(caption, installation, product_type, edition):
        year = _WINDOWS_YEAR.search(caption)
        if year:
            hints.append(("year", year.group(1)))
        hints.append(("r2", "1" if re.search(r"\bR2\b", caption) else "0"))
        csd = f.text("csdversion", "servicepack", "oscsdversion") or caption
        sp = re.search(r"(?:Service Pack |\bSP)(\d)", csd)
        if sp:
            hints.append(("sp", sp.group(1)))
        if caption:
            hints.append(("caption", caption))
        return Hit("windows-server", version, hints=tuple(hints))
    variant = _windows_variant(edition, sku, caption)
    if variant:
        hints.append(("variant", variant))
    if display:
        hints.append(("display", display))
    return Hit("windows", version, hints=tuple(hints))


def read_registry(ix: CatalogIndex, f: Fields) -> Hit | None:
    if f.text("displayname"):
        return app_hit(ix, f.text("displayname"), f.text("displayversion", "version"))
    return read_windows(ix, f)


def read_powershell(ix: CatalogIndex, f: Fields) -> Hit | None:
    if "psversion" in f:  # $PSVersionTable
        value = f.raw("psversion")
        if isinstance(value, Mapping):
            sub = Fields(value)
            version = ".".join(v for v in (sub.text("major"), sub.text("minor")) if v)
        else:
            version = f.text("psversion") or ""
        edition = (f.text("psedition") or "").lower()
        parts = components(version) if version else None
        core = edition == "core" or (not edition and bool(parts) and parts[0] >= 6)
        return Hit("powershell" if core else "windows-powershell", version or None)
    if f.text("displayname") or (f.text("name") and f.text("version") and
                                 not f.text("caption", "osname", "windowsproductname")):
        return app_hit(ix, f.text("displayname", "name"), f.text("displayversion", "version"))
    return read_windows(ix, f)
