"""Readers of Windows hosts: Win32_OperatingSystem or Get-ComputerInfo (`windows`), the registry
(`registry`: CurrentVersion, an Uninstall entry, a component's own key, `reg query` output) and
PowerShell (`powershell`: $PSVersionTable, `pwsh --version`, Get-Package, Get-ExchangeServer,
a file's FileVersionInfo, Get-ItemProperty of a key, or the OS; as objects or as the text
PowerShell prints).

`read_windows` answers windows or windows-server with the hints their pickers
(registry/cycle_selection.py) need: build, edition variant and display version for clients;
year, R2 and service pack for servers. Components with a lifecycle of their own are recognised
before the OS (`component_hit`): the .NET Framework by its release key, Windows PowerShell and
PowerShell by their engine's version, Exchange Server by its build. A component's version is
never read as the OS's: a .NET release key or an Exchange build is not a Windows build.
Application entries are read by `app_hit` (registry/app_readers.py). The tables are in
registry/windows_rules.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from registry import product_rules as rules
from registry import windows_rules
from registry.app_readers import app_hit
from registry.catalog_index import CatalogIndex
from registry.command_output import parse_reg_query, parse_table, rule_hit, text_of
from registry.observations import MAX_TEXT, Fields, Hit, scalar
from registry.product_rules import components, number

# Windows NT versions: 5.x (2000, XP, 2003), 6.x (Vista to 8.1), 10.0 (10, 11, Server 2016+).
_WINDOWS_VERSION = re.compile(r"(5\.[012]|6\.[0-3]|10\.0)\.\d+")
_WINDOWS_YEAR = re.compile(r"\b(2000|2003|2008|2012|2016|2019|2022|2025)\b")


def _windows_variant(edition: str | None, sku: str | None, caption: str | None) -> str | None:
    if sku and number(sku) in windows_rules.WINDOWS_SKUS:   # isdigit() takes "²", int() not
        return windows_rules.WINDOWS_SKUS[number(sku)]
    for text in (edition, caption):
        if not text:
            continue
        for pattern, variant in windows_rules.WINDOWS_VARIANTS:
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
    if version and not _WINDOWS_VERSION.match(version):
        version = None  # 4.8.04084 is a .NET Framework's, 15.2.1118.7 an Exchange build
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
    text = text_of(f)
    if text and "REG_" in text:  # `reg query KEY` output
        f = Fields({**parse_reg_query(text), **dict(f.items())})
    elif f.text("valuename") or (f.text("name") and "value" in f and _key_path(f)):
        # One value of a key: {path, name: Release, type: REG_DWORD, value: 528040}.
        f = Fields({**dict(f.items()), f.text("valuename", "name") or "": f.raw("value")})
    hit = component_hit(f)
    if hit is not None:
        return hit or None
    if f.text("displayname"):
        return _entry_hit(ix, f.text("displayname"), f.text("displayversion", "version"))
    return read_windows(ix, f)


def read_powershell(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = text_of(f)
    if text and not f.text("psversion", "caption", "osname", "windowsproductname", "name",
                           "displayname"):
        output = rule_hit(rules.OUTPUT_RULES, text)  # pwsh --version: PowerShell 7.4.1
        if output and output.product == "powershell":
            return _powershell_hit(output.version, None)
        f = Fields({**parse_table(text), **dict(f.items())})
    hit = component_hit(f)
    if hit is not None:
        return hit or None
    if f.text("displayname") or (f.text("name") and f.text("version") and
                                 not f.text("caption", "osname", "windowsproductname")):
        return _entry_hit(ix, f.text("displayname", "name"), f.text("displayversion", "version"))
    return read_windows(ix, f)


# Components: each reader answers a Hit, False for "this component, but nothing to match"
# (stop), or None (not this component).

def _key_path(f: Fields) -> str:
    """The registry key an observation was read from (reg query, Get-ItemProperty's PSPath)."""
    return (f.text("path", "key", "keypath", "pspath", "registrykey", "registrypath",
                   "subkey") or "").lower().replace("/", "\\")


def _all_text(f: Fields) -> str:
    """The observation's text values joined, at most MAX_TEXT characters in all."""
    texts, size = [], 0
    for _, value in f.items():
        text = scalar(value)
        if text:
            texts.append(text[:MAX_TEXT - size])
            size += len(texts[-1]) + 1
            if size >= MAX_TEXT:
                break
    return "\n".join(texts)


def _mentions(f: Fields, *words: str) -> bool:
    """Whether the observation's text mentions one of `words` (lower case)."""
    text = _all_text(f).lower()
    return any(word in text for word in words)


def _release_key(text: str | None) -> int | None:
    if not text:
        return None
    text = text.strip().lower()
    try:
        return int(text, 16) if text.startswith("0x") else int(text)
    except ValueError:
        return None


def dotnetfx_version(release: int) -> str | None:
    """The .NET Framework version of a `Release` key (the highest documented minimum not
    above it), or None below 4.5's or beyond the published range."""
    if release >= windows_rules.DOTNETFX_RELEASE_LIMIT:
        return None
    for minimum, version in windows_rules.DOTNETFX_RELEASES:
        if release >= minimum:
            return version
    return None


def _command(f: Fields) -> str:
    return (f.text("command", "cmd") or "").lower()


def _output_value(f: Fields) -> str | None:
    """A command's output when it is a single value (Get-ItemPropertyValue, .ToString())."""
    text = f.text("output", "stdout", "text", "result")
    return text if text and len(text.split()) == 1 else None


def _dotnetfx_hit(f: Fields) -> Hit | bool | None:
    path = _key_path(f)
    ndp = "net framework setup\\ndp" in path or "net framework setup\\ndp" in _command(f)
    if path and not ndp:
        return None  # a Release value under another key is not a .NET release key
    release = _release_key(f.text("release") or (_output_value(f) if ndp else None))
    if release is not None and (ndp or not f.text("caption", "productname", "currentbuild",
                                                  "buildnumber")):
        version = dotnetfx_version(release)
        if version:
            return Hit("dotnetfx", version)
        return Hit("dotnetfx") if ndp else None
    if not ndp:
        return None
    version = f.text("version") or ""
    parts = components(version)
    if parts and parts[:2] == (4, 0):
        return Hit("dotnetfx", "4.0")  # v4\Full without Release: 4.0 (4.5 added the key)
    if parts and parts[:2] == (3, 5) and f.text("sp") == "1":
        return Hit("dotnetfx", cycle="3.5-sp1")
    # 4.x without a release key, or an older framework: the Version value's build number does
    # not tell the point release (4.8.1 is 4.8.09032): the product, no cycle.
    return Hit("dotnetfx")


def _powershell_hit(version: str | None, edition: str | None) -> Hit:
    """PowerShell 6 and later (Core) is `powershell`; 5.1 and earlier ship with Windows as
    Windows PowerShell, a product with its own lifecycle (`windows-powershell`)."""
    parts = components(version) if version else None
    edition = (edition or "").lower()
    core = edition == "core" or (edition != "desktop" and bool(parts) and parts[0] >= 6)
    return Hit("powershell" if core else "windows-powershell", version or None)


def _powershell_engine_hit(f: Fields) -> Hit | None:
    if "psversion" in f:  # $PSVersionTable
        value = f.raw("psversion")
        if isinstance(value, Mapping):
            sub = Fields(value)
            version = ".".join(v for v in (sub.text("major"), sub.text("minor")) if v)
        else:
            version = f.text("psversion") or ""
        return _powershell_hit(version, f.text("psedition"))
    path = _key_path(f)
    engine = f.text("powershellversion")  # HKLM\SOFTWARE\Microsoft\PowerShell\3\PowerShellEngine
    if engine and (not path or "powershellengine" in path):
        return _powershell_hit(engine, None)
    semantic = f.text("semanticversion")  # ...\PowerShellCore\InstalledVersions\{id}
    if semantic and "powershellcore" in path:
        return _powershell_hit(semantic, "core")
    # $PSVersionTable.PSVersion printed as a table: Major Minor Build Revision (5.1) or
    # Major Minor Patch (7.x). Only when the command says so: [Environment]::OSVersion prints
    # the same columns for Windows.
    if f.text("major") and f.text("minor") and _mentions(f, "psversion"):
        numbers = [f.text(k) for k in ("major", "minor", "patch", "build")]
        return _powershell_hit(".".join(n for n in numbers if n), None)
    value = _output_value(f)  # $PSVersionTable.PSVersion.ToString()
    if value and "psversion" in _command(f) and components(value):
        return _powershell_hit(value, None)
    return None


_EXCHANGE_LONG = re.compile(r"^(15\.0[0-2]|14\.0[0-3]|08\.0[0-3])\.\d{3,4}\.\d{3}$")
_EXCHANGE_ADMIN = re.compile(r"Version (15|14|8)\.(\d+) \(Build (\d+)\.(\d+)\)")


def _exchange_hit(f: Fields) -> Hit | None:
    # Get-ExchangeServer's AdminDisplayVersion, "Version 15.1 (Build 2507.6)": the field, or
    # that text anywhere (a Format-Table row cuts the field at its first space).
    admin = f.text("admindisplayversion")
    found = _EXCHANGE_ADMIN.search(admin or "")
    if found is None and _mentions(f, "admindisplayversion", "exchange"):
        found = _EXCHANGE_ADMIN.search(_all_text(f))
    if found:
        return Hit("msexchange", ".".join(found.groups()))
    if admin:
        return Hit("msexchange")
    major, minor = f.text("msiproductmajor"), f.text("msiproductminor")  # ...\v15\Setup
    if major and minor and ("exchangeserver" in _key_path(f) or f.text("msibuildmajor")):
        build = ".".join(v for v in (f.text("msibuildmajor"), f.text("msibuildminor")) if v)
        return Hit("msexchange", f"{major}.{minor}.{build}" if build else f"{major}.{minor}")
    # ExSetup.exe's FileVersionInfo: 15.02.1118.007, the "long format" of Microsoft's build
    # numbers table. With the file named, or in that zero-padded shape only Exchange uses.
    version = f.text("fileversion", "productversion") or _output_value(f)
    if version and (_EXCHANGE_LONG.match(version) or _mentions(f, "exsetup")):
        return Hit("msexchange", version)
    return None


def component_hit(f: Fields) -> Hit | bool | None:
    """A Windows component with its own lifecycle, False for one without a usable version,
    None when the observation is none of them."""
    for reader in (_dotnetfx_hit, _powershell_engine_hit, _exchange_hit):
        hit = reader(f)
        if hit is not None:
            return hit
    return None


_DB2_NAME = re.compile(r"^(IBM )?D[Bb]2\b(?! Connect| Client| Runtime Client| ODBC)")
_EXCHANGE_NAME = re.compile(r"^Microsoft Exchange Server (\d{4})\b", re.I)
_DOTNETFX_NAME = re.compile(r"^Microsoft \.NET Framework (\d+(?:\.\d+)+)\b(.*)$", re.I)


def _entry_hit(ix: CatalogIndex, name: str | None, version: str | None) -> Hit | None:
    """An Uninstall entry or Get-Package row. Exchange and the .NET Framework name their
    release in the entry's name; their DisplayVersion is a build (15.1.2507.6, 4.8.09037)."""
    exchange = _EXCHANGE_NAME.match(name or "")
    if exchange:
        return Hit("msexchange", version) if version else Hit("msexchange",
                                                              cycle=exchange.group(1))
    if _DB2_NAME.match(name or ""):
        return Hit("ibm-db2", version)
    framework = _DOTNETFX_NAME.match(name or "")
    if framework:
        if re.search(r"targeting|sdk|language pack|multi-targeting", framework.group(2), re.I):
            return None  # developer packs and language packs are not the runtime
        return Hit("dotnetfx", framework.group(1))
    return app_hit(ix, name, version)
