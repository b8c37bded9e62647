"""Generalisation of the wider matching: observations built from the data itself.

For every release cycle of each product the wider matching added (appliances, vCenter, Solaris,
Db2, Subversion, Windows components, CentOS Stream and CentOS Linux), a version is taken from
the cycle (its latest release when that is a clean version inside it, else the cycle's name with
a patch level) and rendered in every documented shape of that product (the shapes of
tests/registry/test_matching_wider.py). The matcher must answer the cycle's own product and
cycle; a wrong product counts apart from a miss.

Run as a script for the report:
`.venv/bin/python -m tests.registry.test_matching_wider_generalisation`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from registry.end_of_support import Cycle
from registry.product_rules import components
from tests.registry import requires_snapshot, snapshot, snapshot_matcher

pytestmark = requires_snapshot

Observation = tuple[str, dict[str, Any]]
Shape = Callable[[str, Cycle], "Observation | None"]


def _version(cycle: Cycle, patch: str = ".3") -> str | None:
    """A release inside the cycle: its latest when clean and inside, else name + patch."""
    if not re.fullmatch(r"\d+(\.\d+)*", cycle.name):
        return None
    latest = cycle.latest or ""
    own = components(cycle.name)
    if re.fullmatch(r"\d+(\.\d+)+(-h\d+)?", latest) and \
            components(latest)[:len(own)] == own:
        return latest
    return cycle.name + patch


def _icontrol(v: str) -> dict[str, Any]:
    return {"kind": "tm:sys:version:versionstats", "entries": {
        "https://localhost/mgmt/tm/sys/version/0": {"nestedStats": {"entries": {
            "Product": {"description": "BIG-IP"}, "Version": {"description": v}}}}}}


def _solaris_uname(cycle: Cycle) -> tuple[str, str]:
    """uname -r and -v of a Solaris release: 5.11 with 11.4.42.111.0 (an SRU), 11.3 ...; 5.10
    and older with a kernel patch (Generic_...)."""
    major = cycle.name.split(".")[0]
    if major == "11":
        return "5.11", "11.4.42.111.0" if cycle.name == "11.4" else \
            (cycle.name if "." in cycle.name else "11.0")
    return f"5.{major}", "Generic_150400-40"


def _solaris_release(cycle: Cycle) -> str:
    if cycle.name.startswith("11"):
        name = cycle.name if "." in cycle.name else "11 11/11"
        return f"                             Oracle Solaris {name} X86\n"
    if cycle.name == "10":
        return "                    Oracle Solaris 10 1/13 s10x_u11wos_24a X86\n"
    return f"                       Solaris {cycle.name} 9/05 s9s_u8wos_05 SPARC\n"


def _exchange(cycle: Cycle) -> list[int] | None:
    """The latest build's four numbers; None before 2007 (8.x), which had neither the
    Exchange Management Shell nor ExSetup.exe."""
    parts = components(cycle.latest or "")
    if not parts or len(parts) < 3 or parts[0] < 8:
        return None
    return list(parts) + [0] * (4 - len(parts))


def _dotnetfx(cycle: Cycle) -> dict[str, Any] | None:
    from registry.windows_rules import DOTNETFX_RELEASES
    keys = {version: key for key, version in DOTNETFX_RELEASES}
    ndp = "HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\"
    if cycle.name in keys:
        return {"path": ndp + "v4\\Full", "Release": keys[cycle.name], "Install": 1}
    if cycle.name == "4.0":
        return {"path": ndp + "v4\\Full", "Version": "4.0.30319", "Install": 1}
    if cycle.name == "3.5-sp1":
        return {"path": ndp + "v3.5", "Version": "3.5.30729.4926", "SP": 1, "Install": 1}
    return None


def _reg_query(values: dict[str, Any]) -> str:
    lines = [values["path"].replace("HKLM", "HKEY_LOCAL_MACHINE")]
    for name, value in values.items():
        if name != "path":
            kind = "REG_DWORD" if isinstance(value, int) else "REG_SZ"
            lines.append(f"    {name}    {kind}    {hex(value) if kind == 'REG_DWORD' else value}")
    return "\n".join(lines) + "\n"


def _ps_table(version: str, edition: str) -> str:
    return ("\nName                           Value\n----                           -----\n"
            f"PSVersion                      {version}\nPSEdition                      {edition}\n")


# product -> {shape: observation maker (version, cycle) -> observation or None (not shown)}.
SHAPES: dict[str, dict[str, Shape]] = {
    "panos": {
        "ssh show system info": lambda v, c: ("ssh", {
            "command": "show system info", "output": f"model: PA-440\nsw-version: {v}\n"}),
        "xml api": lambda v, c: ("api", {"body": "<response status=\"success\"><result><system>"
                                                 f"<sw-version>{v}</sw-version></system></result>"
                                                 "</response>"}),
        "snmp": lambda v, c: ("snmp", {"sysDescr": "Palo Alto Networks PA-440 series firewall",
                                       "panSysSwVersion": v}),
    },
    "fortios": {
        "ssh get system status": lambda v, c: ("ssh", {
            "command": "get system status",
            "output": f"Version: FortiGate-60F v{v},build1517,230606 (GA.F)\n"}),
        "rest api": lambda v, c: ("api", {"body": {"serial": "FGT60FTK20000000",
                                                   "version": f"v{v}", "build": 1517}}),
        "snmp": lambda v, c: ("snmp", {"sysObjectID": "1.3.6.1.4.1.12356.101.1.3004",
                                       "sysDescr": "fw1", "fgSysVersion": f"v{v},build1639"}),
    },
    "big-ip": {
        "tmsh show sys version": lambda v, c: ("ssh", {
            "command": "tmsh show sys version",
            "output": f"Sys::Version\nMain Package\n  Product     BIG-IP\n  Version     {v}\n"}),
        "icontrol rest": lambda v, c: ("api", {"body": _icontrol(v)}),
        "/VERSION": lambda v, c: ("file", {"path": "/VERSION",
                                           "content": f"Product: BIG-IP\nVersion: {v}\n"}),
        "device-info": lambda v, c: ("api", {"body": {"product": "BIG-IP", "version": v}}),
    },
    "netapp-ontap": {
        "ssh version": lambda v, c: ("ssh", {"command": "version",
                                             "output": f"NetApp Release {v}P2: Mon Mar 20 2023"}),
        "rest api": lambda v, c: ("api", {"body": {"version": {
            "full": f"NetApp Release {v}P2: Mon Mar 20 2023", "generation": 9}}}),
        "snmp": lambda v, c: ("snmp", {"sysDescr": f"NetApp Release {v}: Mon Mar 20 2023"}),
    },
    "vcenter": {
        "vpxd -v": lambda v, c: ("ssh", {"command": "vpxd -v",
                                         "output": f"VMware VirtualCenter {v} build-22385739"}),
        "vsphere automation": lambda v, c: ("api", {"body": {
            "product": "VMware vCenter Server", "version": f"{v}.00100"}}),
        "vim about": lambda v, c: ("api", {"body": {"apiType": "VirtualCenter", "version": v,
                                                    "fullName": f"VMware vCenter Server {v}"}}),
        "login banner": lambda v, c: ("ssh", {"banner": f"VMware vCenter Server {v}.00100\n"}),
    },
    "cisco-ios-xe": {
        "show version": lambda v, c: ("ssh", {"command": "show version",
                                              "output": f"Cisco IOS XE Software, Version {v}\n"}),
        "restconf": lambda v, c: ("api", {"body": {"Cisco-IOS-XE-native:version": c.name}}),
    },
    "oracle-solaris": {
        "uname -a": lambda v, c: ("uname", {"output": "SunOS host {} {} sun4v sparc".format(
            *_solaris_uname(c))}),
        "uname -rv": lambda v, c: ("ssh", {"command": "uname -rv",
                                           "output": " ".join(_solaris_uname(c))}),
        "/etc/release": lambda v, c: ("file", {"path": "/etc/release",
                                               "content": _solaris_release(c)}),
    },
    "ibm-db2": {
        "db2level": lambda v, c: ("binary", {"name": "db2level", "version_output":
                                             f'Informational tokens are "DB2 v{c.name}.0.0", '
                                             '"s2209201700", and Fix Pack "0".'}),
        "service_level": lambda v, c: ("sql", {"version": f"DB2 v{c.name}.0.0"}),
    },
    "apache-subversion": {
        "svn --version": lambda v, c: ("binary", {"name": "svn",
                                                  "version_output": f"svn, version {v} (r1)\n"}),
        "svnserve over ssh": lambda v, c: ("ssh", {"command": "svnserve --version",
                                                   "output": f"svnserve, version {v} (r1)\n"}),
    },
    "msexchange": {
        "Get-ExchangeServer": lambda v, c: (lambda p: p and ("powershell", {
            "AdminDisplayVersion": f"Version {p[0]}.{p[1]} (Build {p[2]}.{p[3]})"}))(
                _exchange(c)),
        "ExSetup FileVersion": lambda v, c: (lambda p: p and ("powershell", {
            "FileVersion": f"{p[0]:02d}.{p[1]:02d}.{p[2]:04d}.{p[3]:03d}"}))(_exchange(c)),
        "Uninstall entry": lambda v, c: ("registry", {
            "DisplayName": f"Microsoft Exchange Server {c.name}"}) if c.name.isdigit() and
        len(c.name) == 4 else None,
    },
    "dotnetfx": {
        "registry values": lambda v, c: (lambda r: r and ("registry", r))(_dotnetfx(c)),
        "reg query": lambda v, c: (lambda r: r and ("registry", {"text": _reg_query(r)}))(
            _dotnetfx(c)),
    },
    "powershell": {
        "pwsh --version": lambda v, c: ("powershell", {"output": f"PowerShell {v}"}),
        "$PSVersionTable": lambda v, c: ("powershell", {"output": _ps_table(v, "Core")}),
        "registry": lambda v, c: ("registry", {
            "path": "HKLM\\SOFTWARE\\Microsoft\\PowerShellCore\\InstalledVersions\\x",
            "SemanticVersion": v}),
    },
    "windows-powershell": {
        "$PSVersionTable": lambda v, c: ("powershell", {
            "output": _ps_table(f"{c.name}.1", "Desktop")}) if c.name >= "2.0" else None,
        "registry": lambda v, c: ("registry", {
            "path": "HKLM\\SOFTWARE\\Microsoft\\PowerShell\\3\\PowerShellEngine",
            "PowerShellVersion": f"{c.name}.1"}),
    },
    "centos-stream": {
        "os-release": lambda v, c: ("os-release", {
            "NAME": "CentOS Stream", "ID": "centos", "VERSION_ID": c.name,
            "CPE_NAME": f"cpe:/o:centos:centos:{c.name}"}),
        "redhat-release": lambda v, c: ("redhat-release",
                                        {"text": f"CentOS Stream release {c.name}"}),
        "image": lambda v, c: ("container-image",
                               {"image": f"quay.io/centos/centos:stream{c.name}"}),
    },
    "centos": {
        "os-release": lambda v, c: ("os-release", {
            "NAME": "CentOS Linux", "ID": "centos", "VERSION_ID": c.name,
            "CPE_NAME": f"cpe:/o:centos:centos:{c.name}"}),
        "redhat-release": lambda v, c: ("redhat-release",
                                        {"text": f"CentOS Linux release {c.name}.2009 (Core)"}),
    },
}


def wider_generalisation() -> dict[str, Any]:
    """Every product's cycles in every shape: totals, misses and wrong products."""
    matcher, catalog = snapshot_matcher(), snapshot()
    total, wrong, misses = 0, [], []
    by_product: Counter[str] = Counter()
    hits_by_product: Counter[str] = Counter()
    for name, shapes in SHAPES.items():
        product = catalog.get(name)
        for cycle in product.cycles:
            version = _version(cycle) or cycle.name
            for shape, make in shapes.items():
                observation = make(version, cycle)
                if observation is None:
                    continue
                total += 1
                by_product[name] += 1
                found = matcher.match(*observation)
                got = None if found is None else (found.product, found.cycle)
                if got == (name, cycle.name):
                    hits_by_product[name] += 1
                    continue
                line = f"{name} {cycle.name} ({shape}, {version}) -> {got}"
                (wrong if found is not None and found.product != name else misses).append(line)
    return {"total": total, "hits": sum(hits_by_product.values()), "wrong": wrong,
            "misses": misses, "by_product": by_product, "hits_by_product": hits_by_product}


def test_wider_generalisation():
    report = wider_generalisation()
    assert report["total"] > 150
    assert report["wrong"] == []
    assert report["hits"] / report["total"] >= 0.95, report["misses"][:20]


@pytest.mark.parametrize("name", SHAPES)
def test_every_product_generalises(name):
    report = wider_generalisation()
    assert report["hits_by_product"][name] / report["by_product"][name] >= 0.9, \
        [m for m in report["misses"] if m.startswith(f"{name} ")]


if __name__ == "__main__":
    report = wider_generalisation()
    print(f"{report['hits']}/{report['total']} = {report['hits'] / report['total']:.1%}; "
          f"wrong products: {len(report['wrong'])}")
    for name, count in report["by_product"].items():
        print(f"  {name:20} {report['hits_by_product'][name]:4}/{count}")
    for line in report["wrong"] + report["misses"]:
        print("  ", line)
