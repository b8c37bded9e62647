"""Readers of applications: a command's version output (`binary`), an HTTP server banner
(`http-banner`), a product's own version API (`api`), a container image reference
(`container-image`) and a database's version query (`sql`, `mssql`).

`banner_hit` (the first product token of a banner) and `app_hit` (an application entry: a name
and a version) are shared with the Windows readers (registry/windows_readers.py) and with the
ssh and fallback readers (registry/sources.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from registry import product_rules as rules
from registry.appliance_readers import API_SIGNATURES as APPLIANCE_SIGNATURES
from registry.appliance_readers import api_text_hit
from registry.catalog_index import CatalogIndex
from registry.command_output import first_version, rule_hit, text_of
from registry.cycle_selection import PICKERS
from registry.identifiers import image_repository
from registry.observations import Fields, Hit
from registry.product_rules import components

_BANNER = re.compile(
    r"^\s*(?P<name>[A-Za-z][\w.+-]*?(?:\s[A-Za-z][\w.+-]*?){0,3}?)"
    r"(?:[/_(]\s*|\s+v?)(?P<version>\d[\w.+~-]*)")
_BANNER_NAME = re.compile(r"^\s*([A-Za-z][\w.+-]*)\s*(?:\(|$)")


def banner_hit(ix: CatalogIndex, text: str | None) -> Hit | None:
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


def app_hit(ix: CatalogIndex, name: str | None, version: str | None) -> Hit | None:
    """An application entry (Uninstall key, Get-Package, CMDB row): its name must be a
    product name exactly, or start with one followed by a version ("Python 3.11.2 (64-bit)")."""
    if not name:
        return None
    product = ix.token(name)
    if product:
        return Hit(product, version)
    hit = banner_hit(ix, name)
    if hit:
        return Hit(hit.product, version or hit.version)
    return None


_JAVA_VERSION = re.compile(r'(?:openjdk|java) version "([^"]+)"|\(build (\d[\d.]*)')


def _java_hit(output: str, vendor: str | None) -> Hit | None:
    found = _JAVA_VERSION.search(output)
    version = (found.group(1) or found.group(2)) if found else None
    for text in (vendor, output):
        if not text:
            continue
        hit = rule_hit(rules.JAVA_VENDORS, text)
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
        hit = rule_hit(rules.OUTPUT_RULES, output)
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


def _http_server_from_response(text: str) -> str | None:
    found = re.search(r"^Server:\s*(.+?)\s*$", text, re.MULTILINE | re.IGNORECASE)
    return found.group(1) if found else None


def read_http_banner(ix: CatalogIndex, f: Fields) -> Hit | None:
    headers = f.mapping("headers", "header") or Fields({})
    jenkins = headers.text("xjenkins") or f.text("xjenkins")
    if jenkins:
        return Hit("jenkins", jenkins)
    owa = headers.text("xowaversion") or f.text("xowaversion")  # Exchange's Outlook on the web
    if owa:
        return Hit("msexchange", owa)
    server = headers.text("server") or f.text("server")
    if not server:
        text = f.text("banner", "response", "value", "text", "output")
        if text:
            server = _http_server_from_response(text) if "\n" in text else text
    hit = banner_hit(ix, server)
    if hit:
        return hit
    powered = headers.text("xpoweredby") or f.text("xpoweredby", "poweredby")
    return banner_hit(ix, powered)


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
    body = body.mapping("value") or body  # vSphere Automation's /rest/ answers are wrapped
    url = (f.text("url", "endpoint", "path") or "").lower()
    if (url.endswith("/api/v4/version") or gitlab) and body.text("version"):
        return Hit("gitlab", body.text("version"))
    for signature in (*API_SIGNATURES, *APPLIANCE_SIGNATURES):
        hit = signature(body)
        if hit:
            return hit
    if "/api/v1/status/buildinfo" in url and "prometheus" in url:
        data = body.mapping("data") or body
        return Hit("prometheus", data.text("version")) if data.text("version") else None
    product = body.mapping("product")  # OPNsense /api/core/firmware/status
    if product and product.text("productname"):
        return app_hit(ix, product.text("productname"), product.text("productversion"))
    hint = f.text("product", "software", "service", "app", "application") or \
        body.text("name", "product", "productname")
    if hint:
        version = body.text("version", "versionstring", "number", "productversion")
        if version is None and body.mapping("version"):
            version = body.mapping("version").text("number")
        hit = app_hit(ix, hint, version)
        if hit:
            return hit
        appliance = ix.appliance(hint)
        if appliance:
            return Hit(appliance, version)
    found = api_text_hit(dict(f.items()))  # an XML body, about.fullName, a banner
    return found or None


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
    tagged = rules.IMAGE_TAG_PRODUCTS.get(product)
    found = tagged[0].match(tag.lower()) if tagged and tag else None
    if tagged and found:
        return Hit(tagged[1], cycle=found.group(1))
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


_SQL_LEVEL = re.compile(r"Microsoft SQL Server \d{4}(?: R2)? \((SP\d+|RTM)")
_SQL_YEAR = re.compile(r"Microsoft SQL Server (\d{4})")
_SQL_BUILD = re.compile(r" - (\d+\.\d+\.\d+(?:\.\d+)?)")


def read_mssql(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = text_of(f, "version", "atatversion", "banner") or ""
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


# Db2's code release as JDBC/ODBC report it (DatabaseProductVersion "SQL11058"), and db2level
# prints it: SQLvvrrm, version vv, release rr, modification m (11.5.8).
_DB2_CODE_RELEASE = re.compile(r"^SQL(\d{2})(\d{2})(\d)$")


def read_sql(ix: CatalogIndex, f: Fields) -> Hit | None:
    text = text_of(f, "version", "atatversion", "banner", "versionstring") or ""
    db2 = _DB2_CODE_RELEASE.match(text)
    if db2:
        return Hit("ibm-db2", ".".join(str(int(part)) for part in db2.groups()))
    comment = f.text("versioncomment", "atatversioncomment", "comment") or ""
    if "Microsoft SQL Server" in text or "SQL Azure" in text:
        return read_mssql(ix, f)
    for candidate in (text, comment):
        if not candidate:
            continue
        hit = rule_hit(rules.SQL_RULES, candidate)
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
