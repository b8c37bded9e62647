"""Text rules for network, storage and virtualisation appliances: what their CLI, SNMP agent and
management tools print about the software they run.

Plain data (TextRule tables, see registry/product_rules.py) and enterprise OIDs; no I/O, no
catalog access. Readers: registry/appliance_readers.py (ssh command output, login banners,
management-API answers), registry/device_readers.py (SNMP) and registry/os_readers.py
(hypervisors). Each pattern follows the shape the vendor documents for that command; the tests
(tests/registry/test_appliances.py) quote the documents.

Rules are tried in order and the first match wins; a rule with product None stops the search:
a known appliance the data has no product for (Junos, NX-OS, ASA, classic IOS, SonicOS, Check
Point Gaia, NetScaler, ...) is no match rather than the closest guess.
"""

from __future__ import annotations

import re

from registry.product_rules import TextRule


def _text(pattern: str, product: str | None, why: str) -> TextRule:
    return TextRule(re.compile(pattern, re.MULTILINE), product, why)


# Appliance and hypervisor products whose names, aliases and labels name them in a management
# API's or an inventory row's product field ("BIG-IP", "FortiOS", "NetApp ONTAP", "PAN-OS").
# They are OSes in the data, so the free-text token index (application names) leaves them out.
APPLIANCE_PRODUCTS = frozenset({
    "panos", "fortios", "big-ip", "netapp-ontap", "cisco-ios-xe", "routeros", "nutanix-aos",
    "esxi", "vcenter", "opnsense", "xcp-ng", "proxmox-ve",
})
# Other names the vendors use for them (platform and hardware names that print the OS's
# version: a FortiGate's version is its FortiOS's).
APPLIANCE_NAMES: dict[str, str] = {
    "pan-os": "panos", "palo alto networks": "panos", "fortigate": "fortios",
    "fortiwifi": "fortios", "f5 big-ip": "big-ip", "tmos": "big-ip", "ontap": "netapp-ontap",
    "ios xe": "cisco-ios-xe", "ios-xe": "cisco-ios-xe", "mikrotik routeros": "routeros",
    "vcenter server": "vcenter", "vmware vcenter": "vcenter",
}

# What an appliance prints at its own CLI (`show system info`, `get system status`, `tmsh show
# sys version`, `version`, `vpxd -v`) or in its login banner. A `Version` label on a line of
# its own (BIG-IP, vCenter's appliance shell) gives the version when the rule has no group.
APPLIANCE_RULES: tuple[TextRule, ...] = (
    # Known appliances without data first: their outputs can quote a product below ("Cisco
    # IOS Software" is also printed by IOS XE, which is recognised before).
    _text(r"Cisco IOS[ -]XE Software,? Version (?P<v>\d[\w.]*)", "cisco-ios-xe",
          "show version: Cisco IOS XE Software, Version 17.09.04a"),
    _text(r"Cisco IOS[ -]XE|\bIOSXE\b|\bIOS-XE\b", "cisco-ios-xe", "IOS XE names itself"),
    _text(r"Cisco Adaptive Security Appliance|Cisco NX-OS|Cisco Nexus Operating System|"
          r"Cisco IOS Software|Cisco IOS XR|Cisco Firepower", None,
          "classic IOS, IOS XR, ASA, NX-OS, FTD: not in the data"),
    _text(r"\bJUNOS\b|\bJunos:|Juniper Networks", None, "Junos: not in the data"),
    _text(r"SonicOS|SonicWall|Check Point|\bGaia\b|NetScaler|Citrix ADC|ArubaOS|"
          r"Aruba ?OS-?(CX|Switch)|ProCurve|Comware|FortiAnalyzer|FortiManager|FortiWeb|"
          r"FortiMail|FortiProxy|BIG-IQ|Synology|QNAP|TrueNAS",
          None, "other appliances: not in the data"),
    # PAN-OS `show system info` and the XML API's <system> answer carry sw-version.
    _text(r"^\s*sw-version:\s*(?P<v>\d[\w.-]*)", "panos", "show system info: sw-version"),
    _text(r"<sw-version>\s*(?P<v>\d[\w.-]*)\s*</sw-version>", "panos",
          "XML API op <show><system><info>"),
    _text(r"\bPAN-OS (?:version )?(?P<v>\d+\.\d+[\w.-]*)", "panos", "PAN-OS 10.2.4"),
    # FortiOS `get system status`: "Version: FortiGate-60F v7.2.5,build1517,230606 (GA.F)".
    _text(r"^\s*Version:\s*Forti(?:Gate|WiFi)[\w-]*\s+v(?P<v>\d[\d.]*)", "fortios",
          "get system status"),
    _text(r"\bFortiOS v?(?P<v>\d+\.\d+[\d.]*)", "fortios", "FortiOS 7.2.5"),
    # BIG-IP `tmsh show sys version` (Product / Version lines) and /VERSION (Product: BIG-IP).
    _text(r"^\s*Product:?\s+BIG-IP\s*$", "big-ip", "tmsh show sys version, /VERSION"),
    _text(r"\bBIG-IP (?:v(?:ersion)?\s*)?(?P<v>\d+\.\d+[\d.]*)", "big-ip", "BIG-IP 16.1.3.4"),
    # ONTAP `version`: "NetApp Release 9.12.1P2: Mon Mar 20 15:31:22 UTC 2023".
    _text(r"NetApp Release (?P<v>\d[\w.]*)", "netapp-ontap", "ONTAP version"),
    # vCenter: `vpxd -v` (VMware VirtualCenter 8.0.2 build-...), the appliance's login banner
    # and about.fullName (VMware vCenter Server 8.0.2 build-...), the appliance shell's
    # `system.version.get` (Product: VMware vCenter Server / Version: 8.0.2.00100).
    _text(r"VMware (?:vCenter Server|VirtualCenter)(?: Appliance)? (?P<v>\d[\w.]*)", "vcenter",
          "vpxd -v, about.fullName, login banner"),
    _text(r"^\s*Product:\s*VMware vCenter Server\s*$", "vcenter", "system.version.get"),
    _text(r"VMware ESXi (?P<v>\d[\w.]*)", "esxi", "vmware -vl, about.fullName"),
    _text(r"^\s*Product:\s*VMware ESXi\s*$", "esxi", "esxcli system version get"),
    _text(r"\bRouterOS v?(?P<v>\d+\.\d+[\w.]*)", "routeros", "MikroTik RouterOS 7.12.1"),
    _text(r"^\s*OPNsense (?P<v>\d+\.\d+[\w.]*)", "opnsense", "opnsense-version"),
    # Nutanix AOS full version (/etc/nutanix/release_version, Prism's full_version):
    # el7.3-release-fraser-6.5.2-stable-<commit>.
    _text(r"\bel\d+(?:\.\d+)?-release-[a-z0-9]+-(?P<v>\d+\.\d+[\d.]*)-stable\b", "nutanix-aos",
          "AOS full version"),
    _text(r"\(Oracle Solaris (?P<v>1\d\.\d[\d.]*)\)", "oracle-solaris",
          "pkg info entire: Version: 11.4 (Oracle Solaris 11.4.42.111.0)"),
)

# SNMP sysDescr. Checked in order; a None product stops the search (a known device family the
# data does not cover).
SNMP_RULES: tuple[TextRule, ...] = (
    _text(r"Cisco IOS[ -]XE|IOSXE|IOS-XE", "cisco-ios-xe", "IOS XE (not classic IOS)"),
    _text(r"Cisco Adaptive Security Appliance|Cisco NX-OS|Cisco IOS Software|Cisco IOS\b",
          None, "classic IOS, ASA, NX-OS: not in the data"),
    _text(r"RouterOS|MikroTik", "routeros", "MikroTik RouterOS"),
    _text(r"NetApp Release (?P<v>\d[\w.]*)", "netapp-ontap", "ONTAP"),
    _text(r"VMware ESXi (?P<v>\d[\w.]*)", "esxi", "ESXi"),
    _text(r"Palo Alto Networks", "panos", "PAN-OS"),
    _text(r"FortiGate|Fortinet|FortiOS", "fortios", "FortiOS"),
    _text(r"BIG-IP", "big-ip", "F5 BIG-IP"),
    _text(r"OPNsense", "opnsense", "OPNsense"),
    _text(r"Juniper|JUNOS|ProCurve|Aruba|Synology|HPE? Comware|SonicWall|SonicOS|NetScaler",
          None, "not in the data"),
)
# sysObjectID enterprise prefixes -> product, for devices whose sysDescr names no product.
SNMP_ENTERPRISES: dict[str, str | None] = {
    "1.3.6.1.4.1.14988": "routeros",  # MikroTik
    "1.3.6.1.4.1.12356": "fortios",  # Fortinet
    "1.3.6.1.4.1.25461": "panos",  # Palo Alto Networks
    "1.3.6.1.4.1.3375": "big-ip",  # F5
    "1.3.6.1.4.1.789": "netapp-ontap",  # NetApp
    "1.3.6.1.4.1.2636": None,  # Juniper
    "1.3.6.1.4.1.8741": None,  # SonicWall
}

# `esxcli`, `vmware -vl`, `pveversion`, vCenter and other hypervisor version texts.
HYPERVISOR_RULES: tuple[TextRule, ...] = (
    _text(r"VMware ESXi (?P<v>\d[\w.]*)", "esxi", "vmware -vl"),
    _text(r"^\s*Product: VMware ESXi", "esxi", "esxcli system version get"),
    _text(r"VMware (?:vCenter Server|VirtualCenter)(?: Appliance)? (?P<v>\d[\w.]*)", "vcenter",
          "vpxd -v (VMware VirtualCenter 8.0.2 build-...), about.fullName"),
    _text(r"^\s*Product:\s*VMware vCenter Server\s*$", "vcenter", "system.version.get"),
    _text(r"^proxmox-ve: (?P<v>\d[\w.]*)", "proxmox-ve", "pveversion -v"),
    _text(r"pve-manager[/:] ?(?P<v>\d[\w.]*)", "proxmox-ve", "pveversion"),
    _text(r"proxmox-backup-server:? (?P<v>\d[\w.]*)", "proxmox-backup-server",
          "proxmox-backup-manager versions"),
    _text(r"^XCP-ng release (?P<v>\d[\w.]*)", "xcp-ng", "/etc/xcp-ng-release"),
)
