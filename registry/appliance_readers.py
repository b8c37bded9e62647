"""Readers of network, storage and virtualisation appliances: the text their CLI prints (PAN-OS
`show system info`, FortiOS `get system status`, BIG-IP `tmsh show sys version`, ONTAP
`version`, vCenter `vpxd -v`, IOS XE `show version`), their login banners, and the answers of
their management APIs (PAN-OS XML API, FortiOS REST, iControl REST, ONTAP REST, vSphere
Automation and vim `about`, RESTCONF, OPNsense).

`appliance_text_hit` reads a text through APPLIANCE_RULES (registry/appliance_rules.py);
API_SIGNATURES recognise an API answer by its shape and are tried by `read_api`
(registry/app_readers.py) before its generic product hint. An appliance the data has no product
for is no match (a None rule), never the nearest product.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from registry.appliance_rules import APPLIANCE_RULES
from registry.command_output import labelled_version, rule_hit
from registry.observations import MAX_TEXT, Fields, Hit, scalar


def appliance_text_hit(text: str | None) -> Hit | bool | None:
    """An appliance's CLI output or banner: a Hit, False for a known appliance without data,
    None for a text naming no appliance."""
    if not text:
        return None
    return rule_hit(APPLIANCE_RULES, text[:MAX_TEXT], labelled_version)


def _texts(value: Any, depth: int = 0) -> Iterator[str]:
    """The string values of a JSON answer, depth first, lazily (the caller bounds them)."""
    if depth > 6:
        return
    if isinstance(value, Mapping):
        for item in list(value.values())[:200]:
            yield from _texts(item, depth + 1)
    elif isinstance(value, list):
        for item in value[:200]:
            yield from _texts(item, depth + 1)
    else:
        text = scalar(value)
        if text and not text.replace(".", "").isdigit():
            yield text


def _first(body: Fields, *path: str) -> Fields | None:
    """The mapping at `path` (normalised keys); a list on the way contributes its first item."""
    current: Fields | None = body
    for key in path:
        if current is None:
            return None
        value = current.raw(key)
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            value = value[0]
        current = Fields(value) if isinstance(value, Mapping) else None
    return current


def _api_bigip(body: Fields) -> Hit | None:
    """iControl REST GET /mgmt/tm/sys/version: entries -> {url: {nestedStats: {entries:
    {Product: {description: BIG-IP}, Version: {description: 16.1.3.4}}}}}; and
    /mgmt/shared/identified-devices/config/device-info: {product: BIG-IP, version: ...}."""
    if (body.text("product") or "") == "BIG-IP" and body.text("version"):
        return Hit("big-ip", body.text("version"))
    if not (body.text("kind") or "").startswith("tm:sys:version"):
        return None
    entries = body.mapping("entries")
    for _, entry in (entries.items() if entries else ()):
        stats = _first(Fields(entry), "nestedstats", "entries") \
            if isinstance(entry, Mapping) else None
        product = _first(stats, "product") if stats else None
        version = _first(stats, "version") if stats else None
        if product and version and product.text("description") == "BIG-IP":
            return Hit("big-ip", version.text("description"))
    return None


_FORTINET_SERIAL = re.compile(r"^(FG|FW|FGT|FWF)[0-9A-Z]")


def _api_fortios(body: Fields) -> Hit | None:
    """FortiOS REST (/api/v2/monitor/system/status and every /api/v2 answer): serial,
    version ("v7.2.5") and build at the top level. Only a FortiGate's or FortiWiFi's serial:
    FortiAnalyzer, FortiManager and the others answer in the same envelope."""
    version, serial = body.text("version"), body.text("serial") or ""
    results = body.mapping("results")
    model = (results.text("modelname") or "") if results else ""
    if version and version[:1] in "vV" and (_FORTINET_SERIAL.match(serial)
                                            or model.startswith(("FortiGate", "FortiWiFi"))):
        return Hit("fortios", version)
    return None


def _api_panos(body: Fields) -> Hit | None:
    """PAN-OS XML API <show><system><info>, as JSON (xmltodict and pan-os-python keep the XML
    names): response -> result -> system -> sw-version."""
    system = _first(body, "response", "result", "system") or _first(body, "result", "system") \
        or _first(body, "system") or body  # or the fields of `show system info` themselves
    return Hit("panos", system.text("swversion")) if system.text("swversion") else None


def _api_ontap(body: Fields) -> Hit | None:
    """ONTAP REST GET /api/cluster?fields=version: version -> {full: "NetApp Release 9.12.1P2:
    ...", generation: 9, major: 12, minor: 1}."""
    version = body.mapping("version")
    if version is None:
        return None
    full = version.text("full") or ""
    found = re.search(r"NetApp Release (\d[\w.]*)", full)
    if found:
        return Hit("netapp-ontap", found.group(1))
    parts = [version.text(k) for k in ("generation", "major", "minor")]
    if all(parts) and full.startswith("NetApp"):
        return Hit("netapp-ontap", ".".join(p for p in parts if p))
    return None


def _api_vsphere(body: Fields) -> Hit | None:
    """vim AboutInfo (pyVmomi content.about, govc about -json): apiType VirtualCenter or
    HostAgent, version; the vSphere Automation REST answer (product: VMware vCenter Server)
    is read through the product name."""
    api_type = (body.text("apitype") or "").lower()
    product = {"virtualcenter": "vcenter", "hostagent": "esxi"}.get(api_type)
    if product and body.text("version"):
        return Hit(product, body.text("version"))
    return None


def _api_ios_xe(body: Fields) -> Hit | None:
    """RESTCONF GET /restconf/data/Cisco-IOS-XE-native:native/version."""
    version = body.text("ciscoiosxenativeversion")
    if version is None:
        native = body.mapping("ciscoiosxenativenative")
        version = native.text("version") if native else None
    return Hit("cisco-ios-xe", version) if version else None


# Appliance APIs recognised by the shape of their answer, tried in order.
API_SIGNATURES: tuple[Callable[[Fields], Hit | None], ...] = (
    _api_bigip,
    _api_fortios,
    _api_panos,
    _api_ontap,
    _api_vsphere,
    _api_ios_xe,
)


def appliance_fields_hit(f: Fields) -> Hit | None:
    """An observation whose own fields have an appliance API's shape (sw-version; a
    FortiGate's serial and version)."""
    for signature in API_SIGNATURES:
        hit = signature(f)
        if hit:
            return hit
    return None


def api_text_hit(raw: Any) -> Hit | bool | None:
    """An API answer whose shape no signature knows: the appliance texts it carries (an XML
    body, about.fullName, version.full). At most MAX_TEXT characters are read in all."""
    budget = MAX_TEXT
    for text in _texts(raw):
        text = text[:budget]
        hit = appliance_text_hit(text)
        if hit is not None:
            return hit
        budget -= len(text)
        if budget <= 0:
            break
    return None
