"""Per-source observation readers: SOURCES, one table from an observation's source to its reader.

A reader turns an observation's raw fields (`Fields`, registry/observations.py) into a `Hit`: a
product name, the version as observed (or an explicit cycle name), and hints for the product's
cycle picker (Windows build and edition, SQL Server service pack, ...). Readers find products
through the `CatalogIndex` (registry/catalog_index.py) and the text rules of
registry/product_rules.py; they are lenient about key names (case, punctuation: VERSION_ID,
versionId and version-id are one key) and never raise on odd values. A source without a reader
goes to `read_unknown`; a purl or CPE in any observation is read first, by `identifier_hit`.
Installed packages (dpkg, rpm, apk, ...) have no reader: the matcher looks their names up in the
index directly (registry/matching.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from registry import product_rules as rules
from registry.catalog_index import CatalogIndex
from registry.cycle_selection import PICKERS
from registry.identifiers import image_repository, parse_purl, purl_image_key
from registry.observations import Fields, Hit, scalar
from registry.product_rules import components


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


_VERSION_TOKEN = re.compile(r"(?<![\d.])v?(\d+(?:\.\d+)+[a-z]?\d*)")


def first_version(text: str | None) -> str | None:
    """The first dotted version in a command's output ("Python 3.11.2", "go1.21.6",
    "v=8.4.0"); digits without a dot (dates, x86_64) are not versions."""
    if not text:
        return None
    found = _VERSION_TOKEN.search(text[:4096])
    return found.group(1) if found else None


# Readers: source -> (index, fields) -> Hit | None.

Reader = Callable[[CatalogIndex, Fields], "Hit | None"]


def _text_of(f: Fields, *extra: str) -> str | None:
    return f.text(*extra, "output", "text", "content", "stdout", "value", "result", "data")


def _rule_hit(rules_: Iterable[rules.TextRule], text: str,
              version: Callable[[str], str | None] | None = None) -> Hit | bool | None:
    """The first rule matching `text`: a Hit, or False when a rule says "known, no data"."""
    for rule in rules_:
        found = rule.pattern.search(text)
        if found is None:
            continue
        if rule.product is None:
            return False
        given = found.groupdict().get("v")
        return Hit(rule.product, given or (version(text) if version else None))
    return None


def _parse_assignments(text: str) -> dict[str, str]:
    """KEY=value lines (os-release, lsb-release), quotes removed."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key:
            values[key.strip()] = value.strip().strip("\"'")
    return values


def _parse_colons(text: str) -> dict[str, str]:
    """Key: value lines (lsb_release -a, esxcli, /system resource print)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key:
            values.setdefault(key.strip(), value.strip())
    return values


def read_os_release(ix: CatalogIndex, f: Fields) -> Hit | None:
    if "id" not in f:
        text = _text_of(f)
        if text and "=" in text:
            f = Fields(_parse_assignments(text))
    product = ix.os_product(f.text("id"), f.text("name", "prettyname"))
    if product is None:
        return None
    return Hit(product, f.text("versionid", "version"))


def read_lsb_release(ix: CatalogIndex, f: Fields) -> Hit | None:
    if not f.text("distributorid", "distribid"):
        text = _text_of(f)
        if text:
            parsed = _parse_colons(text) if ":" in text else {}
            parsed.update(_parse_assignments(text) if "=" in text else {})
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
    text = _text_of(f, "release", "redhatrelease", "line")
    if not text:
        return None
    hit = _rule_hit(rules.RELEASE_FILE_RULES, _first_line(text))
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


def _kernel_hit(sysname: str | None, release: str | None, version: str | None = None
                ) -> Hit | None:
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
    release = f.text("release", "kernelrelease", "kernel", "r", "unamer") or _text_of(f)
    return _kernel_hit(f.text("sysname", "kernelname", "s", "system"), release,
                       f.text("version", "v"))


def read_uname(ix: CatalogIndex, f: Fields) -> Hit | None:
    sysname = f.text("sysname", "kernelname", "s", "system")
    release = f.text("release", "kernelrelease", "r")
    version = f.text("version", "kernelversion", "v")
    if not sysname or not release:
        text = _text_of(f, "a", "uname")
        words = text.split() if text else []
        if len(words) < 3:
            return read_kernel(ix, f)
        sysname, release = words[0], words[2]
        version = words[3] if len(words) > 3 else None
    return _kernel_hit(sysname, release, version)


def read_freebsd_version(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = f.text("userland", "u", "version", "release") or _text_of(f) or f.text("kernel", "k")
    if text and re.match(r"\d+\.\d+-[A-Z]+", text):
        return Hit("freebsd", _first_line(text))
    return None


def read_oslevel(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = f.text("oslevel", "level", "s", "version") or _text_of(f)
    if text and re.match(r"\s*\d", text):
        return Hit("ibm-aix", _first_line(text))
    return None


def _labelled_version(text: str) -> str | None:
    found = re.search(r"^\s*Version:\s*(\d[\w.]*)", text, re.MULTILINE)
    return found.group(1) if found else first_version(text)


def read_hypervisor(ix: CatalogIndex, f: Fields) -> Hit | None:
    """esxcli / vmware -vl / pveversion / vCenter: a text, or esxcli's fields."""
    product = f.text("product")
    if product and "esxi" in product.lower():
        return Hit("esxi", f.text("version"))
    manager = f.text("pvemanager", "proxmoxve")
    if manager:
        return Hit("proxmox-ve", manager)
    text = _text_of(f)
    if not text:
        return None
    return _rule_hit(rules.HYPERVISOR_RULES, text, _labelled_version) or None


_SQL_LEVEL = re.compile(r"Microsoft SQL Server \d{4}(?: R2)? \((SP\d+|RTM)")
_SQL_YEAR = re.compile(r"Microsoft SQL Server (\d{4})")
_SQL_BUILD = re.compile(r" - (\d+\.\d+\.\d+(?:\.\d+)?)")


def read_mssql(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = _text_of(f, "version", "atatversion", "banner") or ""
    if re.search(r"Azure SQL|SQL Azure", text):
        return None  # the managed service has no version lifecycle
    hints = []
    level = f.text("productlevel")
    found = _SQL_LEVEL.search(text)
    if level or found:
        hints.append(("level", (level or found.group(1)).split("-")[0]))
    year = _SQL_YEAR.search(text)
    if year:
        hints.append(("year", year.group(1)))
    version = f.text("productversion")
    if not version:
        build = _SQL_BUILD.search(text)
        version = build.group(1) if build else (text if re.match(r"\d+\.\d+\.\d+", text)
                                                 else None)
    if not version and not year:
        return None
    return Hit("mssqlserver", version, hints=tuple(hints))


def read_sql(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = _text_of(f, "version", "atatversion", "banner", "versionstring") or ""
    comment = f.text("versioncomment", "atatversioncomment", "comment") or ""
    if "Microsoft SQL Server" in text or "SQL Azure" in text:
        return read_mssql(ix, f)
    for candidate in (text, comment):
        if not candidate:
            continue
        hit = _rule_hit(rules.SQL_RULES, candidate)
        if hit is False:
            return None
        if hit:
            return Hit(hit.product, hit.version or first_version(text) or
                       (text if components(text) else None))
    engine = (f.text("engine", "dbms", "database", "databasetype", "type") or "").lower()
    product = rules.SQL_ENGINES.get(engine.replace(" ", ""))
    if product and text and components(text):
        return Hit(product, text)
    return None


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


def _app_hit(ix: CatalogIndex, name: str | None, version: str | None) -> Hit | None:
    """An application entry (Uninstall key, Get-Package, CMDB row): its name must be a
    product name exactly, or start with one followed by a version ("Python 3.11.2 (64-bit)")."""
    if not name:
        return None
    product = ix.token(name)
    if product:
        return Hit(product, version)
    hit = _banner_hit(ix, name)
    if hit:
        return Hit(hit.product, version or hit.version)
    return None


def read_registry(ix: CatalogIndex, f: Fields) -> Hit | None:
    if f.text("displayname"):
        return _app_hit(ix, f.text("displayname"), f.text("displayversion", "version"))
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
        return _app_hit(ix, f.text("displayname", "name"), f.text("displayversion", "version"))
    return read_windows(ix, f)


_JAVA_VERSION = re.compile(r'(?:openjdk|java) version "([^"]+)"|\(build (\d[\d.]*)')


def _java_hit(output: str, vendor: str | None) -> Hit | None:
    found = _JAVA_VERSION.search(output)
    version = (found.group(1) or found.group(2)) if found else None
    for text in (vendor, output):
        if not text:
            continue
        hit = _rule_hit(rules.JAVA_VENDORS, text)
        if hit is False:
            return None
        if hit:
            return Hit(hit.product, version)
    return None


def _basename(text: str | None) -> str:
    """A command's or path's program name: "/usr/sbin/nginx -v" -> "nginx",
    "C:\\Program Files\\nodejs\\node.exe" -> "node"."""
    text = (text or "").strip().strip("\"'")
    if re.match(r"[A-Za-z]:[\\/]", text):  # a Windows path may hold spaces
        text = re.split(r"[\\/]", text)[-1]
    words = text.split()
    name = re.split(r"[\\/]", words[0])[-1].lower() if words else ""
    return name[:-4] if name.endswith(".exe") else name


def read_binary(ix: CatalogIndex, f: Fields) -> Hit | None:
    """A command's version output ("Python 3.11.2"), with the command's name if known."""
    name = _basename(f.text("name", "binary", "command", "path", "executable", "program",
                            "cmd"))
    output = f.text("versionoutput", "output", "stdout", "text", "value", "version") or ""
    vendor = f.text("vendor", "javavendor")
    if output:
        hit = _rule_hit(rules.OUTPUT_RULES, output)
        if hit is False:
            return None
        if hit:
            return _java_hit(output, vendor) if hit.product == "java" else hit
    if name in ("java", "javac", "jshell"):
        return _java_hit(output, vendor)
    product = ix.binary(name) if name else None
    if product is None:
        return None
    return Hit(product, first_version(output) or f.text("version"))


_SSH_COMMANDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), source) for pattern, source in (
        (r"(/etc|/usr/lib)/os-release", "os-release"),
        (r"/etc/\w+-release|/etc/system-release", "redhat-release"),
        (r"\blsb_release\b|/etc/lsb-release", "lsb_release"),
        (r"\buname\s+-r\b", "kernel"),
        (r"\buname\b", "uname"),
        (r"\bfreebsd-version\b", "freebsd-version"),
        (r"\boslevel\b", "oslevel"),
        (r"\bpveversion\b|\bvmware\s+-v|\besxcli\b|proxmox-backup-manager", "esxcli"),
        (r"\bnvidia-smi\b", "nvidia-smi"),
        (r"/proc/cpuinfo", "cpuinfo"),
        (r"^\s*show\s+ver", "snmp"),
        (r"^\s*/system\s+resource\s+print", "routeros"),
    ))


def read_ssh(ix: CatalogIndex, f: Fields) -> Hit | None:
    """Output of a command run over ssh, or the server's identification banner."""
    command = f.text("command", "cmd")
    output = f.text("output", "stdout", "result", "text")
    if command and output:
        for pattern, source in _SSH_COMMANDS:
            if pattern.search(command):
                return SOURCES[source](ix, Fields({"output": output, "command": command}))
        return read_binary(ix, Fields({"name": command, "output": output}))
    banner = f.text("banner", "identification", "serverversion", "version") or output
    if banner and banner.startswith("SSH-"):
        software = banner.split("-", 2)[2] if banner.count("-") >= 2 else ""
        return _banner_hit(ix, software)
    return None


def read_routeros(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = _text_of(f) or ""
    values = Fields(_parse_colons(text))
    version = values.text("version")
    if version and (values.text("platform", "boardname") or "RouterOS" in text
                    or "MikroTik" in text):
        return Hit("routeros", version)
    return None


_SNMP_LINUX = re.compile(r"^Linux \S+ (\d+\.\d+\S*)")
_SNMP_FREEBSD = re.compile(r"^FreeBSD \S+ (\d+\.\d+-\S+)")
_SNMP_WINDOWS = re.compile(r"Software: Windows Version (\d+\.\d+) \(Build (\d+)")
_DEVICE_VERSION = re.compile(r"Version (\d+\.\d+[\w.]*)|RouterOS (\d+\.\d+[\w.]*)")


def _windows_by_build(ix: CatalogIndex, version: str, build: str) -> Hit | None:
    owners = [name for name in ("windows", "windows-server")
              if name in ix.cycles and int(build) in ix.cycles[name].by_build]
    if len(owners) != 1:
        return None  # a build that both client and server share (17763): cannot tell
    return Hit(owners[0], f"{version}.{build}", hints=(("build", build),))


def read_snmp(ix: CatalogIndex, f: Fields) -> Hit | None:
    descr = f.text("sysdescr", "descr", "description", "136121110", "13612111") \
        or _text_of(f) or ""
    windows = _SNMP_WINDOWS.search(descr)
    if windows:
        return _windows_by_build(ix, windows.group(1), windows.group(2))
    hit = _rule_hit(rules.SNMP_RULES, descr) if descr else None
    if hit is False:
        return None
    product = hit.product if hit else None
    version = hit.version if hit else None
    if product is None:
        oid = f.text("sysobjectid", "objectid", "13612112") or ""
        for prefix, owner in rules.SNMP_ENTERPRISES.items():
            if oid.lstrip(".") == prefix or oid.lstrip(".").startswith(prefix + "."):
                if owner is None:
                    return None
                product = owner
                break
    if product is None:  # a general-purpose host (net-snmp): its kernel
        linux = _SNMP_LINUX.match(descr)
        if linux:
            return _kernel_hit("linux", linux.group(1))
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


_BANNER = re.compile(
    r"^\s*(?P<name>[A-Za-z][\w.+-]*?(?:\s[A-Za-z][\w.+-]*?){0,3}?)"
    r"(?:[/_(]\s*|\s+v?)(?P<version>\d[\w.+~-]*)")
_BANNER_NAME = re.compile(r"^\s*([A-Za-z][\w.+-]*)\s*(?:\(|$)")


def _banner_hit(ix: CatalogIndex, text: str | None) -> Hit | None:
    """The first product token of a banner: "Apache/2.4.57 (Debian)", "nginx", "Jetty(9.4.53)",
    "OpenSSH_8.9p1 Ubuntu-3". Only the first token counts (later ones are modules, the OS)."""
    if not text:
        return None
    text = text[:512]
    found = _BANNER.match(text)
    if found:
        product = ix.token(found.group("name").strip())
        if product:
            return Hit(product, found.group("version"))
        return None
    name = _BANNER_NAME.match(text)
    if name:
        product = ix.token(name.group(1))
        return Hit(product) if product else None
    return None


def _http_server_from_response(text: str) -> str | None:
    found = re.search(r"^Server:\s*(.+?)\s*$", text, re.MULTILINE | re.IGNORECASE)
    return found.group(1) if found else None


def read_http_banner(ix: CatalogIndex, f: Fields) -> Hit | None:
    headers = f.mapping("headers", "header") or Fields({})
    jenkins = headers.text("xjenkins") or f.text("xjenkins")
    if jenkins:
        return Hit("jenkins", jenkins)
    server = headers.text("server") or f.text("server")
    if not server:
        text = f.text("banner", "response", "value", "text", "output")
        if text:
            server = _http_server_from_response(text) if "\n" in text else text
    hit = _banner_hit(ix, server)
    if hit:
        return hit
    powered = headers.text("xpoweredby") or f.text("xpoweredby", "poweredby")
    return _banner_hit(ix, powered)


def _api_elastic(body: Fields) -> Hit | None:
    version = body.mapping("version")
    if version is None or not version.text("number"):
        return None
    number = version.text("number")
    if (version.text("distribution") or "").lower() == "opensearch":
        return Hit("opensearch", number)
    if "You Know, for Search" in (body.text("tagline") or "") or version.text("luceneversion"):
        return Hit("elasticsearch", number)
    return None


def _api_docker(body: Fields) -> Hit | None:
    if not (body.text("apiversion") and body.text("version")):
        return None
    engines = body.raw("components")
    names = [c.get("Name", "") for c in engines if isinstance(c, Mapping)] \
        if isinstance(engines, list) else []
    if any("podman" in str(n).lower() for n in names):
        return Hit("podman", body.text("version"))
    if names or body.text("goversion") or body.text("os"):
        return Hit("docker-engine", body.text("version"))
    return None


def _api_simple(key: str, product: str, version_key: str = "version") -> Callable[
        [Fields], Hit | None]:
    def signature(body: Fields) -> Hit | None:
        if key in body and body.text(version_key):
            return Hit(product, body.text(version_key))
        return None
    return signature


def _api_kubernetes(body: Fields) -> Hit | None:
    if body.text("gitversion") and body.text("major") and body.text("minor"):
        return Hit("kubernetes", body.text("gitversion"))
    return None


def _api_couchdb(body: Fields) -> Hit | None:
    if body.text("couchdb") == "Welcome":
        return Hit("apache-couchdb", body.text("version"))
    return None


def _api_nextcloud(body: Fields) -> Hit | None:
    if (body.text("productname") or "").lower() == "nextcloud":
        return Hit("nextcloud", body.text("versionstring", "version"))
    return None


def _api_vault(body: Fields) -> Hit | None:
    if "sealed" in body and "initialized" in body and body.text("version"):
        return Hit("hashicorp-vault", body.text("version"))
    return None


def _api_consul(body: Fields) -> Hit | None:
    config = body.mapping("config")
    if config and config.text("datacenter") and config.text("version"):
        return Hit("consul", config.text("version"))
    return None


# Product APIs recognised by the shape of their answer (a body with only "version" names no
# product: it needs the observation's product hint).
API_SIGNATURES: tuple[Callable[[Fields], Hit | None], ...] = (
    _api_elastic,
    _api_docker,
    _api_kubernetes,
    _api_couchdb,
    _api_nextcloud,
    _api_vault,
    _api_consul,
    _api_simple("rabbitmqversion", "rabbitmq", "rabbitmqversion"),
    _api_simple("javascriptengine", "mongodb"),  # buildInfo
    _api_simple("storageengines", "mongodb"),
)


def read_api(ix: CatalogIndex, f: Fields) -> Hit | None:
    """A product's own version API: the JSON body, its headers, optionally a product hint."""
    headers = f.mapping("headers") or Fields({})
    jenkins = headers.text("xjenkins")
    if jenkins:
        return Hit("jenkins", jenkins)
    gitlab = headers.text("xgitlabmeta")
    body = f.mapping("body", "json", "response", "data") or f
    url = (f.text("url", "endpoint", "path") or "").lower()
    if (url.endswith("/api/v4/version") or gitlab) and body.text("version"):
        return Hit("gitlab", body.text("version"))
    for signature in API_SIGNATURES:
        hit = signature(body)
        if hit:
            return hit
    if "/api/v1/status/buildinfo" in url and "prometheus" in url:
        data = body.mapping("data") or body
        return Hit("prometheus", data.text("version")) if data.text("version") else None
    hint = f.text("product", "software", "service", "app", "application") or \
        body.text("name", "product", "productname")
    if hint:
        version = body.text("version", "versionstring", "number")
        if version is None and body.mapping("version"):
            version = body.mapping("version").text("number")
        return _app_hit(ix, hint, version)
    return None


_TAG_LTSC = re.compile(r"^ltsc(\d{4})")
_UBI = re.compile(r"/ubi(\d+)(?:[/-]|$)")


def read_container_image(ix: CatalogIndex, f: Fields) -> Hit | None:
    ref = f.text("image", "ref", "reference", "imageref", "name", "repository", "repo")
    if not ref:
        return None
    repository, tag = image_repository(ref)
    tag = f.text("tag") or tag
    product = ix.image(repository)
    named_version = None
    if product is None:
        ubi = _UBI.search(repository)
        if not ubi:
            return None
        product, named_version = "rhel", ubi.group(1)
    labels = f.mapping("labels")
    label_version = labels.text("orgopencontainersimageversion") if labels else None
    known = ix.catalog.get(product)
    cycles = ix.cycles.get(known.name) if known else None
    if not tag or tag in ("latest", "stable", "lts", "mainline", "current"):
        version = label_version or named_version
        return Hit(product, version)
    tag = tag.lower()
    ltsc = _TAG_LTSC.match(tag)
    if ltsc:
        return Hit(product, cycle=ltsc.group(1), hints=(("year", ltsc.group(1)),))
    if product == "mssqlserver":
        year = re.match(r"(20\d\d)\b", tag)
        return Hit(product, hints=(("year", year.group(1)),) if year else ())
    head = tag.split("-")[0]
    if cycles is not None:
        # A tag that is a cycle's name (postgres:15, servercore:20h2). Not for products with
        # a picker, whose names are ambiguous as tags (jenkins:2.440 is a weekly release).
        exact = cycles.product.cycle(head)
        if exact is not None and (known.name not in PICKERS or known.name.startswith("windows")):
            return Hit(product, cycle=head)
        by_codename = cycles.by_codename.get(head)
        if by_codename is not None:
            return Hit(product, cycle=by_codename.name)
    version = tag[1:] if tag[:1] == "v" and tag[1:2].isdigit() else tag
    if not components(version):
        return Hit(product, label_version or named_version)
    return Hit(product, version)


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
    for pattern, cycle in rules.CPU_RULES:
        if pattern.search(model):
            return Hit("intel-processors", cycle=cycle)
    return None


def read_cpuinfo(ix: CatalogIndex, f: Fields) -> Hit | None:
    model = f.text("modelname", "model", "cpumodel", "processor", "name", "processorname")
    if not model:
        text = _text_of(f) or ""
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
    text = _text_of(f) or ""
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
        for pattern, cycle in rules.GPU_RULES:
            if pattern.search(gpu):
                return Hit("nvidia-gpu", cycle=cycle)
    return None


def read_unknown(ix: CatalogIndex, f: Fields) -> Hit | None:
    """A source without a reader: an explicit product name and version, or a text whose first
    token is a product with its version ("PostgreSQL 15.6 ..."). Nothing looser."""
    name = f.text("product", "software", "application", "displayname", "name", "package")
    if name:
        return _app_hit(ix, name, f.text("version", "displayversion", "productversion"))
    for key in ("output", "text", "value", "banner", "version", "description"):
        hit = _banner_hit(ix, f.text(key))
        if hit:
            return hit
    return None


def _version_file(product: str, pattern: str = r"(\d[\w.+-]*)") -> Reader:
    """A file whose first line is the product's version (or matches `pattern`)."""
    def read(ix: CatalogIndex, f: Fields) -> Hit | None:
        found = re.match(pattern, _first_line(_text_of(f) or ""))
        return Hit(product, found.group(1)) if found else None
    return read


# Files by path, first match wins. /etc/debian_version holds "12.5" on Debian, but
# "bookworm/sid" on testing and on Ubuntu (its Debian base): only a number is Debian's.
_FILE_READERS: tuple[tuple[re.Pattern[str], Reader], ...] = (
    (re.compile(r"/(etc|usr/lib)/os-release$"), read_os_release),
    (re.compile(r"/etc/lsb-release$"), read_lsb_release),
    (re.compile(r"/etc/debian_version$"), _version_file("debian", r"(\d+(?:\.\d+)*)$")),
    (re.compile(r"/etc/alpine-release$"), _version_file("alpine-linux")),
    (re.compile(r"/etc/xcp-ng-release$"), read_hypervisor),
    (re.compile(r"/etc/(\w+-release|system-release|suse-release)$"), read_release_file),
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
