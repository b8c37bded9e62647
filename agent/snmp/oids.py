"""Every object the SNMP poller reads, in one table.

Numeric OIDs only: Debian ships no IETF MIB files and pysnmp's bundled MIBs lack IF-MIB and
HOST-RESOURCES-MIB, so nothing here is resolved by name at run time. `field` is the key the
poller files a value under; sample.py turns those rows into typed samples. Adding an object
means one line here and one use in sample.py, never a new branch in the poller.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MibObject:
    field: str
    # The MIB name, for readers and messages; never looked up.
    name: str
    oid: str


# Scalars fetched with one GET (SNMPv2-MIB system group, mandatory in every agent, RFC 3418).
SYSTEM: tuple[MibObject, ...] = (
    MibObject("descr", "SNMPv2-MIB::sysDescr.0", "1.3.6.1.2.1.1.1.0"),
    MibObject("object_id", "SNMPv2-MIB::sysObjectID.0", "1.3.6.1.2.1.1.2.0"),
    # TimeTicks: hundredths of a second since the agent (not the host) started.
    MibObject("uptime", "SNMPv2-MIB::sysUpTime.0", "1.3.6.1.2.1.1.3.0"),
    MibObject("name", "SNMPv2-MIB::sysName.0", "1.3.6.1.2.1.1.5.0"),
)

# Table -> the columns walked in it; the row index is the OID suffix after the column.
TABLES: dict[str, tuple[MibObject, ...]] = {
    # IF-MIB (RFC 2863). The ifXTable columns are optional: an agent without them (or an
    # SNMPv1 session, which cannot carry Counter64) simply returns no rows for them, and
    # sample.py falls back to ifDescr and the 32-bit counters per interface.
    "interfaces": (
        MibObject("descr", "IF-MIB::ifDescr", "1.3.6.1.2.1.2.2.1.2"),
        MibObject("oper_status", "IF-MIB::ifOperStatus", "1.3.6.1.2.1.2.2.1.8"),
        MibObject("in_octets", "IF-MIB::ifInOctets", "1.3.6.1.2.1.2.2.1.10"),
        MibObject("in_discards", "IF-MIB::ifInDiscards", "1.3.6.1.2.1.2.2.1.13"),
        MibObject("in_errors", "IF-MIB::ifInErrors", "1.3.6.1.2.1.2.2.1.14"),
        MibObject("out_octets", "IF-MIB::ifOutOctets", "1.3.6.1.2.1.2.2.1.16"),
        MibObject("out_discards", "IF-MIB::ifOutDiscards", "1.3.6.1.2.1.2.2.1.19"),
        MibObject("out_errors", "IF-MIB::ifOutErrors", "1.3.6.1.2.1.2.2.1.20"),
        MibObject("name", "IF-MIB::ifName", "1.3.6.1.2.1.31.1.1.1.1"),
        MibObject("hc_in_octets", "IF-MIB::ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6"),
        MibObject("hc_out_octets", "IF-MIB::ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10"),
    ),
    # HOST-RESOURCES-MIB (RFC 2790) hrStorageTable: sizes are in allocation units.
    "storage": (
        MibObject("descr", "HOST-RESOURCES-MIB::hrStorageDescr", "1.3.6.1.2.1.25.2.3.1.3"),
        MibObject("units", "HOST-RESOURCES-MIB::hrStorageAllocationUnits",
                  "1.3.6.1.2.1.25.2.3.1.4"),
        MibObject("size", "HOST-RESOURCES-MIB::hrStorageSize", "1.3.6.1.2.1.25.2.3.1.5"),
        MibObject("used", "HOST-RESOURCES-MIB::hrStorageUsed", "1.3.6.1.2.1.25.2.3.1.6"),
    ),
    # hrProcessorTable, indexed by hrDeviceIndex: load is a percentage over the last minute.
    "processors": (
        MibObject("load", "HOST-RESOURCES-MIB::hrProcessorLoad", "1.3.6.1.2.1.25.3.3.1.2"),
    ),
}
